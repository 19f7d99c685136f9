"""Digest benchmark: build every practitioner's weekly digest for 1,000 families.

The database (SQLite in a temporary folder, or ``--db PATH`` to keep and reuse one) is filled
by the demo seeder (``rpbot.demo.seed_demo``, through the real services) with ``--families``
families over ``--weeks`` weeks, ``--per-practitioner`` families per practitioner. Then, per
practitioner, the digest is built exactly as the bot builds it: one read of the rows
(:meth:`Digests.report`), the text messages and the HTML report, and one chart per family.

Printed: ms per family for reading + text + HTML, ms per family for the chart, total time,
and peak RSS of this process (which holds the seeder's work too, so it is an upper bound).
Targets (issue 5): text+HTML under 30 ms per family, chart under 100 ms, peak RSS under 400 MB.

    uv run python bench/digest.py                    # 1000 families, 4 weeks
    uv run python bench/digest.py --families 100 --db /tmp/digest-bench.db
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from rpbot.demo import seed_demo
from rpbot.dialogues import default_library
from rpbot.digest.chart import bar_scale, chart_png
from rpbot.digest.report_html import render_html
from rpbot.digest.text import family_messages, overview
from rpbot.services.digests import Digests
from rpbot.storage.db import Database, upgrade

END = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)  # a Monday, 08:30 London


def peak_rss_mb() -> float:
    """Peak resident memory of this process (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


async def seed(url: str, families: int, weeks: int, per: int) -> float:
    started = time.perf_counter()
    db = Database(url)
    try:
        await seed_demo(
            db,
            default_library(),
            families=families,
            weeks=weeks,
            seed=1,
            practitioners=max(1, families // per),
            end=END,
        )
    finally:
        await db.dispose()
    return time.perf_counter() - started


async def build(url: str) -> tuple[int, float, float, int]:
    """Build every digest; (families, text+HTML seconds, chart seconds, messages)."""
    digests = Digests(default_library())
    db = Database(url)
    families = messages = 0
    text_s = chart_s = 0.0
    try:
        async with db.transaction() as repos:
            practitioners = await repos.practitioners.all()
        for practitioner in practitioners:
            t0 = time.perf_counter()
            async with db.transaction() as repos:
                report = await digests.report(repos, practitioner, END - timedelta(days=7), END)
            texts = overview(report)
            for family in report.families:
                texts += family_messages(family, report.timezone)
            t1 = time.perf_counter()
            top = bar_scale(report.families)
            charts = {
                f.family_id: chart_png(f, report.week_starts, report.timezone, top)
                for f in report.families
            }
            t2 = time.perf_counter()
            render_html(report, charts)
            t3 = time.perf_counter()
            text_s += (t1 - t0) + (t3 - t2)
            chart_s += t2 - t1
            families += len(report.families)
            messages += len(texts)
    finally:
        await db.dispose()
    return families, text_s, chart_s, messages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--families", type=int, default=1000)
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--per-practitioner", type=int, default=25)
    parser.add_argument("--db", type=Path, help="keep the seeded SQLite file here (reused)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="digest-bench-") as folder:
        path = args.db or Path(folder) / "bench.db"
        url = f"sqlite+aiosqlite:///{path}"
        if not path.exists():
            upgrade(url)
            seconds = asyncio.run(seed(url, args.families, args.weeks, args.per_practitioner))
            print(f"seeded {args.families} families x {args.weeks} weeks in {seconds:.1f} s")
        else:
            print(f"reusing {path}")
        started = time.perf_counter()
        families, text_s, chart_s, messages = asyncio.run(build(url))
        total = time.perf_counter() - started
    per_text, per_chart = 1000 * text_s / families, 1000 * chart_s / families
    rss = peak_rss_mb()
    print(f"{families} families, {messages} Telegram messages, total {total:.1f} s")
    print(
        f"  read + text + HTML: {per_text:.1f} ms per family (target < 30: "
        f"{'met' if per_text < 30 else 'NOT met'})"
    )
    print(
        f"  chart:              {per_chart:.1f} ms per family (target < 100: "
        f"{'met' if per_chart < 100 else 'NOT met'})"
    )
    print(f"  peak RSS:           {rss:.0f} MB (target < 400: {'met' if rss < 400 else 'NOT met'})")


if __name__ == "__main__":
    main()
