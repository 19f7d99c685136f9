"""Simulated time: the days of the demo programme, local times, and when the sweep runs.

Every demo family lives in ``Europe/London`` (the default ``RPBOT_TIMEZONE``), so a local
time such as 19:30 is the same instant for all of them and one sweep serves every family.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

TIMEZONE = "Europe/London"
LOCAL = ZoneInfo(TIMEZONE)
SWEEP_EVERY = timedelta(hours=3)  # besides the exact moments something falls due
ENROL_DAY_START = time(8, 30)


def hour_floor(moment: datetime) -> datetime:
    """``moment`` in UTC, rounded down to the hour."""
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def local_at(day: date, at: time) -> datetime:
    """The UTC instant of a local wall time on a local day."""
    return datetime.combine(day, at, tzinfo=LOCAL).astimezone(UTC)


def local_day(moment: datetime) -> date:
    """The local date of an instant."""
    return moment.astimezone(LOCAL).date()


def hhmm(text: str) -> time:
    """ "19:30" as a time."""
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class Timeline:
    """``weeks`` of programme ending at ``end``: families join on the first day."""

    end: datetime
    weeks: int

    @property
    def first_day(self) -> date:
        """The local day families join (``weeks`` weeks before ``end``)."""
        return local_day(self.end - timedelta(days=7 * self.weeks))

    @property
    def days(self) -> list[date]:
        """Every local day from joining to ``end``, in order."""
        last = local_day(self.end)
        count = (last - self.first_day).days + 1
        return [self.first_day + timedelta(days=n) for n in range(count)]

    @property
    def enrol_start(self) -> datetime:
        """When the practitioners start setting families up."""
        return local_at(self.first_day, ENROL_DAY_START)

    def week_of(self, day: date) -> int:
        """Which programme week (0 first) a local day falls in."""
        return (day - self.first_day).days // 7

    def sweeps(
        self, start: datetime, daily: Iterable[time], extra: Iterable[datetime]
    ) -> list[datetime]:
        """Sweep instants from ``start`` to ``end``: every ``SWEEP_EVERY``, the ``daily`` local
        times (when reminders fall due and quiet hours end), the ``extra`` instants, and
        ``end``. (The real bot sweeps every few seconds; between these instants nothing the
        demo does falls due, except reminders waiting for another activity to end.)"""
        first = hour_floor(start)
        hours = int((self.end - first) / SWEEP_EVERY) + 1
        wanted = {first + SWEEP_EVERY * n for n in range(hours)} | set(extra) | {self.end}
        wanted |= {local_at(day, at) for day in self.days for at in daily}
        return sorted(t for t in wanted if start <= t <= self.end)
