"""One PNG per family: the 0-10 scale by week and activities completed by week (matplotlib, Agg).

Figures use matplotlib's object API (no pyplot, no global state). Laying out and drawing axes,
ticks and labels costs far more than the data, and every family of one digest shares them
(the same weeks, the same bar scale). So each thread keeps one figure: the frame is drawn once
per digest and kept as a bitmap; each family's chart restores it and draws only its own
artists (the scale line, the bars, the title) on top, matplotlib's "blitting".
"""

from __future__ import annotations

import io
import math
import threading
from collections.abc import Sequence
from datetime import datetime

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch, Rectangle
from PIL import Image

from rpbot.digest.model import FamilyDigest
from rpbot.digest.text import local

BLUE = "#1f5f99"
GREEN = "#2e7d4f"
LIGHT = "#cfe3d6"
GREY = "#5f6b76"
_local = threading.local()


def week_labels(week_starts: Sequence[datetime], tz: str) -> list[str]:
    """'16 Nov' for each week's first day, in the practitioner's timezone."""
    return [local(w, tz).strftime("%d %b").lstrip("0") for w in week_starts]


def bar_scale(families: Sequence[FamilyDigest]) -> int:
    """One bar scale for every chart of a digest (the most activities started in a week)."""
    return max((s for f in families for _, s in f.completion_weeks), default=0)


class _Template:
    """A figure laid out once; its frame is redrawn only when the weeks or scale change."""

    def __init__(self) -> None:
        self.figure = Figure(figsize=(6.4, 4.0), dpi=100)
        self.canvas = FigureCanvasAgg(self.figure)
        self.figure.subplots_adjust(left=0.1, right=0.97, top=0.9, bottom=0.1, hspace=0.15)
        top, bottom = self.figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
        self.top: Axes = top
        self.bottom: Axes = bottom
        (self.line,) = top.plot([], [], marker="o", color=BLUE, linewidth=2, animated=True)
        top.set_ylim(-0.5, 10.5)
        top.set_yticks([0, 5, 10])
        top.set_ylabel("Scale 0-10", color=GREY)
        top.grid(axis="y", alpha=0.3)
        self.title = top.set_title("", loc="left", fontsize=11)
        self.title.set_animated(True)
        self.empty = top.text(
            0.5,
            0.5,
            "No check-in scale yet",
            ha="center",
            va="center",
            transform=top.transAxes,
            color=GREY,
            animated=True,
        )
        bottom.set_ylabel("Activities", color=GREY)
        handles = [Patch(color=LIGHT, label="started"), Patch(color=GREEN, label="completed")]
        bottom.legend(handles=handles, loc="upper left", fontsize=8, frameon=False, ncols=2)
        for axes in (top, bottom):
            axes.spines[["top", "right"]].set_visible(False)
        self.frame_key: tuple[object, ...] | None = None
        self.frame: object = None
        self.bars: list[tuple[Rectangle, Rectangle]] = []

    def _frame(self, labels: list[str], scale_max: int) -> None:
        key = (tuple(labels), scale_max)
        if key == self.frame_key:
            return
        x = list(range(len(labels)))
        while len(self.bars) < len(x):  # one started and one completed bar per week
            i = len(self.bars)
            pair = tuple(
                Rectangle((i - 0.4, 0), 0.8, 0, color=colour, animated=True)
                for colour in (LIGHT, GREEN)
            )
            for patch in pair:
                self.bottom.add_patch(patch)
            self.bars.append((pair[0], pair[1]))
        self.bottom.set_xticks(x, labels, fontsize=8)
        self.bottom.set_xlim(-0.6, len(x) - 0.4)
        self.bottom.set_ylim(0, max(scale_max, 1) * 1.3)
        self.canvas.draw()  # type: ignore[no-untyped-call]  # everything not animated: axes, ticks, labels, legend
        self.frame = self.canvas.copy_from_bbox(self.figure.bbox)  # type: ignore[no-untyped-call]
        self.frame_key = key

    def draw(self, family: FamilyDigest, labels: list[str], scale_max: int) -> bytes:
        self._frame(labels, scale_max)
        self.canvas.restore_region(self.frame)  # type: ignore[no-untyped-call]
        x = list(range(len(labels)))
        scale = [math.nan if v is None else v for v in family.scale.weeks]
        self.line.set_data(x, scale)
        self.top.draw_artist(self.line)
        if all(math.isnan(v) for v in scale):
            self.top.draw_artist(self.empty)
        self.title.set_text(f"{family.name} family")
        self.top.draw_artist(self.title)
        for (started, done), (light, green) in zip(
            family.completion_weeks, self.bars, strict=False
        ):
            light.set_height(started)
            green.set_height(done)
            self.bottom.draw_artist(light)
            self.bottom.draw_artist(green)
        width, height = self.canvas.get_width_height()
        pixels = self.canvas.buffer_rgba()  # type: ignore[no-untyped-call]
        image = Image.frombuffer("RGBA", (width, height), pixels, "raw", "RGBA", 0, 1)
        buffer = io.BytesIO()
        image.convert("RGB").save(buffer, format="PNG", compress_level=1)
        return buffer.getvalue()


def chart_png(
    family: FamilyDigest, week_starts: Sequence[datetime], tz: str, scale_max: int | None = None
) -> bytes:
    """The family's chart as PNG bytes (640 × 400 pixels).

    ``scale_max``: the bar scale shared by a digest's charts (see :func:`bar_scale`); by
    default this family's own.
    """
    template = getattr(_local, "template", None)
    if template is None:
        template = _local.template = _Template()
    top = bar_scale([family]) if scale_max is None else scale_max
    return template.draw(family, week_labels(week_starts, tz), top)


def chart_alt(family: FamilyDigest) -> str:
    """A text description of the chart, for screen readers and the photo's caption."""
    scale = [v for v in family.scale.weeks if v is not None]
    done = sum(d for d, _ in family.completion_weeks)
    started = sum(s for _, s in family.completion_weeks)
    text = f"{family.name} family: {done} of {started} activities completed over the weeks shown"
    if scale:
        text += "; scale by week " + ", ".join(f"{v:g}" for v in scale)
    return text + "."
