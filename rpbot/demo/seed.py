"""Filling a database with demo families through the real services, in simulated time.

Order of events, all on a :class:`~rpbot.clock.FakeClock`:

1. On the first day the practitioners are added (``enrolment.add_practitioner``), each family
   is created with an invite per member (``create_family``, ``create_invite``), and every
   member joins by sending ``/start <code>`` through :meth:`UpdateRouter.handle` (the real
   redeem path: default reminders and quiet hours are set as for a real person).
2. Then, in time order: the planned actions of every family (through
   :class:`~rpbot.services.family_desk.FamilyDesk`, one transaction per family for each
   stretch between two sweeps, i.e. a few per family-day) and the bot's sweep
   (:meth:`UpdateRouter.sweep`) at every moment something falls due: each default reminder,
   each snoozed reminder, each nudge and expiry of a run someone walked away from, the ends of
   quiet hours, and every three hours besides. The sweep sends reminders, nudges and expires
   runs as it would live, and prunes old outbox rows once a simulated day.
3. Each outbox row is marked sent (``OutboxRepo.mark_sent``) at its own time right after the
   transaction that wrote it, so a bot started on the database sends nothing from the past.
   The member who blocks the bot gets the sender's 403 treatment instead.
"""

from __future__ import annotations

import heapq
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from datetime import time as clock_time

from sqlalchemy import func
from sqlmodel import col, select

from rpbot.clock import FakeClock
from rpbot.demo.bank import load_bank, seeded
from rpbot.demo.cast import Cast, FamilySpec, make_cast, set_of
from rpbot.demo.driver import Counts, Driver, OutboxLog, block, mark_handled
from rpbot.demo.plan import Action, daily_sweep_times, plan_families
from rpbot.demo.timeline import TIMEZONE, Timeline, hour_floor, local_at, local_day
from rpbot.engine import Library
from rpbot.services.enrolment import add_practitioner, create_family, create_invite
from rpbot.services.incoming import Incoming
from rpbot.services.reminders import SweepReport
from rpbot.services.router import UpdateRouter
from rpbot.storage.db import Database
from rpbot.storage.repos import Repos
from rpbot.storage.tables import Answer, FlowRun, Member, OutboxMessage, Reminder

log = logging.getLogger(__name__)

DEMO_SECRET = "rpbot-demo"  # noqa: S105 - keys the invite rate limit of made-up people
SWEEP_LIMIT = 5000
JOIN_FROM = clock_time(10, 0)
JOIN_WITHIN = timedelta(hours=6)
PRUNE_FROM = clock_time(3, 0)
MAX_FAMILIES = 100_000
MAX_WEEKS = 52
MARK_BATCH = 2000

Progress = Callable[[str], None]


class DemoError(ValueError):
    """The demo cannot be seeded as asked; the message says what to change."""


@dataclass(frozen=True)
class FamilySummary:
    """One demo family, as the summary lists it."""

    name: str
    nation: str
    practitioner: str
    members: tuple[str, ...]
    story: str


@dataclass(frozen=True)
class DemoSummary:
    """What one seeding made (counts only: no answer text)."""

    set_number: int
    earlier_sets: tuple[int, ...]
    seed: int
    weeks: int
    start: datetime
    end: datetime
    practitioners: tuple[str, ...]
    families: tuple[FamilySummary, ...]
    answers: int
    runs: dict[str, int]
    reminders: dict[str, int]
    counts: Counts
    seconds: float

    def lines(self) -> list[str]:
        """A short human report of the seeding."""
        out = [
            f"Demo set {self.set_number}: {_plural(len(self.families), 'family', 'families')}, "
            f"{_plural(sum(len(f.members) for f in self.families), 'member')}, "
            f"{_plural(self.weeks, 'week')} "
            f"from {self.start:%Y-%m-%d %H:%M} to {self.end:%Y-%m-%d %H:%M} UTC "
            f"(seed {self.seed}), in {self.seconds:.1f} s.",
            "Practitioners: " + "; ".join(self.practitioners),
            f"Answers: {self.answers}. Flow runs: {_counted(self.runs)}.",
            f"Reminders: {_counted(self.reminders)}.",
        ]
        out += [
            f"  {f.name} ({f.nation}, {f.practitioner}): {', '.join(f.members)} - {f.story}"
            for f in self.families[:20]
        ]
        if len(self.families) > 20:
            out.append(f"  ... and {len(self.families) - 20} more families.")
        return out


