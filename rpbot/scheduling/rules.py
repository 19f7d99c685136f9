"""When reminders fire: days of the week and a local time, in the member's IANA timezone.

The date maths is APScheduler's ``CronTrigger`` (DST-correct). On top of it:
- **exactly once per local day**: on the October change a time inside the repeated hour fires
  once, at its first (summer-time) occurrence;
- **skipped hour**: on the March change a time inside the missing hour fires once, at the same
  number of minutes past the first valid hour (01:30 in Europe/London fires at 02:30 BST);
- **quiet hours** (e.g. 21:00-08:00): nothing is sent inside them; a due item moves to their end.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from apscheduler.triggers.cron import CronTrigger

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DAY_NAMES = dict(
    zip(
        DAYS,
        ("Mondays", "Tuesdays", "Wednesdays", "Thursdays", "Fridays", "Saturdays", "Sundays"),
        strict=True,
    )
)
ALIASES = {
    "": (),
    "daily": (),
    "every day": (),
    "weekdays": DAYS[:5],
    "weekends": DAYS[5:],
}
_TIME = re.compile(r"^([01]?[0-9]|2[0-3]):([0-5][0-9])$")


class RuleError(ValueError):
    """A schedule rule cannot be understood; the message says what is accepted."""


@dataclass(frozen=True)
class Rule:
    """Which days (empty: every day) and what local time."""

    days: tuple[str, ...]
    at: time

    @classmethod
    def parse(cls, days: str, at: str) -> Rule:
        """Read ``days`` ("daily", "weekdays", "mon,thu", "sun") and ``at`` ("19:30")."""
        return cls(parse_days(days), parse_time(at))

    @property
    def days_text(self) -> str:
        """The days as stored: "" for every day, else "mon,thu"."""
        return ",".join(self.days)

    @property
    def time_text(self) -> str:
        """The time as stored: "19:30"."""
        return self.at.strftime("%H:%M")

    def describe(self) -> str:
        """Plain words: "every day at 19:30", "Sundays at 18:00", "weekdays at 17:00"."""
        if not self.days:
            when = "every day"
        elif self.days == DAYS[:5]:
            when = "weekdays"
        elif self.days == DAYS[5:]:
            when = "weekends"
        else:
            names = [DAY_NAMES[d] for d in self.days]
            when = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        return f"{when} at {self.time_text}"

    def trigger(self, tz: ZoneInfo) -> CronTrigger:
        """The APScheduler trigger for this rule in ``tz``."""
        day_of_week = ",".join(self.days) if self.days else "*"
        return CronTrigger(
            day_of_week=day_of_week, hour=self.at.hour, minute=self.at.minute, timezone=tz
        )


def parse_days(text: str) -> tuple[str, ...]:
    """Days from words or comma-separated three-letter names, in week order."""
    clean = " ".join(text.strip().lower().split())
    if clean in ALIASES:
        return ALIASES[clean]
    found: set[str] = set()
    for part in re.split(r"[,\s]+", clean):
        key = part[:3]
        if key not in DAYS:
            raise RuleError(
                f"'{part}' is not a day; use daily, weekdays, weekends or names like mon,thu"
            )
        found.add(key)
    return tuple(d for d in DAYS if d in found)


def parse_time(text: str) -> time:
    """A 24-hour "HH:MM" local time."""
    match = _TIME.match(text.strip())
    if match is None:
        raise RuleError(f"'{text}' is not a time; use 24-hour HH:MM such as 19:30")
    return time(int(match.group(1)), int(match.group(2)))


def zone(name: str) -> ZoneInfo:
    """The IANA timezone ``name`` (e.g. Europe/London)."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise RuleError(f"'{name}' is not an IANA timezone such as Europe/London") from exc


def next_occurrence(rule: Rule, tz_name: str, after: datetime) -> datetime:
    """The first occurrence strictly after ``after`` (UTC), once per local day."""
    tz = zone(tz_name)
    trigger = rule.trigger(tz)
    # Arithmetic in UTC: adding to an aware local time would drop the DST fold.
    start = (after.astimezone(UTC) + timedelta(microseconds=1)).astimezone(tz)
    candidate: datetime | None = trigger.get_next_fire_time(None, start)
    assert candidate is not None, "a weekly rule always has a next time"
    # The repeated hour in October would give the same local date twice: keep the first.
    previous_local = after.astimezone(tz)
    for _ in range(3):
        if not _same_local_slot(candidate, previous_local, rule):
            break
        later = (candidate.astimezone(UTC) + timedelta(minutes=1)).astimezone(tz)
        following: datetime | None = trigger.get_next_fire_time(None, later)
        assert following is not None
        candidate = following
    return candidate.astimezone(UTC)


def _same_local_slot(candidate: datetime, previous: datetime, rule: Rule) -> bool:
    local = candidate.astimezone(previous.tzinfo)
    return local.date() == previous.date() and (previous.hour, previous.minute) == (
        rule.at.hour,
        rule.at.minute,
    )


def in_quiet_hours(now: datetime, tz_name: str, start: str, end: str) -> datetime | None:
    """If ``now`` is inside the quiet hours start-end (local), when they end (UTC); else None."""
    tz = zone(tz_name)
    local = now.astimezone(tz)
    begin, finish = parse_time(start), parse_time(end)
    if begin == finish:
        return None
    clock = local.time()
    overnight = begin > finish
    inside = (clock >= begin or clock < finish) if overnight else (begin <= clock < finish)
    if not inside:
        return None
    end_day = local.date()
    if overnight and clock >= begin:
        end_day += timedelta(days=1)
    wall = datetime.combine(end_day, finish)
    # fold=0 takes the first of a repeated wall time; a skipped one normalises forwards.
    return wall.replace(tzinfo=tz).astimezone(UTC)
