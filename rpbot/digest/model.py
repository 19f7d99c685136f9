"""What a practitioner's digest says, as plain data: built by :mod:`build`, rendered elsewhere.

Everything here is already filtered for the practitioner's eyes: private answers appear only
as counts. Times are aware UTC; renderers show them in the practitioner's timezone.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal, Protocol

Severity = Literal["urgent", "attention", "note"]


class Vocabulary(Protocol):
    """Names for flows and answer values, from the dialogue library."""

    def title(self, flow_id: str) -> str:
        """A flow's title, e.g. 'Three-question check-in'."""
        ...

    def label(self, flow_id: str, name: str, value: str) -> str:
        """The button label of a choice value (the value itself if unknown)."""
        ...


@dataclass(frozen=True)
class Flag:
    """One reason a family needs the practitioner's attention."""

    severity: Severity
    text: str


@dataclass(frozen=True)
class MemberLine:
    """One person's engagement over the period."""

    name: str
    role: str
    active: bool
    last_active: datetime | None
    completed: int
    started: int
    expired: int
    stopped: int
    reminders_sent: int
    reminders_ignored: int
    reminders_declined: int


@dataclass(frozen=True)
class Quote:
    """Someone's own words (shared with the practitioner), with a label."""

    label: str
    text: str


@dataclass(frozen=True)
class Entry:
    """One completed (or partly done) flow run shown with its shared answers."""

    who: str
    at: datetime
    title: str
    quotes: tuple[Quote, ...]
    facts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Checkin:
    """One three-question check-in."""

    who: str
    at: datetime
    working_well: str | None
    worried: str | None
    needs_to_happen: str | None
    scale: int | None
    wants_to_talk: bool | None
    more: tuple[Quote, ...] = ()


@dataclass(frozen=True)
class ScaleTrend:
    """The 0-10 scale: this period, the last earlier value, and weekly averages."""

    now: float | None
    previous: float | None
    previous_weeks_ago: int | None
    weeks: tuple[float | None, ...]  # oldest first; the last is this period

    @property
    def change(self) -> float | None:
        """This period's value minus the previous one (None if either is missing)."""
        if self.now is None or self.previous is None:
            return None
        return round(self.now - self.previous, 1)


@dataclass(frozen=True)
class Diary:
    """Day-in-the-Life highlights."""

    entries: int
    hard_parts: tuple[tuple[str, int], ...]  # part of the day, times it was hard
    flashpoints: tuple[str, ...]  # "HH:MM", sorted
    went_well: tuple[Quote, ...]
    feeling_average: float | None


@dataclass(frozen=True)
class ChildWords:
    """A child's reflections: shared ones quoted, private ones counted only."""

    name: str
    shared: tuple[Entry, ...]
    private_count: int


@dataclass(frozen=True)
class ChoreLine:
    """One chore of the household agreement: days it was due vs days done in the period."""

    text: str
    when: str  # e.g. "Mondays, Wednesdays and Fridays at 17:30"
    due: int
    done: int
    confirmed: int = 0  # of the done days, how many a parent confirmed


@dataclass(frozen=True)
class Chores:
    """A child's chores: check-ins done vs the chores agreed (scheduled) in the period."""

    name: str
    agreed: int
    done: int
    a_bit: int
    not_yet: int
    items: tuple[ChoreLine, ...] = ()  # per agreed chore (see rpbot.services.agreements)


@dataclass(frozen=True)
class AlertLine:
    """A safeguarding alert of the period."""

    at: datetime
    who: str
    categories: tuple[str, ...]
    status: str
    acknowledged_at: datetime | None
    action: str | None


@dataclass(frozen=True)
class NextItem:
    """Something scheduled for next week."""

    who: str
    what: str
    when: str  # e.g. "daily 19:30" or "Sundays 18:00"
    note: str = ""


@dataclass(frozen=True)
class CircleLine:
    """A family circle of the period: its prompt and each turn, in circle order.

    ``turns`` quote adults' answers and children's shared ones; a child's private answer is
    ``(name, None, "private")``, a pass or a late member ``(name, None, "passed")``.
    """

    at: datetime
    prompt: str
    starter: str
    closed: bool
    turns: tuple[tuple[str, str | None, str], ...]

    @property
    def answered(self) -> int:
        """How many answered (privately or not)."""
        return sum(1 for _, _, state in self.turns if state in ("answered", "private"))


@dataclass(frozen=True)
class ProgrammeLine:
    """Where the family is in its programme plan."""

    week: int
    weeks: int
    done: int
    current: str | None  # this week's module title
    tailored: bool = False


@dataclass(frozen=True)
class FamilyDigest:
    """Everything about one family for one period."""

    family_id: int
    name: str
    nation: str
    members: tuple[MemberLine, ...]
    flags: tuple[Flag, ...]
    checkins: tuple[Checkin, ...]
    scale: ScaleTrend
    completion_weeks: tuple[tuple[int, int], ...]  # (completed, started) per week, oldest first
    diary: Diary
    incidents: tuple[Entry, ...]
    boundaries: tuple[Entry, ...]
    learning: tuple[str, ...]
    children: tuple[ChildWords, ...]
    chores: tuple[Chores, ...]
    alerts: tuple[AlertLine, ...]
    next_week: tuple[NextItem, ...]
    quiet: bool
    circles: tuple[CircleLine, ...] = ()
    programme: ProgrammeLine | None = None

    @property
    def needs_attention(self) -> bool:
        """True if anything is flagged urgent or for attention."""
        return any(flag.severity != "note" for flag in self.flags)

    @property
    def rank(self) -> int:
        """Sort key: urgent first, then attention, then the rest."""
        order = {"urgent": 0, "attention": 1, "note": 2}
        return min((order[flag.severity] for flag in self.flags), default=3)


@dataclass(frozen=True)
class DigestReport:
    """One practitioner's digest over [start, end)."""

    practitioner: str
    timezone: str
    start: datetime
    end: datetime
    families: tuple[FamilyDigest, ...] = field(default_factory=tuple)
    week_starts: tuple[datetime, ...] = ()  # the chart's weeks, oldest first

    @property
    def attention(self) -> tuple[FamilyDigest, ...]:
        """Families needing attention, most urgent first."""
        return tuple(f for f in self.families if f.needs_attention)