def _plural(n: int, one: str, many: str | None = None) -> str:
    return f"{n} {one if n == 1 else many or one + 's'}"


def _counted(counts: dict[str, int]) -> str:
    return ", ".join(f"{n} {name}" for name, n in sorted(counts.items())) or "none"


async def existing_sets(db: Database) -> list[int]:
    """Demo sets already in the database (found by their practitioners' Telegram ids)."""
    async with db.transaction() as repos:
        found = {set_of(p.telegram_user_id) for p in await repos.practitioners.all()}
    return sorted(s for s in found if s is not None)


def check_options(families: int, weeks: int, practitioners: int, end: datetime | None) -> None:
    """Raise DemoError if the sizes or ``end`` cannot make a demo."""
    if not 1 <= families <= MAX_FAMILIES:
        raise DemoError(f"--families must be 1 to {MAX_FAMILIES}, not {families}")
    if not 1 <= weeks <= MAX_WEEKS:
        raise DemoError(f"--weeks must be 1 to {MAX_WEEKS}, not {weeks}")
    if not 1 <= practitioners <= families:
        raise DemoError(f"--practitioners must be 1 to the number of families ({families})")
    if end is not None and (end.tzinfo is None or end.utcoffset() is None):
        raise DemoError("end must be a timezone-aware datetime (e.g. 2026-03-01T20:00+00:00)")


async def seed_demo(
    db: Database,
    library: Library,
    *,
    families: int = 6,
    weeks: int = 4,
    seed: int = 1,
    practitioners: int = 1,
    end: datetime | None = None,
    progress: Progress | None = None,
) -> DemoSummary:
    """Fill ``db`` (already migrated) with a demo set of families and ``weeks`` of activity.

    Deterministic: the same seed, sizes and ``end`` (default: now, rounded down to the hour)
    give the same answers at the same times. A database that already holds demo sets gets a
    new set alongside them, with Telegram ids of its own.
    """
    check_options(families, weeks, practitioners, end)
    began = time.perf_counter()
    timeline = Timeline((end or hour_floor(datetime.now(UTC))).astimezone(UTC), weeks)
    earlier = await existing_sets(db)
    bank = load_bank()
    cast = make_cast(
        bank,
        seed=seed,
        families=families,
        practitioners=practitioners,
        set_number=max(earlier, default=0) + 1,
        timeline=timeline,
    )
    simulation = _Simulation(db, library, cast, timeline, seed, progress)
    await simulation.enrol()
    await simulation.run()
    return await simulation.summary(tuple(earlier), time.perf_counter() - began)


