"""One PNG per family: the 0-10 scale by week and activities completed by week (matplotlib, Agg).

Figures use matplotlib's object API (no pyplot, no global state). Drawing a figure from
scratch costs far more than the pixels, so each thread keeps one figure with its axes laid out
once (fixed margins, no tight_layout) and only swaps the data, the title and the labels.
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


class _Template:
    """A figure laid out once; each chart replaces its data."""

    def __init__(self) -> None:
        self.figure = Figure(figsize=(6.4, 4.0), dpi=100)
        FigureCanvasAgg(self.figure)
        self.figure.subplots_adjust(left=0.1, right=0.97, top=0.9, bottom=0.1, hspace=0.15)
        top, bottom = self.figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
        self.top: Axes = top
        self.bottom: Axes = bottom
        (self.line,) = top.plot([], [], marker="o", color=BLUE, linewidth=2)
        top.set_ylim(-0.5, 10.5)
        top.set_yticks([0, 5, 10])
        top.set_ylabel("Scale 0-10", color=GREY)
        top.grid(axis="y", alpha=0.3)
        self.title = top.set_title("", loc="left", fontsize=11)
        self.empty = top.text(
            0.5,
            0.5,
            "No check-in scale yet",
            ha="center",
            va="center",
            transform=top.transAxes,
            color=GREY,
        )
        bottom.set_ylabel("Activities", color=GREY)
        for axes in (top, bottom):
            axes.spines[["top", "right"]].set_visible(False)
        self.bars: list[object] = []

    def draw(self, family: FamilyDigest, labels: list[str]) -> bytes:
        x = list(range(len(labels)))
        scale = [math.nan if v is None else v for v in family.scale.weeks]
        self.line.set_data(x, scale)
        self.empty.set_visible(all(math.isnan(v) for v in scale))
        self.title.set_text(f"{family.name} family")
        for container in self.bars:
            container.remove()  # type: ignore[attr-defined]
        started = [s for _, s in family.completion_weeks]
        done = [d for d, _ in family.completion_weeks]
        self.bars = [
            self.bottom.bar(x, started, color=LIGHT, label="started"),
            self.bottom.bar(x, done, color=GREEN, label="completed"),
        ]
        self.bottom.legend(loc="upper left", fontsize=8, frameon=False, ncols=2)
        self.bottom.set_xticks(x, labels, fontsize=8)
        self.bottom.set_xlim(-0.6, len(x) - 0.4)
        self.bottom.set_ylim(0, max([*started, 1]) * 1.3)
        buffer = io.BytesIO()
        self.figure.savefig(buffer, format="png", pil_kwargs={"compress_level": 1})
        return buffer.getvalue()


def chart_png(family: FamilyDigest, week_starts: Sequence[datetime], tz: str) -> bytes:
    """The family's chart as PNG bytes (640 × 400 pixels)."""
    template = getattr(_local, "template", None)
    if template is None:
        template = _local.template = _Template()
    return template.draw(family, week_labels(week_starts, tz))


def chart_alt(family: FamilyDigest) -> str:
    """A text description of the chart, for screen readers and the photo's caption."""
    scale = [v for v in family.scale.weeks if v is not None]
    done = sum(d for d, _ in family.completion_weeks)
    started = sum(s for _, s in family.completion_weeks)
    text = f"{family.name} family: {done} of {started} activities completed over the weeks shown"
    if scale:
        text += "; scale by week " + ", ".join(f"{v:g}" for v in scale)
    return text + "."
