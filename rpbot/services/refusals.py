"""Refused requests: a button or step naming something that is not the person's own.

Every refusal of someone else's object (a family, member, schedule, reminder, alert or
activity named in button data) is written to the audit log as ``refused_<what>`` with the
actor and the target's id, and logged at WARNING: ids only, never message text or the
button's data (which a forger controls).
"""

from __future__ import annotations

import logging
from datetime import datetime

from rpbot.storage.repos import Repos

log = logging.getLogger(__name__)


def target_id(raw: str) -> int | None:
    """The id a button names, if it is a plain number (anything else is not logged)."""
    return int(raw) if raw.isdigit() and len(raw) <= 18 else None


async def refuse(
    repos: Repos,
    now: datetime,
    actor_type: str,
    actor_id: int | None,
    what: str,
    target: int | None = None,
    *,
    target_type: str | None = None,
) -> None:
    """Audit and log one refused request for ``what`` (family, member, schedule, ...)."""
    kind = target_type or what
    await repos.audit.record(
        now, actor_type, actor_id, f"refused_{what}", kind if target is not None else None, target
    )
    log.warning("refused_%s: %s %s named %s %s", what, actor_type, actor_id, kind, target)
