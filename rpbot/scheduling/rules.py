"""When reminders fire: days of the week and a local time, in the member's IANA timezone.

Wall times are resolved with ``zoneinfo`` (the IANA database), DST included:
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


_DAY_WORDS = {
    **{d: d for d in DAYS},
    **{name.lower().rstrip("s"): d for d, name in DAY_NAMES.items()},
    **{name.lower(): d for d, name in DAY_NAMES.items()},
    "tues": "tue",
    "weds": "wed",
    "thur": "thu",
    "thurs": "thu",
}


def parse_days(text: str) -> tuple[str, ...]:
    """Days from words or comma-separated names (mon,thu or monday and thursday), in week order."""
    clean = " ".join(text.strip().lower().split())
    if clean in ALIASES:
        return ALIASES[clean]
    found: set[str] = set()
    for part in re.split(r"\s*(?:,|;|/|\band\b|\s)\s*", clean):
        if not part:
            continue
        if part not in _DAY_WORDS:
            raise RuleError(
                f"'{part}' is not a day; use daily, weekdays, weekends or names like mon,thu"
            )
        found.add(_DAY_WORDS[part])
    if not found:
        raise RuleError("no days given; use daily, weekdays, weekends or names like mon,thu")
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
    """The first occurrence strictly after ``after`` (UTC), at most once per local day.

    Each candidate day's wall time is resolved by ``zoneinfo`` with ``fold=0``: a time in the
    repeated October hour means its first occurrence, and a time in the skipped March hour
    lands the same minutes into the next hour. (APScheduler 3.11's CronTrigger skips a whole
    week for some weekday rules just after a spring change, so the walk is done here.)
    """
    tz = zone(tz_name)
    after = after.astimezone(UTC)
    first_day = after.astimezone(tz).date()
    for offset in range(9):  # a weekly rule recurs within 8 local days
        day = first_day + timedelta(days=offset)
        if rule.days and DAYS[day.weekday()] not in rule.days:
            continue
        instant = datetime.combine(day, rule.at, tzinfo=tz).astimezone(UTC)
        if instant > after:
            return instant
    raise AssertionError("unreachable: every rule has a day within 8 days")  # pragma: no cover


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
    wall = datetime.combine(end_day, finish, tzinfo=tz)
    # fold=0 is the first of a repeated wall time; if that has passed, the second is meant.
    for candidate in (wall, wall.replace(fold=1)):
        if candidate.astimezone(UTC) > now.astimezone(UTC):
            return candidate.astimezone(UTC)
    return None
