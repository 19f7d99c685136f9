"""The practitioner's ``/plan``: choose a family, then a member (switch a flow on or off,
change a reminder's time) or the module order (move a module a week earlier or later).

Buttons are ``p1:pl...`` practitioner buttons; every one names a family or member that is
checked to be the practitioner's own (anything else is refused and audited). A time being
typed is the only state between steps, kept in the practitioner's row.
"""

from __future__ import annotations

import json
from datetime import datetime

from rpbot.engine import Library
from rpbot.engine.answers import Parsed, parse_time_text
from rpbot.scheduling.rules import Rule
from rpbot.services.callbacks import is_id, parse_practitioner, practitioner_data
from rpbot.services.circles import NOT_HANDLED, Handled, local_when
from rpbot.services.incoming import Incoming
from rpbot.services.outbox import Outbox, OutButton
from rpbot.services.plans import FlowSetting, Plans
from rpbot.services.refusals import refuse, target_id
from rpbot.services.reminders import Reminders
from rpbot.storage.repos import Repos
from rpbot.storage.tables import Family, Member, Practitioner

ACTIONS = frozenset({"pl", "plm", "plf", "plt", "plw", "plu", "pld"})
REFUSED = "That isn't one of your families."
EXPIRED = "That button has expired."


def describe(plans: Plans, setting: FlowSetting) -> str:
    """'✅ Day in the Life diary: every day at 19:30' or '🚫 ... (off)'."""
    title = plans.title(setting.flow_id)
    if not setting.enabled:
        return f"🚫 {title} (off)"
    rule = setting.rule
    return f"✅ {title}" + (f": {rule.describe()}" if rule else "")


