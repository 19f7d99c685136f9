"""Privacy rules that are not about chatting: erasure, retention and encryption at rest.

- **Erasure** (:func:`erase_member`): ``delete`` mode removes a member's answers and flow runs;
  ``pseudonymise`` keeps them (the service's record) but scrubs names out of the runs'
  sessions. Both remove reminders, schedules, messages waiting for them and their pending
  state, rename them (``Erased member`` / ``Member <n>``) and clear their Telegram ids, so they
  become a stranger to the bot and can join again with a new invite. Safeguarding alerts raised
  from their words are kept, de-identified (``member_id`` cleared, the words stay).
- **Retention** (:func:`retention_tick`): with ``RPBOT_RETENTION_DAYS`` set, answers older than
  that are deleted and ended runs' sessions (which repeat the answers) are emptied; at most
  once an hour across all processes (a counters row holds the last run), logged as counts.
- **Encryption at rest** (:func:`check_encryption`, :func:`rewrite_encrypted`): the key ring
  lives in :mod:`rpbot.storage.crypto`; here are the startup check (refuse to run on an
  encrypted database without the key, or with the wrong one) and key rotation.

Nothing here logs message text, answers or keys: counts and ids only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Literal

from pydantic import ValidationError

from rpbot.engine import Session
from rpbot.storage import crypto
from rpbot.storage._privacy import ErasureCounts, encrypted_columns, from_minutes, to_minutes
from rpbot.storage.crypto import MISSING_KEY, DataKeyError, KeyRing
from rpbot.storage.db import Database
from rpbot.storage.repos import Repos
from rpbot.storage.tables import FlowRun, Member

if TYPE_CHECKING:
    from rpbot.config import Settings

log = logging.getLogger(__name__)

ErasureMode = Literal["delete", "pseudonymise"]
ERASED_NAME = "Erased member"
ENCRYPTION_MARKER = "data_encryption"  # counters row: 1 while the database may hold ciphertext
RETENTION_JOB = "privacy_retention_at"  # counters row: minute the purge last ran
RETENTION_WATERMARK = "privacy_retention_runs_until"  # runs ended before this are emptied
RETENTION_EVERY = timedelta(hours=1)
RUN_BATCH = 1000


@dataclass
class PrivacyPolicy:
    """The privacy settings the services follow (from ``RPBOT_*``; defaults when unset)."""

    erasure_mode: ErasureMode = "delete"
    retention_days: int | None = None

    @classmethod
    def from_settings(cls, settings: Settings) -> PrivacyPolicy:
        """The policy in ``settings``."""
        return cls(settings.erasure_mode, settings.retention_days)


def configure_keys(settings: Settings) -> KeyRing | None:
    """Set the process-wide data key ring from ``RPBOT_DATA_KEY`` (DataKeyError if malformed)."""
    raw = settings.data_key.get_secret_value() if settings.data_key is not None else None
    return crypto.configure(raw)


# --- erasure ---------------------------------------------------------------------------


def pseudonym(member: Member) -> str:
    """The name a pseudonymised member gets: ``Member <id>``."""
    return f"Member {member.id}"


async def erase_member(
    repos: Repos, member: Member, mode: ErasureMode, now: datetime
) -> ErasureCounts:
    """Erase (or pseudonymise) one member inside the caller's transaction; audit it.

    The caller has already read what it needs to tell people (name, chat id).
    """
    keep = mode == "pseudonymise"
    label = pseudonym(member) if keep else ERASED_NAME
    scrubbed = 0
    if keep:
        for run in await repos.runs.for_member(member.id or 0):
            if run.status == "active":
                run.status, run.ended_at = "stopped", now
            run.session_json = _scrubbed(run, keep_answers=True, status=run.status)
            run.updated_at = now
            run.nudge_at = None
            await repos.runs.save(run)
            scrubbed += 1
    counts = await repos.privacy.erase_member(member, label=label, keep_answers=keep, now=now)
    if keep:
        counts.extra["runs_scrubbed"] = scrubbed
    circle_answers = await repos.circles.erase_member(member.id or 0, keep_answers=keep)
    plan_flows = await repos.plans.erase_member(member.id or 0)
    counts.extra.update(  # circles and plans (issue 8): only when there was something
        {k: v for k, v in (("circle_answers", circle_answers), ("plan_flows", plan_flows)) if v}
    )
    if agreement_rows := await repos.agreements.erase_member(member.id or 0, keep=keep):
        counts.extra["agreement_rows"] = agreement_rows
    await repos.audit.record(
        now, "member", member.id, "erasure", "member", member.id, f"mode={mode} {counts.detail()}"
    )
    log.info("member %s erased (mode %s): %s", member.id, mode, counts.detail())
    return counts


def _scrubbed(run: FlowRun, *, keep_answers: bool, status: str | None = None) -> str:
    """The run's session without names (context) and history; answers kept or dropped."""
    try:
        session = Session.from_json(run.session_json)
    except ValidationError:
        return "{}"  # unreadable: nothing worth keeping
    update: dict[str, object] = {"context": {}, "history": [], "selection": []}
    if not keep_answers:
        update.update(answers={}, share_overrides={})
    if status in ("completed", "stopped", "expired"):
        update["status"] = status
    return session.model_copy(update=update).to_json()