class _Simulation:
    """One seeding: the fake clock, the real router, and the families' ids once created."""

    def __init__(
        self,
        db: Database,
        library: Library,
        cast: Cast,
        timeline: Timeline,
        seed: int,
        progress: Progress | None,
    ) -> None:
        self.db = db
        self.library = library
        self.cast = cast
        self.timeline = timeline
        self.seed = seed
        self.progress = progress or (lambda _: None)
        self.clock = FakeClock(timeline.enrol_start)
        self.router = UpdateRouter(db, library, self.clock, secret=DEMO_SECRET, timezone=TIMEZONE)
        self.driver = Driver(self.router.family_desk, library, load_bank(), seed, timeline.end)
        self.counts = self.driver.counts
        self.family_ids: dict[int, int] = {}
        self.codes: dict[int, str] = {}
        self.to_block = [spec for spec in cast.families if spec.block_at is not None]
        self.pruned_on: date | None = None
        self.shown_day = 0

    # --- joining ---------------------------------------------------------------------

    async def enrol(self) -> None:
        """Practitioners, families and invites, then every member joins with their code."""
        start = self.timeline.enrol_start
        async with self.db.transaction() as repos:
            for practitioner in self.cast.practitioners:
                await add_practitioner(repos, practitioner.telegram_id, practitioner.name, start)
        gap = min(timedelta(seconds=60), timedelta(hours=1) / len(self.cast.families))
        for spec in self.cast.families:
            await self._create_family(spec, start + timedelta(minutes=30) + gap * spec.index)
        await self._join_all()
        log.info("demo: %d families enrolled", len(self.cast.families))

    async def _create_family(self, spec: FamilySpec, now: datetime) -> None:
        telegram_id = self.cast.practitioners[spec.practitioner].telegram_id
        async with self.db.transaction() as repos:
            practitioner = await repos.practitioners.by_telegram_id(telegram_id)
            assert practitioner is not None
            family = await create_family(repos, practitioner, spec.name, spec.nation, now)
            for person in spec.members:
                invite = await create_invite(repos, family, person.role, person.name, now)
                self.codes[person.telegram_id] = invite.code
        self.family_ids[spec.index] = family.id or 0

    async def _join_all(self) -> None:
        rng = seeded(self.seed, "join")
        opens = local_at(self.timeline.first_day, JOIN_FROM)
        joins = sorted(
            (opens + timedelta(seconds=rng.randrange(int(JOIN_WITHIN.total_seconds()))), m)
            for spec in self.cast.families
            for m in (p.telegram_id for p in spec.members)
        )
        rows: list[OutboxMessage] = []
        for at, telegram_id in joins:
            self.clock.set(at)
            start = Incoming(
                user_id=telegram_id,
                chat_id=telegram_id,
                kind="command",
                command="start",
                args=self.codes[telegram_id],
            )
            rows += (await self.router.handle(start)).rows
            if len(rows) >= MARK_BATCH:
                await self._mark(rows)
                rows = []
        await self._mark(rows)

    async def _mark(self, rows: list[OutboxMessage], blocks: Sequence[FamilySpec] = ()) -> None:
        """Mark rows handled; block members first (their pending rows fail instead)."""
        if not rows and not blocks:
            return
        async with self.db.transaction() as repos:
            failed: set[int] = set()
            for spec in blocks:
                failed |= await self._block(repos, spec)
            self.counts.outbox_handled += await mark_handled(repos, rows, failed)

    async def _block(self, repos: Repos, spec: FamilySpec) -> set[int]:
        person = spec.members[spec.blocker or 0]
        member = await repos.members.by_telegram_id(person.telegram_id)
        if member is None:
            return set()
        self.counts.blocked += 1
        return await block(repos, member, self.clock.now())

    # --- the weeks -------------------------------------------------------------------

    async def run(self) -> None:
        """Every planned action and every sweep, in time order, up to the end."""
        expiries = {flow_id: flow.expiry for flow_id, flow in self.library.flows.items()}
        actions, snoozes = plan_families(self.cast.families, self.timeline, self.seed, expiries)
        start = self.clock.now()
        sweeps = self.timeline.sweeps(start, daily_sweep_times(), snoozes)
        queued = set(sweeps)
        next_action = 0
        while sweeps:
            at = heapq.heappop(sweeps)
            batch: list[Action] = []
            while next_action < len(actions) and actions[next_action].at < at:
                batch.append(actions[next_action])
                next_action += 1
            await self._perform(batch)
            for follow_up in self.driver.follow_ups - queued:
                if at < follow_up <= self.timeline.end:
                    heapq.heappush(sweeps, follow_up)
                    queued.add(follow_up)
            self.driver.follow_ups.clear()
            await self._sweep(at)
            self._show_progress(at)
        log.info("demo: %d actions, %d inputs", len(actions), self.counts.inputs)

    def _show_progress(self, at: datetime) -> None:
        day = (local_day(at) - self.timeline.first_day).days + 1
        if day != self.shown_day:
            self.shown_day = day
            self.progress(f"day {day}/{len(self.timeline.days)}")

    async def _perform(self, batch: list[Action]) -> None:
        """The batch's actions, one transaction per family."""
        by_family: dict[int, list[Action]] = {}
        for action in batch:
            by_family.setdefault(action.family, []).append(action)
        for index, actions in by_family.items():
            spec = self.cast.families[index]
            async with self.db.transaction() as repos:
                family = await repos.families.by_id(self.family_ids[index])
                assert family is not None
                members = {
                    m.telegram_user_id or 0: m
                    for m in await repos.members.in_family(family.id or 0)
                }
                outboxes = OutboxLog(repos)
                for action in actions:
                    await self.driver.perform(outboxes, family, members, spec, action)
                self.counts.outbox_handled += await mark_handled(repos, outboxes.rows, set())

    async def _sweep(self, at: datetime) -> None:
        """The bot's sweep at ``at`` (repeated while it claimed a full batch)."""
        self.clock.set(at)
        prune = self._prune_due(at)
        rows: list[OutboxMessage] = []
        while True:
            report = await self.router.sweep(limit=SWEEP_LIMIT, prune=prune)
            prune = False
            rows += report.rows
            self._count(report)
            if not report.full:
                break
        blocks = [s for s in self.to_block if s.block_at is not None and s.block_at <= at]
        self.to_block = [s for s in self.to_block if s not in blocks]
        await self._mark(rows, blocks)

    def _count(self, report: SweepReport) -> None:
        counts = self.counts
        counts.sweeps += 1
        counts.reminders_sent += report.sent
        counts.reminders_skipped += report.skipped + report.missed
        counts.nudged += report.nudged
        counts.expired += report.expired

    def _prune_due(self, at: datetime) -> bool:
        """Prune old outbox rows once a simulated day, as the running bot does."""
        day = local_day(at)
        if self.pruned_on == day or at < local_at(day, PRUNE_FROM):
            return False
        self.pruned_on = day
        return True

    # --- the summary -----------------------------------------------------------------

    async def summary(self, earlier: tuple[int, ...], seconds: float) -> DemoSummary:
        """Counts from the database for this set's families, and who is who."""
        ids = list(self.family_ids.values())
        async with self.db.transaction() as repos:
            answers = await _count_rows(repos, Answer, ids)
            runs = await _by_status(repos, FlowRun, ids)
            reminders = await _by_status(repos, Reminder, ids)
        return DemoSummary(
            set_number=self.cast.set_number,
            earlier_sets=earlier,
            seed=self.seed,
            weeks=self.timeline.weeks,
            start=self.timeline.enrol_start,
            end=self.timeline.end,
            practitioners=tuple(
                f"{p.name} (Telegram id {p.telegram_id})" for p in self.cast.practitioners
            ),
            families=tuple(self._family_summary(spec) for spec in self.cast.families),
            answers=answers,
            runs=runs,
            reminders=reminders,
            counts=self.counts,
            seconds=seconds,
        )

    def _family_summary(self, spec: FamilySpec) -> FamilySummary:
        members = tuple(f"{m.name} ({m.role})" for m in spec.members)
        notes = [spec.trajectory.kind, "children home" if spec.stage == "home" else "contact"]
        if spec.quiet:
            notes.append("quiet in the last week")
        if spec.blocker is not None:
            notes.append(f"{spec.members[spec.blocker].name} blocked the bot")
        practitioner = self.cast.practitioners[spec.practitioner].name
        return FamilySummary(spec.name, spec.nation, practitioner, members, ", ".join(notes))


async def _count_rows(repos: Repos, table: type[Answer], family_ids: list[int]) -> int:
    query = select(func.count()).select_from(table).where(col(table.family_id).in_(family_ids))
    return int((await repos.session.exec(query)).one())


async def _by_status(
    repos: Repos, table: type[FlowRun] | type[Reminder], family_ids: list[int]
) -> dict[str, int]:
    """Rows per status for these families (reminders through their members)."""
    status = col(table.status)
    query = select(status, func.count()).group_by(status)
    if table is Reminder:
        members = select(col(Member.id)).where(col(Member.family_id).in_(family_ids))
        query = query.where(col(Reminder.member_id).in_(members))
    else:
        query = query.where(col(FlowRun.family_id).in_(family_ids))
    return {name: int(n) for name, n in (await repos.session.exec(query)).all()}