class PlanDesk:
    """The /plan tool, one practitioner update at a time."""

    def __init__(self, library: Library, reminders: Reminders, plans: Plans | None = None) -> None:
        self.plans = plans or Plans(library)
        self.reminders = reminders

    async def practitioner(
        self,
        repos: Repos,
        out: Outbox,
        practitioner: Practitioner,
        incoming: Incoming,
        now: datetime,
    ) -> Handled:
        """Handle /plan, its buttons and a typed time (anything else: not handled)."""
        chat = incoming.chat_id
        if incoming.kind == "command" and incoming.command == "plan":
            await self._pending(repos, practitioner, None)
            families = await repos.families.for_practitioner(practitioner.id or 0)
            name = incoming.args.strip().casefold()
            match = [f for f in families if f.name.casefold() == name] if name else []
            if match:
                await self.show_family(repos, out, chat, match[0], now, practitioner.timezone)
            elif not families:
                await out.send(chat, "You have no families yet. Add one with /newfamily.")
            else:
                rows = [[OutButton(f.name, practitioner_data("pl", f.id))] for f in families]
                await out.send(chat, "Whose programme plan?", rows)
            return True, None
        if incoming.kind == "button":
            parts = parse_practitioner(incoming.data or "")
            if not parts or parts[0] not in ACTIONS:
                return NOT_HANDLED
            return True, await self._button(repos, out, practitioner, chat, parts, now)
        pending = json.loads(practitioner.pending_json) if practitioner.pending_json else None
        timing = isinstance(pending, dict) and pending.get("action") == "plan_time"
        if incoming.kind == "text" and isinstance(pending, dict) and timing:
            await self._typed_time(repos, out, practitioner, chat, pending, incoming, now)
            return True, None
        return NOT_HANDLED

    async def _pending(
        self, repos: Repos, practitioner: Practitioner, state: dict[str, object] | None
    ) -> None:
        practitioner.pending_json = json.dumps(state) if state is not None else None
        await repos.practitioners.save(practitioner)

    async def _family(self, repos: Repos, practitioner: Practitioner, raw: str) -> Family | None:
        family = await repos.families.by_id(int(raw)) if is_id(raw) else None
        return family if family is not None and family.practitioner_id == practitioner.id else None

    async def _member(
        self, repos: Repos, practitioner: Practitioner, raw: str
    ) -> tuple[Member, Family] | None:
        member = await repos.members.by_id(int(raw)) if is_id(raw) else None
        if member is None:
            return None
        family = await self._family(repos, practitioner, str(member.family_id))
        return (member, family) if family is not None else None

    async def _button(
        self,
        repos: Repos,
        out: Outbox,
        practitioner: Practitioner,
        chat: int,
        parts: list[str],
        now: datetime,
    ) -> str | None:
        action, args = parts[0], parts[1:]
        raw = args[0] if args else ""
        index = int(args[1]) if len(args) > 1 and is_id(args[1]) else None
        if action in ("pl", "plw", "plu", "pld"):
            family = await self._family(repos, practitioner, raw)
            if family is None:
                await refuse(
                    repos,
                    now,
                    "practitioner",
                    practitioner.id,
                    "plan",
                    target_id(raw),
                    target_type="family",
                )
                return REFUSED
            if action == "pl":
                await self.show_family(repos, out, chat, family, now, practitioner.timezone)
            elif action == "plw":
                await self.show_modules(repos, out, chat, family, now)
            else:
                modules = await self.plans.modules(repos, family.id or 0)
                if index is None or index >= len(modules):
                    return EXPIRED
                step = -1 if action == "plu" else 1
                await self.plans.move_module(repos, family, modules[index], step, now)
                await repos.audit.record(
                    now, "practitioner", practitioner.id, "plan_module_moved", "family", family.id
                )
                await self.show_modules(repos, out, chat, family, now)
            return None
        found = await self._member(repos, practitioner, raw)
        if found is None:
            await refuse(
                repos,
                now,
                "practitioner",
                practitioner.id,
                "plan",
                target_id(raw),
                target_type="member",
            )
            return REFUSED
        member, family = found
        if action == "plm":
            await self.show_member(repos, out, chat, member)
            return None
        settings = await self.plans.settings(repos, member)
        if index is None or index >= len(settings):
            return EXPIRED
        setting = settings[index]
        if action == "plf":
            changed = await self.plans.set_flow(
                repos, self.reminders, member, setting.flow_id, now, enabled=not setting.enabled
            )
            await repos.audit.record(
                now,
                "practitioner",
                practitioner.id,
                "plan_flow_changed",
                "member",
                member.id,
                f"{setting.flow_id} {'on' if changed.enabled else 'off'}",
            )
            await self.show_member(repos, out, chat, member)
            return None
        if action == "plt":
            state: dict[str, object] = {
                "action": "plan_time",
                "member": member.id,
                "flow": setting.flow_id,
            }
            await self._pending(repos, practitioner, state)
            rule = setting.rule
            days = rule.describe().rsplit(" at ", 1)[0] if rule else "every day"
            await out.send(
                chat,
                f"What time for {self.plans.title(setting.flow_id)} ({days}), in "
                f"{member.display_name}'s time ({member.timezone})? e.g. 19:30",
            )
            return None
        return EXPIRED

    async def _typed_time(
        self,
        repos: Repos,
        out: Outbox,
        practitioner: Practitioner,
        chat: int,
        pending: dict[str, object],
        incoming: Incoming,
        now: datetime,
    ) -> None:
        found = await self._member(repos, practitioner, str(pending.get("member")))
        parsed = parse_time_text(incoming.text or "")
        if found is None:
            await self._pending(repos, practitioner, None)
            await out.send(chat, EXPIRED)
            return
        if not isinstance(parsed, Parsed) or not isinstance(parsed.value, str):
            await out.send(chat, "Please type a time like 19:30 or 7pm (or /plan to leave it).")
            return
        await self._pending(repos, practitioner, None)
        member, _ = found
        try:
            setting = await self.plans.set_flow(
                repos, self.reminders, member, str(pending.get("flow")), now, time=parsed.value
            )
        except ValueError as exc:
            await out.send(chat, f"Sorry: {exc}.")
            return
        await repos.audit.record(
            now,
            "practitioner",
            practitioner.id,
            "plan_flow_changed",
            "member",
            member.id,
            f"{setting.flow_id} at {setting.time}",
        )
        await out.send(chat, f"Done. {member.display_name}: {describe(self.plans, setting)}.")
        await self.show_member(repos, out, chat, member)

    async def show_family(
        self,
        repos: Repos,
        out: Outbox,
        chat: int,
        family: Family,
        now: datetime,
        tz: str = "Europe/London",
    ) -> None:
        """The family's programme: the week, the modules, and a button per member."""
        progress = await self.plans.progress(repos, family, now)
        lines = [
            f"📋 Programme plan: {family.name} family",
            f"Week {progress.week} of {progress.weeks} "
            f"(started {local_when(progress.started_at, tz).rsplit(' at ', 1)[0]})"
            f" · {len(progress.done)} of {progress.weeks} modules done",
        ]
        members = await repos.members.in_family(family.id or 0)
        rows = [
            [OutButton(f"{m.display_name} ({m.role})", practitioner_data("plm", m.id))]
            for m in members
            if m.telegram_user_id is not None or m.active  # not erased
        ]
        rows.append([OutButton("📚 Module order", practitioner_data("plw", family.id))])
        lines.append("Choose a person to switch activities on or off and change times:")
        await out.send(chat, "\n".join(lines), rows)

    async def show_modules(
        self, repos: Repos, out: Outbox, chat: int, family: Family, now: datetime
    ) -> None:
        """The modules by week with buttons to move each one."""
        progress = await self.plans.progress(repos, family, now)
        lines = [f"📚 {family.name} family: learning modules, one a week"]
        rows = []
        for i, module in enumerate(progress.modules):
            mark = " ✅" if module in progress.done else ""
            now_mark = " ← this week" if i + 1 == progress.week else ""
            lines.append(f"Week {i + 1}: {self.plans.title(module)}{mark}{now_mark}")
            rows.append(
                [
                    OutButton(f"⬆️ {i + 1}", practitioner_data("plu", family.id, i)),
                    OutButton(f"⬇️ {i + 1}", practitioner_data("pld", family.id, i)),
                ]
            )
        await out.send(chat, "\n".join(lines), rows)

    async def show_member(self, repos: Repos, out: Outbox, chat: int, member: Member) -> None:
        """A member's plan with a button per flow: switch on/off, change the time."""
        settings = await self.plans.settings(repos, member)
        lines = [f"📋 {member.display_name}'s plan ({member.role}):"]
        rows = []
        for i, setting in enumerate(settings):
            lines.append(describe(self.plans, setting))
            title = self.plans.title(setting.flow_id)
            toggle = f"🚫 Turn off {title}" if setting.enabled else f"✅ Turn on {title}"
            row = [OutButton(toggle, practitioner_data("plf", member.id, i))]
            if setting.enabled:
                row.append(OutButton("⏰ Time", practitioner_data("plt", member.id, i)))
            rows.append(row)
        await out.send(chat, "\n".join(lines), rows)


def week_rule_text(setting: FlowSetting) -> str:
    """The reminder's days and time for the CLI ('daily 19:30', '-' for none)."""
    if setting.time is None:
        return "-"
    return f"{Rule.parse(setting.days or '', setting.time).describe()}"
