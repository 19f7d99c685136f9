"""Safeguarding: every free-text message is screened before the engine sees it.

On a concern, in the same transaction as the message itself:
- the sender gets the signpost for their role at once (a child: Childline and 999; a parent:
  NSPCC, Samaritans and 999), and their activity carries on gently;
- a :class:`SafeguardingAlert` row is stored (with the words, so the practitioner can read them);
- the family's practitioner is messaged at once with who, when, the words, and
  **Acknowledge** / **I will call** buttons.

An alert nobody acknowledged within ``realert_after`` is sent again (and again, each period)
and, once, to the duty chat if one is set. Quiet hours never apply to any of this. Logs say
that an alert was raised and its categories, never the words.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from rpbot.safeguarding import Screening, screen
from rpbot.services.callbacks import practitioner_data
from rpbot.services.digests import chat_of
from rpbot.services.outbox import Outbox, OutButton
from rpbot.services.refusals import refuse, target_id
from rpbot.storage.repos import Repos
from rpbot.storage.tables import Family, Member, Practitioner, SafeguardingAlert

log = logging.getLogger(__name__)

ACTIONS = frozenset({"sga", "sgc"})  # acknowledge, I will call
ACTION_NAMES = {"sga": "ack", "sgc": "call"}
SIGNPOSTS = {
    "child": (
        "Thank you for telling me 💛 That sounds really hard, and it's not your fault.\n"
        "You can talk to Childline any time, for free: 0800 1111.\n"
        "If you are in danger right now, call 999.\n"
        "I've let your worker know, so they can help."
    ),
    "parent": (
        "Thank you for telling me. That sounds really hard, and you don't have to face it alone.\n"
        "🚨 If anyone is in danger right now, call 999.\n"
        "NSPCC helpline (worried about a child): 0808 800 5000.\n"
        "Samaritans (any time, about anything): 116 123.\n"
        "I've let your practitioner know, so they can support you."
    ),
}
CATEGORY_NAMES = {
    "harm_to_child": "a child being hurt",
    "harm_by_parent": "a parent who might hurt a child",
    "self_harm": "self-harm or suicidal thoughts",
    "domestic_abuse": "domestic abuse",
    "danger_now": "danger right now",
    "secret_with_adult": "an adult asking a child to keep a secret",
    "substance_misuse": "drink or drugs",
}
REFUSED = "That isn't one of your alerts."
#: Of the words quoted in one alert message, in UTF-16 code units as Telegram counts (its
#: limit is 4096 for the whole message); longer words continue in the next message(s).
QUOTE_MAX = 3000
Screen = Callable[[str, str, str], Screening]


def _default_screen(text: str, language: str, role: str) -> Screening:
    return screen(text, language, sender=role)


@dataclass(frozen=True)
class AlertPolicy:
    """When to alert again, and where to escalate."""

    realert_after: timedelta = timedelta(hours=1)
    escalation_chat_id: int | None = None


def describe_categories(categories: str) -> str:
    """'self-harm or suicidal thoughts; danger right now'."""
    names = [CATEGORY_NAMES.get(c, c.replace("_", " ")) for c in categories.split(",") if c]
    return "; ".join(names)


def alert_text(
    alert: SafeguardingAlert, who: str, family: str, tz: str, *, again: bool = False
) -> str:
    """The practitioner's alert message (plain text: the sender escapes it)."""
    when = alert.created_at.astimezone(ZoneInfo(tz)).strftime("%a %d %b %H:%M")
    head = "🚨 Safeguarding concern" + (" - not yet acknowledged" if again else "")
    pieces = _pieces(alert.text or "(no longer stored)")
    words = f"“{pieces[0]}”" if len(pieces) == 1 else f"“{pieces[0]}…” (continued below)"
    return (
        f"{head}\n"
        f"Who: {who} ({alert.role}), {family} family\n"
        f"When: {when}\n"
        f"What I noticed: {describe_categories(alert.categories)}\n"
        f"Their words: {words}\n"
        f"They were shown the helplines for their age. Please tap a button to say you've seen this."
    )


def alert_more(alert: SafeguardingAlert) -> list[str]:
    """The rest of words too long for one alert message, as the messages that follow it."""
    rest = _pieces(alert.text or "")[1:]
    return [f"…{piece}" + ("”" if n == len(rest) else "…") for n, piece in enumerate(rest, 1)]


def _pieces(words: str) -> list[str]:
    """``words`` cut into pieces of at most ``QUOTE_MAX`` UTF-16 code units."""
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    for char in words:
        width = 2 if ord(char) > 0xFFFF else 1
        if size + width > QUOTE_MAX:
            pieces.append("".join(current))
            current, size = [], 0
        current.append(char)
        size += width
    return [*pieces, "".join(current)]


def alert_buttons(alert_id: int) -> list[list[OutButton]]:
    """Acknowledge / I will call."""
    return [
        [
            OutButton("✅ Acknowledge", practitioner_data("sga", alert_id)),
            OutButton("📞 I will call", practitioner_data("sgc", alert_id)),
        ]
    ]


