"""What parents and children can do: the menu, starting flows, answering questions."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from rpbot.engine import ButtonInput, CommandInput, Input, Library, MediaInput, Session, TextInput
from rpbot.engine.inputs import as_command, as_media_kind
from rpbot.engine.text import pick_language
from rpbot.services.agreement_desk import AgreementDesk
from rpbot.services.agreements import Agreements
from rpbot.services.callbacks import parse_answer, parse_menu
from rpbot.services.circles import Circles
from rpbot.services.conversation import Conversations
from rpbot.services.incoming import Incoming
from rpbot.services.menus import (
    LEARN,
    allowed_targets,
    flow_for_command,
    menu_buttons,
)
from rpbot.services.outbox import Outbox
from rpbot.services.plans import Plans
from rpbot.services.privacy_desk import PRIVACY_COMMANDS, PrivacyDesk, parse_privacy
from rpbot.services.refusals import refuse
from rpbot.services.reminder_settings import ReminderSettings, parse_settings
from rpbot.services.reminders import Reminders, parse_reminder
from rpbot.services.safeguarding import Safeguarding
from rpbot.storage.repos import Repos
from rpbot.storage.tables import Family, FlowRun, Member

log = logging.getLogger(__name__)

ACTIVE_EVERY = timedelta(minutes=5)
MOVED_ON = "That question has moved on - please use the latest one 🙂"
NOT_AVAILABLE = "That isn't available here."
NOT_IN_PLAN = "That isn't part of your programme at the moment. Here's your menu:"
MENU_TEXT = {"parent": "What would you like to do?", "child": "What would you like to do? 🙂"}
NOTHING_RUNNING = "There's nothing in progress right now. Here's the menu:"
UNKNOWN_COMMAND = "I don't know that command. Here's the menu:"
UNSUPPORTED = {
    "parent": "I can only read words, button taps, photos, voice notes and files here.",
    "child": "I can only read words and button taps here 🙂",
}
IDLE_TEXT = {
    "parent": "Thanks for your message. Pick something from the menu whenever you're ready:",
    "child": "Hi! Pick something from the menu 🙂",
}
HELP = {
    "parent": (
        "I help you keep your programme going between sessions: a diary, check-ins, "
        "reflections and short learning. Tap a button or use the menu. Inside any activity: "
        "/back changes your last answer, /skip skips an optional question, /stop finishes for "
        "now - your answers are always kept. Your practitioner sees what you share. "
        "/mydata sends you a copy of what I keep about you; /forget deletes it."
    ),
    "child": (
        "I ask you easy questions. Tap a button or type. /back goes back, /skip skips, /stop "
        "stops. There are no wrong answers, and you can stop any time 🙂 "
        "/mydata shows what I've saved about you, /forget deletes it."
    ),
}


class FamilyDesk:
    """Handles every update from a known parent or child."""

    def __init__(
        self,
        library: Library,
        conversations: Conversations,
        reminders: Reminders,
        safeguarding: Safeguarding | None = None,
    ) -> None:
        self.safeguarding = safeguarding or Safeguarding()
        self.library = library
        self.conversations = conversations
        self.reminders = reminders
        self.privacy = PrivacyDesk(library)  # the router shares its own (see UpdateRouter)
        self.settings = ReminderSettings(reminders)
        self.circles = Circles()  # /circle, circle answers (rpbot.services.circles)
        self.plans = Plans(library)  # what the member's programme plan offers them
        # /agreement and its buttons; the router shares it and hooks it to flow ends.
        self.agreements = AgreementDesk(Agreements(library, reminders))

    async def handle(
        self,
        repos: Repos,
        out: Outbox,
        member: Member,
        family: Family,
        incoming: Incoming,
        now: datetime,
    ) -> str | None:
        """Act on one update; return a short notice for a button press, if any."""
        # Write the member row only when something changed (or "last active" is 5 min stale):
        # this runs on every update.
        stale = member.last_active_at is None or now - member.last_active_at > ACTIVE_EVERY
        if stale or member.chat_id != incoming.chat_id or not member.active:
            member.last_active_at = now
            member.chat_id = incoming.chat_id
            member.active = True
            await repos.members.save(member)
        run = await repos.runs.active_for(member.id or 0, lock=True)
        if incoming.kind in ("text", "media") and incoming.text:
            # Screened before anything else sees the words; the activity then carries on.
            flow_id = run.flow_id if run is not None else None
            await self.safeguarding.check(repos, out, member, family, incoming.text, flow_id, now)
        if incoming.kind == "command" and member.pending_json is not None:
            member.pending_json = None  # any command leaves a half-done settings change
            await repos.members.save(member)
        circled, notice = await self.circles.member(repos, out, member, family, run, incoming, now)
        if circled:
            return notice
        pending = incoming.kind == "text" and member.pending_json is not None
        if pending and await self.settings.pending_text(
            repos, out, member, incoming.text or "", now
        ):
            return None
        if pending and await self.agreements.agreements.pending_text(
            repos, out, member, incoming.text or "", now
        ):
            return None
        if incoming.kind == "command":
            await self._command(repos, out, member, family, run, incoming, now)
            return None
        if incoming.kind == "button":
            return await self._button(repos, out, member, family, run, incoming, now)
        if incoming.kind == "unsupported":
            await out.send(member.chat_id or 0, UNSUPPORTED[member.role], member_id=member.id)
            return None
        given: Input
        if incoming.kind == "media":
            given = MediaInput(
                as_media_kind(incoming.media_kind), incoming.file_id or "", incoming.text
            )
        else:
            given = TextInput(incoming.text or "")
        if run is None:
            await self.show_menu(out, member, IDLE_TEXT[member.role])
            return None
        await self.conversations.resume(repos, out, member, run, given, now)
        return None

    async def show_menu(self, out: Outbox, member: Member, text: str | None = None) -> None:
        """Send the role's menu."""
        await out.send(
            member.chat_id or 0,
            text or MENU_TEXT[member.role],
            menu_buttons(member.role, await self.plans.disabled(out.repos, member)),
            member_id=member.id,
        )

    async def _command(
        self,
        repos: Repos,
        out: Outbox,
        member: Member,
        family: Family,
        run: FlowRun | None,
        incoming: Incoming,
        now: datetime,
    ) -> None:
        command = incoming.command or ""
        engine_command = as_command(command)
        if engine_command is not None and run is not None:
            await self.conversations.resume(
                repos, out, member, run, CommandInput(engine_command), now
            )
            return
        if command in ("start", "menu"):
            await self.show_menu(out, member)
        elif command == "agreement":
            await self.agreements.member_command(repos, out, member, family, incoming.args, now)
        elif command == "reminders":
            await self.settings.show(repos, out, member, now)
        elif command == "help":
            await out.send(member.chat_id or 0, HELP[member.role], member_id=member.id)
        elif command in PRIVACY_COMMANDS:
            await self.privacy.member_command(repos, out, member, family, command, now)
        elif engine_command is not None:
            await self.show_menu(out, member, NOTHING_RUNNING)
        else:
            target = flow_for_command(member.role, command)
            if target is None:
                await self.show_menu(out, member, UNKNOWN_COMMAND)
            else:
                await self.open(repos, out, member, family, target, now)

    async def open(
        self, repos: Repos, out: Outbox, member: Member, family: Family, target: str, now: datetime
    ) -> bool:
        """Open a menu target: a flow, or the learning submenu (False: refused, as the
        member's plan has it switched off)."""
        if target == LEARN:
            text, rows = await self.plans.learn_menu(repos, member, family, now)
            await out.send(member.chat_id or 0, text, rows, member_id=member.id)
            return True
        if target in await self.plans.disabled(repos, member):
            await refuse(repos, now, "member", member.id, "flow")
            await self.show_menu(out, member, NOT_IN_PLAN)
            return False
        await self.conversations.start(repos, out, member, family, target, now)
        return True

    async def _button(
        self,
        repos: Repos,
        out: Outbox,
        member: Member,
        family: Family,
        run: FlowRun | None,
        incoming: Incoming,
        now: datetime,
    ) -> str | None:
        data = incoming.data or ""
        press = parse_answer(data)
        if press is not None:
            if run is None or press.run_id != run.id:
                pressed = await repos.runs.by_id(press.run_id)
                if pressed is not None and pressed.member_id != member.id:  # forged: not theirs
                    await refuse(repos, now, "member", member.id, "run", press.run_id)
                return MOVED_ON
            if press.prompt != Session.from_json(run.session_json).prompt:
                return MOVED_ON  # an older question of this run: nothing changes
            await self.conversations.resume(
                repos, out, member, run, ButtonInput(press.value, press.prompt), now
            )
            return None
        reminder = parse_reminder(data)
        if reminder is not None:
            return await self.reminders.press(
                repos, out, member, family, reminder[0], reminder[1], incoming.message_id, now
            )
        setting = parse_settings(data)
        if setting is not None:
            return await self.settings.press(repos, out, member, setting[0], setting[1], now)
        if data.startswith("g1:"):
            return await self.agreements.member_button(
                repos, out, member, family, data, incoming.message_id, now
            )
        privacy = parse_privacy(data)
        if privacy is not None:
            return await self.privacy.member_button(
                repos, out, member, family, privacy, incoming.message_id, now
            )
        target = parse_menu(data)
        if target is not None:
            learn = target == LEARN and member.role == "parent"
            if learn or (target in allowed_targets(member.role) and target in self.library):
                if not await self.open(repos, out, member, family, target, now):
                    return NOT_AVAILABLE
                title = self.library[target].title if target in self.library else "Learn"
                return pick_language(title, member.language)
        # Another role's menu entry, a practitioner's tool, or data no button of ours carries.
        kind = data.split(":")[0] if data.split(":")[0] in ("m1", "p1") else "unrecognised"
        log.warning("member %s: %s button refused", member.id, kind)
        return NOT_AVAILABLE
