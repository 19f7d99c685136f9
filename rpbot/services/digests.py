"""Weekly practitioner digests: when they are due, what goes in them, how they are sent.

A digest is a row. The sweep (1) works out which practitioners' digests have come due and
records each once (a unique weekly row, so two processes never send a week twice), then (2)
claims pending digests, reads their families' rows in one short transaction, renders text,
charts and HTML **outside** any transaction (in a worker thread: matplotlib is CPU-bound),
and (3) queues every message to the outbox in a last transaction that first checks the
digest is still theirs. A crash between the steps leaves the digest pending; its claim lapses
and the next sweep builds it again.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rpbot.digest.build import build_report, history_start
from rpbot.digest.chart import bar_scale, chart_alt, chart_png
from rpbot.digest.model import DigestReport, FamilyDigest
from rpbot.digest.report_html import render_html
from rpbot.digest.text import family_messages, overview
from rpbot.engine import Library
from rpbot.engine.model import AskStep
from rpbot.engine.text import pick_language
from rpbot.scheduling.rules import Rule, RuleError, next_occurrence
from rpbot.services.agreements import with_chore_lines
from rpbot.services.outbox import Outbox
from rpbot.services.plans import Plans, with_programme
from rpbot.storage.db import Database
from rpbot.storage.repos import Repos
from rpbot.storage.tables import Digest, OutboxMessage, Practitioner

log = logging.getLogger(__name__)

WEEK = timedelta(days=7)
LEASE = timedelta(minutes=10)
LATE = timedelta(days=1)
MAX_ATTEMPTS = 5
CAPTION_MAX = 1024  # Telegram's limit for a photo or document caption


class LibraryVocabulary:
    """Flow titles and option labels from the dialogue library (English)."""

    def __init__(self, library: Library) -> None:
        self.library = library

    def title(self, flow_id: str) -> str:
        """The flow's title, or its id if the flow is gone."""
        flow = self.library.get(flow_id)
        return pick_language(flow.title, "en") if flow is not None else flow_id

    def label(self, flow_id: str, name: str, value: str) -> str:
        """The label of the option ``value`` of the question saved as ``name``."""
        flow = self.library.get(flow_id)
        for step in flow.steps.values() if flow is not None else ():
            if isinstance(step, AskStep) and (step.save or "") == name and step.options:
                for option in step.options:
                    if not isinstance(option, str) and option.value == value:
                        return pick_language(option.label, "en")
        return value.replace("_", " ")


@dataclass(frozen=True)
class RenderedFamily:
    """One family's messages and chart."""

    family: FamilyDigest
    messages: list[str]
    chart: bytes | None


@dataclass(frozen=True)
class RenderedDigest:
    """Everything sent for one digest."""

    report: DigestReport
    overview: list[str]
    families: list[RenderedFamily]
    html: str

    @property
    def filename(self) -> str:
        """'digest-2026-11-16.html' (the period's first day)."""
        return (
            f"digest-{self.report.start.astimezone(ZoneInfo(self.report.timezone)):%Y-%m-%d}.html"
        )


def render(report: DigestReport, *, charts: bool = True) -> RenderedDigest:
    """Text messages, a chart per family and the HTML report (CPU-bound; no I/O)."""
    families = []
    scale_max = bar_scale(report.families)
    for family in report.families:
        png = chart_png(family, report.week_starts, report.timezone, scale_max) if charts else None
        families.append(RenderedFamily(family, family_messages(family, report.timezone), png))
    pngs = {f.family.family_id: f.chart for f in families if f.chart is not None}
    return RenderedDigest(report, overview(report), families, render_html(report, pngs))


def next_digest_time(practitioner: Practitioner, after: datetime) -> datetime:
    """When the practitioner's next weekly digest is due (their days, time and timezone)."""
    try:
        rule = Rule.parse(practitioner.digest_days, practitioner.digest_time)
    except RuleError:  # a bad value never stops digests: fall back to the default
        rule = Rule.parse("mon", "08:30")
    return next_occurrence(rule, practitioner.timezone, after)


def iso_week_period(week: str, tz: str) -> tuple[datetime, datetime]:
    """[Monday 00:00, next Monday 00:00) local time of an ISO week such as '2026-W47'."""
    try:
        year, number = week.upper().split("-W")
        monday = datetime.fromisocalendar(int(year), int(number), 1)
    except ValueError as exc:
        raise ValueError(f"{week!r} is not an ISO week; write it like 2026-W47") from exc
    start = monday.replace(tzinfo=ZoneInfo(tz))
    end = (monday + WEEK).replace(tzinfo=ZoneInfo(tz))
    return start, end


