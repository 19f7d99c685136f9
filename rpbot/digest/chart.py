"""One PNG per family: the 0-10 scale by week and activities completed by week (matplotlib, Agg).

Figures are made with matplotlib's object API (no pyplot, no global state), so charts can be
drawn in a worker thread while the bot keeps answering people.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from datetime import datetime

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure

from rpbot.digest.model import FamilyDigest
from rpbot.digest.text import local

BLUE = "#1f5f99"
GREEN = "#2e7d4f"
LIGHT = "#cfe3d6"
GREY = "#5f6b76"


def week_labels(week_starts: Sequence[datetime], tz: str) -> list[str]:
    """'16 Nov' for each week's first day, in the practitioner's timezone."""
    return [local(w, tz).strftime("%d %b").lstrip("0") for w in week_starts]


def chart_png(family: FamilyDigest, week_starts: Sequence[datetime], tz: str) -> bytes:
    """The family's chart as PNG bytes (640 × 400 pixels)."""
    figure = Figure(figsize=(6.4, 4.0), dpi=100)
    FigureCanvasAgg(figure)
    top, bottom = figure.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    labels = week_labels(week_starts, tz)
    x = list(range(len(labels)))
    scale = [math.nan if v is None else v for v in family.scale.weeks]
    top.plot(x, scale, marker="o", color=BLUE, linewidth=2)
    top.set_ylim(-0.5, 10.5)
    top.set_yticks([0, 5, 10])
    top.set_ylabel("Scale 0-10", color=GREY)
    top.set_title(f"{family.name} family", loc="left", fontsize=11)
    top.grid(axis="y", alpha=0.3)
    if all(math.isnan(v) for v in scale):
        top.text(
            0.5,
            0.5,
            "No check-in scale yet",
            ha="center",
            va="center",
            transform=top.transAxes,
            color=GREY,
        )
    started = [s for _, s in family.completion_weeks]
    done = [d for d, _ in family.completion_weeks]
    bottom.bar(x, started, color=LIGHT, label="started")
    bottom.bar(x, done, color=GREEN, label="completed")
    bottom.set_ylabel("Activities", color=GREY)
    bottom.legend(loc="upper left", fontsize=8, frameon=False, ncols=2)
    bottom.set_xticks(x, labels, fontsize=8)
    bottom.set_ylim(0, max([*started, 1]) * 1.3)
    for axes in (top, bottom):
        axes.spines[["top", "right"]].set_visible(False)
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    return buffer.getvalue()


def chart_alt(family: FamilyDigest) -> str:
    """A text description of the chart, for screen readers and the photo's caption."""
    scale = [v for v in family.scale.weeks if v is not None]
    done = sum(d for d, _ in family.completion_weeks)
    started = sum(s for _, s in family.completion_weeks)
    text = f"{family.name} family: {done} of {started} activities completed over the weeks shown"
    if scale:
        text += "; scale by week " + ", ".join(f"{v:g}" for v in scale)
    return text + "."
