"""Flood control: one person sending far more than anyone can read gets one kind cool-down.

A token bucket per Telegram user id, driven by the injected clock (never by sleeping):
each update takes a token; tokens come back at ``rate`` per second up to ``burst``. When a
person's bucket is empty they are **cooling down** for ``cool_down``: they get one short, kind
message (at most once per ``notice_every``) and every update in the meantime is ignored
before any database work - counted and logged at WARNING, never its contents.

Why these limits (defaults): 2 updates a second sustained (20 in 10 s) with a burst of 30.
Real use is far below that: every answer button needs the new question read first (a diary
answered as fast as a thumb allows is about one tap a second), and typing is slower still. The
burst absorbs what is quick but harmless: a photo album arriving at once, a few messages sent
in a row, or one button mashed 20 times in a second (those presses must all be answered,
and the answer changes once: see the conversation's prompt check). A flood of 100 messages in
10 seconds empties the bucket after about 37 and the rest are ignored.

The state lives in memory, per bot process: it is a guard against floods, not a record. A
restart forgets it (a flooder gets a fresh bucket), and with several bot processes each has
its own buckets (Telegram delivers one bot's updates to one poller, so a person's flood still
meets one guard). Idle buckets are forgotten, so memory stays bounded by the people active in
the last ``burst / rate`` seconds.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

log = logging.getLogger(__name__)

COOL_DOWN_TEXT = (
    "You're sending messages faster than I can read them 🙂 Let's take a short breather: "
    "please wait a minute, then carry on. Everything before this is saved."
)


class Flood(enum.Enum):
    """What to do with one update."""

    HANDLE = "handle"  # handle it as usual
    COOL_DOWN = "cool_down"  # the flood just started: send the cool-down message, nothing else
    IGNORE = "ignore"  # cooling down: drop it (counted)


@dataclass(frozen=True)
class FloodPolicy:
    """The limits (see the module docstring for why these numbers)."""

    rate: float = 2.0  # tokens a second: 20 updates in 10 s, sustained
    burst: int = 30  # the bucket's size: what may arrive at once
    cool_down: timedelta = timedelta(seconds=60)
    notice_every: timedelta = timedelta(minutes=10)  # at most one cool-down message this often


@dataclass
class _Bucket:
    tokens: float
    updated_at: datetime
    cooling_until: datetime | None = None
    noticed_at: datetime | None = None
    ignored: int = 0  # updates dropped in the current cool-down


@dataclass
class FloodGuard:
    """Per-person token buckets, in memory."""

    policy: FloodPolicy = field(default_factory=FloodPolicy)
    ignored_total: int = 0  # every update dropped since start (for logs and tests)
    floods_total: int = 0  # cool-downs started since start
    _buckets: dict[int, _Bucket] = field(default_factory=dict)
    _pruned_at: datetime | None = None

    def check(self, user_id: int, now: datetime) -> Flood:
        """Take a token for one update from ``user_id`` at ``now``; say what to do with it."""
        self._prune(now)
        policy = self.policy
        bucket = self._buckets.get(user_id)
        if bucket is None:
            bucket = self._buckets[user_id] = _Bucket(float(policy.burst), now)
        if bucket.cooling_until is not None:
            if now < bucket.cooling_until:
                bucket.ignored += 1
                self.ignored_total += 1
                return Flood.IGNORE
            self._end(user_id, bucket)
        elapsed = max((now - bucket.updated_at).total_seconds(), 0.0)
        bucket.tokens = min(float(policy.burst), bucket.tokens + elapsed * policy.rate)
        bucket.updated_at = max(now, bucket.updated_at)
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return Flood.HANDLE
        # The flood starts here: this update and the next ones until the cool-down ends.
        bucket.cooling_until = now + policy.cool_down
        bucket.ignored = 1
        self.ignored_total += 1
        self.floods_total += 1
        notice = bucket.noticed_at is None or now - bucket.noticed_at >= policy.notice_every
        if notice:
            bucket.noticed_at = now
        log.warning(
            "flood from Telegram user %s: updates ignored for %d s%s",
            user_id,
            policy.cool_down.total_seconds(),
            "" if notice else " (cool-down message already sent recently)",
        )
        return Flood.COOL_DOWN if notice else Flood.IGNORE

    def cooling(self, user_id: int, now: datetime) -> bool:
        """Whether ``user_id`` is cooling down at ``now`` (for tests and the sandbox)."""
        bucket = self._buckets.get(user_id)
        return (
            bucket is not None and bucket.cooling_until is not None and now < bucket.cooling_until
        )

    def __len__(self) -> int:
        """How many people the guard remembers."""
        return len(self._buckets)

    def _end(self, user_id: int, bucket: _Bucket) -> None:
        log.warning(
            "flood from Telegram user %s over: %d updates were ignored", user_id, bucket.ignored
        )
        bucket.cooling_until, bucket.ignored = None, 0

    def _prune(self, now: datetime) -> None:
        """Forget full, idle buckets (at most once a minute); log cool-downs that ended."""
        if self._pruned_at is not None and now - self._pruned_at < timedelta(minutes=1):
            return
        self._pruned_at = now
        refill = timedelta(seconds=self.policy.burst / self.policy.rate)
        for user_id, bucket in list(self._buckets.items()):
            if bucket.cooling_until is not None:
                if now < bucket.cooling_until:
                    continue
                self._end(user_id, bucket)
            recently_noticed = (
                bucket.noticed_at is not None and now - bucket.noticed_at < self.policy.notice_every
            )
            if now - bucket.updated_at >= refill and not recently_noticed:
                del self._buckets[user_id]