class Digests:
    """Schedules, builds and queues practitioners' digests."""

    def __init__(self, library: Library, *, charts: bool = True) -> None:
        self.library = library
        self.vocabulary = LibraryVocabulary(library)
        self.plans = Plans(library)
        self.charts = charts

    async def schedule_due(self, repos: Repos, now: datetime) -> int:
        """Record the weekly digests that have come due; return how many were new."""
        for practitioner in await repos.digests.unscheduled_practitioners():
            # From when they joined: a digest that fell due before the first sweep still comes.
            practitioner.digest_next_at = next_digest_time(practitioner, practitioner.created_at)
            await repos.practitioners.save(practitioner)
        new = 0
        for practitioner in await repos.digests.due_practitioners(now):
            due = practitioner.digest_next_at or now
            # Late by more than a day (the bot was down): cover the last 7 days, not an old week.
            end = now if now - due > LATE else due
            digest = await repos.digests.add(
                practitioner.id or 0, "weekly", end - WEEK, end, due, now
            )
            new += digest is not None
            practitioner.digest_next_at = next_digest_time(practitioner, max(due, now))
            await repos.practitioners.save(practitioner)
        return new

    async def request(
        self, repos: Repos, practitioner: Practitioner, now: datetime, family_id: int | None = None
    ) -> Digest | None:
        """Record an on-demand digest of the last 7 days (optionally one family)."""
        return await repos.digests.add(
            practitioner.id or 0, "on_demand", now - WEEK, now, now, now, family_id=family_id
        )

    async def report(
        self,
        repos: Repos,
        practitioner: Practitioner,
        start: datetime,
        end: datetime,
        family_id: int | None = None,
    ) -> DigestReport:
        """Read the rows and build the report (no rendering)."""
        rows = await repos.digest_source.rows(
            practitioner.id or 0, start, end, history_start(end), family_id
        )
        report = build_report(
            rows,
            practitioner=practitioner.name,
            timezone=practitioner.timezone,
            start=start,
            end=end,
            vocabulary=self.vocabulary,
        )
        report = await with_chore_lines(repos, report, start, end)  # the agreement's chores
        return await with_programme(repos, self.plans, report, start, end)  # plans, circles

    async def queue(self, out: Outbox, chat_id: int, rendered: RenderedDigest) -> None:
        """Queue the overview, each family's messages and chart, then the HTML file."""
        for text in rendered.overview:
            await out.send(chat_id, text, html=True)
        for family in rendered.families:
            for text in family.messages:
                await out.send(chat_id, text, html=True)
            if family.chart is not None:
                caption = chart_alt(family.family)[:CAPTION_MAX]
                await out.photo(chat_id, family.chart, caption, filename="chart.png")
        if rendered.report.families:
            await out.document(
                chat_id,
                rendered.filename,
                rendered.html,
                "The full report: open it on your phone, or print it.",
            )


def chat_of(practitioner: Practitioner) -> int:
    """Where a practitioner's messages go (a private chat's id is the user's id)."""
    return practitioner.chat_id or practitioner.telegram_user_id


class DigestRunner:
    """Runs the digest steps against the database: due → claimed → rendered → queued."""

    def __init__(self, db: Database, digests: Digests, worker: str | None) -> None:
        self.db = db
        self.digests = digests
        self.worker = worker or "local"

    async def run(self, now: datetime) -> list[OutboxMessage]:
        """Schedule what has come due, then build and queue pending digests; return the rows."""
        async with self.db.transaction() as repos:
            await self.digests.schedule_due(repos, now)
            claimed = await repos.digests.claim(self.worker, now, LEASE)
            jobs = []
            for digest in claimed:
                practitioner = await repos.practitioners.by_id(digest.practitioner_id)
                if practitioner is None or digest.attempts > MAX_ATTEMPTS:
                    digest.status = "failed"
                    await repos.digests.save(digest)
                    continue
                report = await self.digests.report(
                    repos, practitioner, digest.period_start, digest.period_end, digest.family_id
                )
                jobs.append((digest.id or 0, chat_of(practitioner), report))
        rows: list[OutboxMessage] = []
        for digest_id, chat_id, report in jobs:
            rendered = await asyncio.to_thread(render, report, charts=self.digests.charts)
            rows += await self._queue(digest_id, chat_id, rendered, now)
        return rows

    async def _queue(
        self, digest_id: int, chat_id: int, rendered: RenderedDigest, now: datetime
    ) -> list[OutboxMessage]:
        async with self.db.transaction() as repos:
            digest = await repos.digests.by_id(digest_id, lock=True)
            if digest is None or digest.status != "pending" or digest.claimed_by != self.worker:
                log.info("digest %s was taken over by another worker; not queued", digest_id)
                return []
            out = Outbox(repos, now, self.worker)
            await self.digests.queue(out, chat_id, rendered)
            digest.status, digest.queued_at = "queued", now
            digest.families = len(rendered.families)
            await repos.digests.save(digest)
            await repos.audit.record(
                now,
                "system",
                None,
                "digest_queued",
                "digest",
                digest_id,
                f"{digest.kind}; {digest.families} families",
            )
            log.info("digest %s queued: %s families", digest_id, digest.families)
            return out.rows
