"""APScheduler drives the sweep; the database holds every schedule, reminder and message.

APScheduler's own job store is in memory and holds just one job (the periodic sweep), so
nothing is lost when the process stops: the next sweep, in this or any other worker, claims
whatever has fallen due in the meantime.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

log = logging.getLogger(__name__)

SWEEP_JOB = "sweep"


class SweepScheduler:
    """Runs ``sweep`` every ``seconds`` (and once at start), never two at a time."""

    def __init__(self, sweep: Callable[[], Awaitable[object]], seconds: float = 5.0) -> None:
        self._sweep = sweep
        self.scheduler = AsyncIOScheduler(timezone=UTC)
        self.scheduler.add_job(
            self._run,
            IntervalTrigger(seconds=seconds, timezone=UTC),
            id=SWEEP_JOB,
            max_instances=1,
            coalesce=True,
            next_run_time=datetime.now(UTC),
            misfire_grace_time=None,
        )

    async def _run(self) -> None:
        try:
            await self._sweep()
        except Exception:  # one bad sweep must not stop the next
            log.exception("sweep failed; the next one will try again")

    def start(self) -> None:
        """Start sweeping (inside a running event loop)."""
        self.scheduler.start()

    def shutdown(self) -> None:
        """Stop sweeping."""
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
