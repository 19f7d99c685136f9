"""Digest benchmark: build every practitioner's weekly digest for 1,000 families.

The database (SQLite in a temporary folder, or ``--db PATH`` to keep and reuse one) is filled
by the demo seeder (``rpbot.demo.seed_demo``, through the real services) with ``--seeded``
families over ``--weeks`` weeks, ``--per-practitioner`` families per practitioner; their rows
are then copied (new ids) until there are ``--families`` families. The seeder drives every
answer through the services, which costs seconds per family-month; the digest only reads
rows, so copies measure it just as well. Then, per
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

from sqlalchemy import insert, select
from sqlalchemy.ext.asyncio import create_async_engine
from sqlmodel import SQLModel

from rpbot.demo import seed_demo
from rpbot.dialogues import default_library
from rpbot.digest.chart import bar_scale, chart_png
from rpbot.digest.report_html import render_html
from rpbot.digest.text import family_messages, overview
from rpbot.services.digests import Digests
from rpbot.storage.db import Database, normalise_url, upgrade

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


# Tables a digest reads, in foreign-key order, and the columns that hold ids to shift.
CLONED = {
    "practitioners": ("id", "telegram_user_id", "chat_id"),
    "families": ("id", "practitioner_id"),
    "members": ("id", "family_id", "telegram_user_id", "chat_id"),
    "flow_runs": ("id", "member_id", "family_id"),
    "answers": ("id", "run_id", "member_id", "family_id"),
    "schedules": ("id", "member_id"),
    "reminders": ("id", "schedule_id", "member_id"),
    "safeguarding_alerts": ("id", "family_id", "member_id", "practitioner_id"),
}
SHIFT = 10_000_000


async def clone(url: str, copies: int) -> None:
    """Copy every seeded practitioner, family and their rows ``copies - 1`` more times.

    Ids (and Telegram ids) move by a fixed offset per copy, so each copy is a separate
    caseload with the same realistic content. Digests only read these rows.
    """
    engine = create_async_engine(normalise_url(url))
    try:
        async with engine.begin() as connection:
            tables = SQLModel.metadata.tables
            source = {
                name: [
                    dict(row) for row in (await connection.execute(select(tables[name]))).mappings()
                ]
                for name in CLONED
            }
            for copy in range(1, copies):
                for name, columns in CLONED.items():
                    rows = [
                        {
                            key: (
                                value + copy * SHIFT
                                if key in columns and value is not None
                                else value
                            )
                            for key, value in row.items()
                        }
                        for row in source[name]
                    ]
                    if rows:
                        await connection.execute(insert(tables[name]), rows)
    finally:
        await engine.dispose()


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
    parser.add_argument(
        "--seeded",
        type=int,
        default=20,
        help="families made by the demo seeder; the rest are copies of them",
    )
    parser.add_argument("--weeks", type=int, default=4)
    parser.add_argument("--per-practitioner", type=int, default=20)
    parser.add_argument("--db", type=Path, help="keep the seeded SQLite file here (reused)")
    args = parser.parse_args()
    seeded = min(args.seeded, args.families)
    copies = -(-args.families // seeded)
    with tempfile.TemporaryDirectory(prefix="digest-bench-") as folder:
        path = args.db or Path(folder) / "bench.db"
        url = f"sqlite+aiosqlite:///{path}"
        if not path.exists():
            upgrade(url)
            seconds = asyncio.run(seed(url, seeded, args.weeks, args.per_practitioner))
            print(
                f"seeded {seeded} families x {args.weeks} weeks through the real services "
                f"in {seconds:.1f} s"
            )
            if copies > 1:
                asyncio.run(clone(url, copies))
                print(f"copied them {copies - 1} times: {seeded * copies} families")
        else:
            upgrade(url)  # a file kept from an older version gets the newer tables
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