class Safeguarding:
    """Screens words, raises alerts, takes acknowledgements and re-alerts."""

    def __init__(self, policy: AlertPolicy | None = None, screener: Screen | None = None) -> None:
        self.policy = policy or AlertPolicy()
        self.screen = screener or _default_screen

    async def check(
        self,
        repos: Repos,
        out: Outbox,
        member: Member,
        family: Family,
        text: str,
        flow_id: str | None,
        now: datetime,
    ) -> bool:
        """Screen one message; on a concern signpost the sender and alert. True if a concern."""
        if not text.strip():
            return False
        try:
            screening = self.screen(text, member.language, member.role)
        except Exception:  # never lose the message itself; operators must hear of it
            log.exception("safeguarding screening failed; this message was not screened")
            return False
        if not screening.concern:
            return False
        await out.send(
            member.chat_id or 0,
            SIGNPOSTS.get(member.role, SIGNPOSTS["parent"]),
            member_id=member.id,
        )
        categories = ",".join(screening.categories)
        alert = await repos.alerts.add(
            SafeguardingAlert(
                family_id=family.id or 0,
                member_id=member.id,
                practitioner_id=family.practitioner_id,
                role=member.role,
                categories=categories[:200],
                text=text,
                flow_id=flow_id,
                status="open",
                created_at=now,
                realert_at=now + self.policy.realert_after,
            )
        )
        practitioner = await repos.practitioners.by_id(family.practitioner_id)
        if practitioner is not None:
            await out.send(
                chat_of(practitioner),
                alert_text(alert, member.display_name, family.name, practitioner.timezone),
                alert_buttons(alert.id or 0),
            )
            for more in alert_more(alert):
                await out.send(chat_of(practitioner), more)
        await repos.audit.record(
            now, "system", None, "safeguarding_alert", "alert", alert.id, categories
        )
        log.warning(
            "safeguarding alert %s raised in family %s (%s)", alert.id, family.id, categories
        )
        return True

    async def press(
        self,
        repos: Repos,
        out: Outbox,
        practitioner: Practitioner,
        chat: int,
        action: str,
        args: list[str],
        now: datetime,
    ) -> str | None:
        """Acknowledge (or 'I will call') an alert; refuse anyone else's."""
        raw = args[0] if args else ""
        alert = await repos.alerts.by_id(int(raw)) if raw.isdigit() else None
        if alert is None or alert.practitioner_id != practitioner.id:
            await refuse(repos, now, "practitioner", practitioner.id, "alert", target_id(raw))
            return REFUSED
        if alert.status != "open":
            return "Already acknowledged - thank you."
        alert.status, alert.acknowledged_at = "acknowledged", now
        alert.acknowledged_action, alert.realert_at = ACTION_NAMES[action], None
        await repos.alerts.save(alert)
        await repos.audit.record(
            now,
            "practitioner",
            practitioner.id,
            f"safeguarding_{ACTION_NAMES[action]}",
            "alert",
            alert.id,
        )
        when = now.astimezone(ZoneInfo(practitioner.timezone)).strftime("%H:%M")
        said = "you will call" if action == "sgc" else "acknowledged"
        await out.send(chat, f"Thank you. Recorded at {when}: {said} ✅")
        return "Recorded ✅"

    async def sweep(self, repos: Repos, out: Outbox, now: datetime, limit: int = 100) -> int:
        """Re-alert (and escalate once) alerts still open past their time; return how many."""
        due = await repos.alerts.due_realerts(now, limit)
        for alert in due:
            await self._realert(repos, out, alert, now)
        return len(due)

    async def _realert(
        self, repos: Repos, out: Outbox, alert: SafeguardingAlert, now: datetime
    ) -> None:
        family = await repos.families.by_id(alert.family_id)
        member = await repos.members.by_id(alert.member_id) if alert.member_id else None
        practitioner = await repos.practitioners.by_id(alert.practitioner_id)
        who = member.display_name if member is not None else "A person since erased"
        name = family.name if family is not None else "?"
        tz = practitioner.timezone if practitioner is not None else "Europe/London"
        text = alert_text(alert, who, name, tz, again=True)
        if practitioner is not None:
            await out.send(chat_of(practitioner), text, alert_buttons(alert.id or 0))
            for more in alert_more(alert):
                await out.send(chat_of(practitioner), more)
        duty = self.policy.escalation_chat_id
        if duty is not None and alert.escalated_at is None:
            holder = practitioner.name if practitioner is not None else "their practitioner"
            await out.send(duty, f"{text}\n\nEscalated: {holder} has not acknowledged it yet.")
            for more in alert_more(alert):
                await out.send(duty, more)
            alert.escalated_at = now
        alert.realert_at = now + self.policy.realert_after
        await repos.alerts.save(alert)
        log.warning("safeguarding alert %s not acknowledged: alerted again", alert.id)