# --- retention -------------------------------------------------------------------------


@dataclass
class RetentionReport:
    """What one retention purge removed (counts only)."""

    cutoff: datetime
    answers: int = 0
    sessions: int = 0
    more: bool = False
    notes: list[str] = field(default_factory=list)


async def purge_expired(repos: Repos, days: int, now: datetime) -> RetentionReport:
    """Delete answers older than ``days`` and empty the sessions of runs that ended before.

    Sessions are emptied once: a watermark (counters row) remembers up to when; at most
    :data:`RUN_BATCH` runs per call (``report.more`` says the rest wait for the next one).
    """
    cutoff = now - timedelta(days=days)
    report = RetentionReport(cutoff)
    report.answers = await repos.privacy.delete_answers_before(cutoff)
    since = from_minutes(await repos.privacy.get_value(RETENTION_WATERMARK) or 0)
    runs = await repos.privacy.runs_ended_between(since, cutoff, limit=RUN_BATCH)
    for run in runs:
        run.session_json = _scrubbed(run, keep_answers=False)
        await repos.runs.save(run)
    report.sessions = len(runs)
    report.more = len(runs) == RUN_BATCH
    if report.more:
        last = runs[-1]
        upto = last.ended_at or last.updated_at
    else:
        upto = cutoff
    await repos.privacy.set_value(RETENTION_WATERMARK, to_minutes(upto))
    return report


async def retention_tick(
    db: Database, days: int | None, now: datetime, *, every: timedelta = RETENTION_EVERY
) -> RetentionReport | None:
    """Run the retention purge if it is on and nobody ran it within ``every`` (else None)."""
    if days is None:
        return None
    async with db.transaction() as repos:
        if not await repos.privacy.claim_every(RETENTION_JOB, now, every):
            return None
        report = await purge_expired(repos, days, now)
        removed = report.answers or report.sessions
        if removed:  # an hourly run that found nothing is not worth an entry
            detail = f"days={days} answers={report.answers} sessions={report.sessions}"
            await repos.audit.record(now, "system", None, "retention_purge", detail=detail)
    log.log(
        logging.INFO if removed else logging.DEBUG,
        "retention: purged %d answers and emptied %d sessions older than %d days",
        report.answers,
        report.sessions,
        days,
    )
    return report


# --- encryption at rest ----------------------------------------------------------------


async def check_encryption(db: Database) -> None:
    """Refuse (DataKeyError) to run without the key, or with a wrong key, on encrypted data.

    With a key: checks that it opens a stored encrypted value (if any), then records that
    this database holds encrypted data, so a later start without the key is refused even
    before anything was encrypted. Without a key: refuses if that record or any encrypted
    value exists.
    """
    ring = crypto.current()
    async with db.transaction() as repos:
        marked = bool(await repos.privacy.get_value(ENCRYPTION_MARKER))
        sample = await repos.privacy.first_encrypted()
        if ring is None:
            if marked or sample is not None:
                raise DataKeyError(MISSING_KEY)
            return
        if sample is not None:
            ring.decrypt(sample[2])  # DataKeyError naming RPBOT_DATA_KEY if no key fits
        if not marked:
            await repos.privacy.set_value(ENCRYPTION_MARKER, 1)


@dataclass
class RewriteReport:
    """What :func:`rewrite_encrypted` did, per kind of change."""

    reencrypted: int = 0
    encrypted: int = 0
    decrypted: int = 0
    unchanged: int = 0
    changed_meanwhile: int = 0
    columns: list[str] = field(default_factory=list)


async def rewrite_encrypted(
    db: Database, ring: KeyRing, *, decrypt: bool = False, batch: int = 500
) -> RewriteReport:
    """Re-encrypt every encrypted column with the ring's first key (plain values too).

    ``decrypt``: store everything as plain text instead (turning encryption off), and clear
    the database's encryption record. Works in batches of ``batch`` rows, one transaction
    each, and never overwrites a value that changed since it was read (the bot may run).
    """
    report = RewriteReport()
    for table, column in encrypted_columns():
        report.columns.append(f"{table.name}.{column.name}")
        after = 0
        while True:
            async with db.transaction() as repos:
                rows = await repos.privacy.raw_batch(table, column, after, batch)
                for row_id, stored in rows:
                    new = _rewritten(stored, ring, decrypt, report)
                    if new != stored and not await repos.privacy.replace_raw(
                        table, column, row_id, stored, new
                    ):
                        report.changed_meanwhile += 1
            if len(rows) < batch:
                break
            after = rows[-1][0]
    async with db.transaction() as repos:
        if decrypt:
            await repos.privacy.clear_value(ENCRYPTION_MARKER)
        else:
            await repos.privacy.set_value(ENCRYPTION_MARKER, 1)
    return report


def _rewritten(stored: str, ring: KeyRing, decrypt: bool, report: RewriteReport) -> str:
    if decrypt:
        if not crypto.is_encrypted(stored):
            report.unchanged += 1
            return stored
        report.decrypted += 1
        return crypto.seal(ring.decrypt(stored), None)
    if crypto.is_encrypted(stored):
        report.reencrypted += 1
        return ring.rotate(stored)
    report.encrypted += 1
    return ring.encrypt(crypto.unseal(stored, None))
