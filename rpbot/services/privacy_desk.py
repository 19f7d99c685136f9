"""The privacy commands in the chat: ``/mydata`` (a copy of your data) and ``/forget``.

``/mydata`` sends a readable HTML page and a JSON file through the outbox (so they survive a
restart); their contents are removed from the outbox once delivered. ``/forget`` asks first,
with buttons whose data carries the time they were offered: a "Yes" older than an hour is
refused kindly. Practitioners get ``/mydata`` for their own record; their accounts hold
families' records, so ``/forget`` points them to whoever runs the bot.

Button data (at most 64 bytes): ``x1:forget:<unix time offered>`` and ``x1:keep``.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rpbot.engine import Library, Session
from rpbot.services.outbox import Outbox, OutButton
from rpbot.services.privacy import (
    PrivacyPolicy,
    RetentionReport,
    erase_member,
    retention_tick,
)
from rpbot.services.privacy_export import Export, member_export, practitioner_export
from rpbot.storage.db import Database
from rpbot.storage.repos import Repos
from rpbot.storage.tables import Family, Member, Practitioner

PRIVACY_COMMANDS = ("mydata", "forget")
PREFIX = "x1"
CONFIRM_TTL = timedelta(hours=1)

MYDATA_TEXT = {
    "parent": (
        "Here is everything I keep about you: a page you can open on your phone, and the same "
        "as a data file. They're only for you - keep them somewhere safe."
    ),
    "child": "Here's everything I've saved about you 📄 It's just for you - keep it safe.",
    "practitioner": "Here is what the bot keeps about you: a readable page and a data file.",
}
CAPTIONS = ("Your data: a page to read", "Your data: the same as a data file (JSON)")
ASK = {
    ("parent", "delete"): (
        "Do you want me to delete your data?\n\nThis removes your answers, your reminders and "
        "your name from this bot, and I'll stop messaging you. Your practitioner will be told. "
        "It can't be undone.\n\nTip: /mydata gets you a copy to keep first. Safety records "
        "your service must keep by law stay with them."
    ),
    ("parent", "pseudonymise"): (
        "Do you want me to remove your data?\n\nYour name and Telegram account will be removed "
        "and I'll stop messaging you. Your service keeps your answers for its records, without "
        "your name. Your practitioner will be told. It can't be undone.\n\nTip: /mydata gets "
        "you a copy to keep first."
    ),
    ("child", "delete"): (
        "Do you want me to delete what you've told me?\n\nYour answers and your name will go, "
        "and I'll stop sending you messages. Your worker will be told. You can't undo this. "
        "(Some safety notes have to be kept by law.)"
    ),
    ("child", "pseudonymise"): (
        "Do you want me to forget who you are?\n\nYour name will go and I'll stop sending you "
        "messages. Your answers stay with the service, without your name. Your worker will be "
        "told. You can't undo this."
    ),
}
YES, NO = "Yes, delete my data", "No, keep it"
GOODBYE = {
    ("parent", "delete"): (
        "Done - your data has been deleted. Thank you for all the work you've put in 💛 "
        "If you ever want to come back, ask your practitioner for a new link. This chat stays "
        "on your phone until you delete it in Telegram."
    ),
    ("parent", "pseudonymise"): (
        "Done - your name and account have been removed. Thank you for all the work you've "
        "put in 💛 If you ever want to come back, ask your practitioner for a new link. This "
        "chat stays on your phone until you delete it in Telegram."
    ),
    ("child", "delete"): (
        "Done - I've deleted your answers and your name. Thank you for talking to me 💛 "
        "If you want to come back, ask your worker for a new link. You can delete this chat "
        "in Telegram too."
    ),
    ("child", "pseudonymise"): (
        "Done - I've removed your name. Thank you for talking to me 💛 "
        "If you want to come back, ask your worker for a new link. You can delete this chat "
        "in Telegram too."
    ),
}
KEPT = {
    "parent": "Good - nothing has been deleted. Send /menu whenever you're ready.",
    "child": "OK - nothing has been deleted 🙂 Send /menu when you want.",
}
TOO_OLD = "That question has expired. Send /forget again if you still want this."
PRACTITIONER_FORGET = (
    "Your account holds your families' records, so it can't be deleted from here. Please ask "
    "whoever runs this bot for your service. /mydata sends you a copy of what it keeps about you."
)


def privacy_data(*parts: object) -> str:
    """Callback data for a privacy button."""
    return ":".join([PREFIX, *(str(p) for p in parts)])


def parse_privacy(data: str) -> list[str] | None:
    """The parts after the prefix of a privacy button, or None."""
    parts = data.split(":")
    return parts[1:] if parts[0] == PREFIX and len(parts) > 1 else None


class PrivacyDesk:
    """Handles /mydata and /forget for family members and practitioners, and retention."""

    def __init__(self, library: Library | None = None) -> None:
        self.library = library
        self.policy = PrivacyPolicy()

    def configure(self, policy: PrivacyPolicy) -> None:
        """Follow ``policy`` (erasure mode, retention) from now on."""
        self.policy = policy

    # --- family members ------------------------------------------------------------------

    async def member_command(
        self,
        repos: Repos,
        out: Outbox,
        member: Member,
        family: Family,
        command: str,
        now: datetime,
    ) -> None:
        """/mydata or /forget from a parent or child."""
        chat = member.chat_id or 0
        if command == "mydata":
            export = await member_export(repos, self.library, member, family, now)
            await out.send(chat, MYDATA_TEXT[_role(member)], member_id=member.id)
            await self._send(out, chat, export, now, member.id)
            await repos.audit.record(
                now,
                "member",
                member.id,
                "export",
                "member",
                member.id,
                f"answers={export.answers}",
            )
            return
        mode = self.policy.erasure_mode
        offered = int(now.timestamp())
        rows = [
            [OutButton(YES, privacy_data("forget", offered))],
            [OutButton(NO, privacy_data("keep"))],
        ]
        await out.send(chat, ASK[(_role(member), mode)], rows, member_id=member.id)

    async def member_button(
        self,
        repos: Repos,
        out: Outbox,
        member: Member,
        family: Family,
        parts: list[str],
        message_id: int | None,
        now: datetime,
    ) -> str | None:
        """A press on a /forget button; returns the short notice shown on the button."""
        chat = member.chat_id or 0
        if parts == ["keep"]:
            if message_id is not None:
                await out.drop_buttons(chat, message_id)
            await out.send(chat, KEPT[_role(member)], member_id=member.id)
            return "Nothing deleted"
        # A Unix time of at most 10 digits (forged data may hold "²" or a huge number).
        valid = len(parts) == 2 and parts[0] == "forget" and len(parts[1]) <= 10
        if not valid or not (parts[1].isascii() and parts[1].isdigit()):
            return "That isn't available here."
        offered = datetime.fromtimestamp(int(parts[1]), tz=UTC)
        if not timedelta(0) <= now - offered <= CONFIRM_TTL:
            if message_id is not None:
                await out.drop_buttons(chat, message_id)
            return TOO_OLD
        await self.forget(repos, out, member, family, message_id, now)
        return "Done"

    async def forget(
        self,
        repos: Repos,
        out: Outbox,
        member: Member,
        family: Family,
        message_id: int | None,
        now: datetime,
    ) -> None:
        """Erase ``member`` (per the policy), say goodbye and tell their practitioner."""
        mode = self.policy.erasure_mode
        chat, name, role = member.chat_id or 0, member.display_name, _role(member)
        # The open question's buttons (its outbox row goes with the erasure).
        stale: list[int] = [message_id] if message_id is not None else []
        run = await repos.runs.active_for(member.id or 0)
        if run is not None:
            prompt = Session.from_json(run.session_json).prompt
            question = await repos.outbox.question_for(run.id or 0, prompt)
            if question is not None and question.sent_message_id is not None:
                stale.append(question.sent_message_id)
        counts = await erase_member(repos, member, mode, now)
        for stale_id in dict.fromkeys(stale):
            await out.drop_buttons(chat, stale_id)
        await out.send(chat, GOODBYE[(role, mode)])
        practitioner = await repos.practitioners.by_id(family.practitioner_id)
        if practitioner is None:
            return
        if mode == "delete":
            told = f"{name} ({member.role}, {family.name} family) asked for their data to be "
            told += "erased; done. Their answers, reminders and name have been deleted."
        else:
            told = (
                f"{name} ({member.role}, {family.name} family) asked for their data to be "
                f"erased; done. Their name and Telegram account were removed; their answers "
                f"are kept as '{member.display_name}'."
            )
        if counts.alerts:
            told += " Safeguarding alerts raised from their words are kept, without their name."
        # secret: the name leaves the outbox once the message is delivered.
        await out.send(practitioner.chat_id or practitioner.telegram_user_id, told, secret=True)

    # --- practitioners -------------------------------------------------------------------

    async def practitioner_command(
        self,
        repos: Repos,
        out: Outbox,
        practitioner: Practitioner,
        chat: int,
        command: str,
        now: datetime,
    ) -> None:
        """/mydata or /forget from a practitioner."""
        if command != "mydata":
            await out.send(chat, PRACTITIONER_FORGET)
            return
        export = await practitioner_export(repos, practitioner, now)
        await out.send(chat, MYDATA_TEXT["practitioner"])
        await self._send(out, chat, export, now, None)
        await repos.audit.record(
            now, "practitioner", practitioner.id, "export", "practitioner", practitioner.id
        )

    # --- retention -----------------------------------------------------------------------

    async def sweep(self, db: Database, now: datetime) -> RetentionReport | None:
        """The scheduled retention purge (at most hourly; nothing if retention is off)."""
        return await retention_tick(db, self.policy.retention_days, now)

    @staticmethod
    async def _send(
        out: Outbox, chat: int, export: Export, now: datetime, member_id: int | None
    ) -> None:
        page, data = export.filenames(now)
        await out.document(
            chat, page, export.html_text, CAPTIONS[0], member_id=member_id, secret=True
        )
        await out.document(
            chat, data, export.json_text, CAPTIONS[1], member_id=member_id, secret=True
        )


def _role(member: Member) -> str:
    return "child" if member.role == "child" else "parent"
