"""Practitioners' digest tools: /digest [FAMILY] on demand and /digestsettings (day and time).

Button data: ``p1:dg:<family id|all>`` (on-demand digest), ``p1:dgd:<day>`` and
``p1:dgt:<HHMM>`` (settings). The typed-time step keeps its state in the practitioner's row.
"""

from __future__ import annotations

from datetime import datetime

from rpbot.engine.answers import Parsed, parse_time_text
from rpbot.scheduling.rules import DAY_NAMES, DAYS, Rule, RuleError
from rpbot.services.callbacks import practitioner_data
from rpbot.services.digests import Digests, next_digest_time
from rpbot.services.outbox import Outbox, OutButton
from rpbot.storage.repos import Repos
from rpbot.storage.tables import Family, Practitioner

ACTIONS = frozenset({"dg", "dgd", "dgt", "dgtype"})
TIMES = ("07:00", "08:30", "12:00", "17:00")
WORKING = "⏳ Putting your digest together. It will arrive in a moment."
EXPIRED = "That button has expired."
REFUSED = "That isn't one of your families."


def describe(practitioner: Practitioner) -> str:
    """'Mondays at 08:30 (Europe/London)'."""
    try:
        text = Rule.parse(practitioner.digest_days, practitioner.digest_time).describe()
    except RuleError:
        text = f"{practitioner.digest_days} {practitioner.digest_time}"
    return f"{text[0].upper()}{text[1:]} ({practitioner.timezone})"


def _clock_time(hhmm: str) -> bool:
    """Whether four digits are a time of day (forged data may say 9999)."""
    return int(hhmm[:2]) < 24 and int(hhmm[2:]) < 60


class DigestDesk:
    """Handles /digest and /digestsettings for one practitioner update at a time."""

    def __init__(self, digests: Digests) -> None:
        self.digests = digests

    async def command(
        self,
        repos: Repos,
        out: Outbox,
        practitioner: Practitioner,
        chat: int,
        command: str,
        args: str,
        now: datetime,
    ) -> None:
        """``/digest``, ``/digest FAMILY`` or ``/digestsettings [DAY TIME]``."""
        if command == "digestsettings":
            await self._settings_command(repos, out, practitioner, chat, args, now)
            return
        name = args.strip()
        if not name:
            await self._request(repos, out, practitioner, chat, None, now)
            return
        families = await repos.families.for_practitioner(practitioner.id or 0)
        match = [f for f in families if f.name.casefold() == name.casefold()]
        if match:
            await self._request(repos, out, practitioner, chat, match[0], now)
            return
        rows = [[OutButton("All families", practitioner_data("dg", "all"))]]
        rows += [[OutButton(f.name, practitioner_data("dg", f.id))] for f in families]
        await out.send(chat, "I couldn't find that family. Which one?", rows)

    async def button(
        self,
        repos: Repos,
        out: Outbox,
        practitioner: Practitioner,
        chat: int,
        action: str,
        args: list[str],
        now: datetime,
    ) -> str | None:
        """Handle a digest button; return a notice for refused or stale presses."""
        arg = args[0] if args else ""
        if action == "dg":
            family = None
            if arg != "all":
                family = await repos.families.by_id(int(arg)) if arg.isdigit() else None
                if family is None or family.practitioner_id != practitioner.id:
                    return REFUSED
            await self._request(repos, out, practitioner, chat, family, now)
            return None
        if action == "dgd" and arg in DAYS:
            practitioner.digest_days = arg
        elif action == "dgt" and len(arg) == 4 and arg.isdigit() and _clock_time(arg):
            practitioner.digest_time = f"{arg[:2]}:{arg[2:]}"
        elif action == "dgtype":
            practitioner.pending_json = '{"action": "digesttime"}'
            await repos.practitioners.save(practitioner)
            await out.send(chat, "What time? For example 08:30 or 5pm.")
            return None
        else:
            return EXPIRED
        await self._save(repos, out, practitioner, chat, now)
        return None

    async def typed_time(
        self,
        repos: Repos,
        out: Outbox,
        practitioner: Practitioner,
        chat: int,
        text: str,
        now: datetime,
    ) -> None:
        """The time typed after 'Type a time'."""
        parsed = parse_time_text(text)
        if not isinstance(parsed, Parsed):
            await out.send(chat, "I didn't catch that time. Try 08:30 or 5pm (or /help to stop).")
            return
        practitioner.pending_json = None
        practitioner.digest_time = str(parsed.value)
        await self._save(repos, out, practitioner, chat, now)

    async def _request(
        self,
        repos: Repos,
        out: Outbox,
        practitioner: Practitioner,
        chat: int,
        family: Family | None,
        now: datetime,
    ) -> None:
        family_id = family.id if family is not None else None
        await self.digests.request(repos, practitioner, now, family_id)
        await repos.audit.record(
            now, "practitioner", practitioner.id, "digest_requested", "family", family_id
        )
        await out.send(chat, WORKING)
        out.wake.add("digests")

    async def _settings_command(
        self,
        repos: Repos,
        out: Outbox,
        practitioner: Practitioner,
        chat: int,
        args: str,
        now: datetime,
    ) -> None:
        words = args.split()
        if len(words) == 2:
            try:
                rule = Rule.parse(words[0], words[1])
            except RuleError as exc:
                await out.send(chat, f"Sorry: {exc}")
                return
            practitioner.digest_days, practitioner.digest_time = rule.days_text, rule.time_text
            await self._save(repos, out, practitioner, chat, now)
            return
        await self._show(out, practitioner, chat)

    async def _show(self, out: Outbox, practitioner: Practitioner, chat: int) -> None:
        days = [OutButton(DAY_NAMES[d][:3], practitioner_data("dgd", d)) for d in DAYS]
        times = [OutButton(t, practitioner_data("dgt", t.replace(":", ""))) for t in TIMES]
        rows = [
            days[:4],
            days[4:],
            times,
            [OutButton("⌨️ Type a time", practitioner_data("dgtype"))],
        ]
        await out.send(
            chat,
            f"Your weekly digest comes: {describe(practitioner)}.\n"
            "Tap a day or a time to change it.",
            rows,
        )

    async def _save(
        self, repos: Repos, out: Outbox, practitioner: Practitioner, chat: int, now: datetime
    ) -> None:
        practitioner.digest_next_at = next_digest_time(practitioner, now)
        await repos.practitioners.save(practitioner)
        await repos.audit.record(now, "practitioner", practitioner.id, "digest_settings")
        await out.send(chat, f"Done ✅ Your weekly digest now comes: {describe(practitioner)}.")
