"""The entry point for every update: dedupe, identify the person, hand to their desk.

Each update is handled in one database transaction, which also claims the update id, so an
update delivered twice is processed once and a crash mid-way leaves nothing half done.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from rpbot.clock import Clock
from rpbot.engine import Library
from rpbot.services.conversation import Conversations
from rpbot.services.digest_desk import DigestDesk
from rpbot.services.digests import DigestRunner, Digests
from rpbot.services.enrolment import redeem
from rpbot.services.family_desk import FamilyDesk
from rpbot.services.flood import COOL_DOWN_TEXT, Flood, FloodGuard
from rpbot.services.incoming import Handled, Incoming
from rpbot.services.outbox import Outbox
from rpbot.services.practitioner_desk import PractitionerDesk
from rpbot.services.privacy_desk import PrivacyDesk
from rpbot.services.reminders import SWEEP_LIMIT, Reminders, SweepReport
from rpbot.services.safeguarding import AlertPolicy, Safeguarding
from rpbot.services.schedule_desk import ScheduleDesk
from rpbot.storage.db import Database
from rpbot.storage.tables import OutboxMessage

log = logging.getLogger(__name__)

GROUP_TEXT = (
    "Hello! I only work in private one-to-one chats, to keep families' words private. "
    "I'll leave this group now."
)
OUTBOX_KEEP = timedelta(days=8)


class UpdateRouter:
    """Routes neutral updates to enrolment, the family desk or the practitioner desk."""

    def __init__(
        self,
        db: Database,
        library: Library,
        clock: Clock,
        *,
        secret: str,
        timezone: str = "Europe/London",
        bot_username: str = "rpbot",
        grace: timedelta = timedelta(hours=2),
        worker: str | None = None,
        alerts: AlertPolicy | None = None,
    ) -> None:
        self.worker = worker
        self.db = db
        self.library = library
        self.clock = clock
        self.secret = secret
        self.timezone = timezone
        self.conversations = Conversations(library)
        self.reminders = Reminders(library, self.conversations, grace)
        self.alert_policy = alerts or AlertPolicy()
        self.safeguarding = Safeguarding(self.alert_policy)
        self.family_desk = FamilyDesk(
            library, self.conversations, self.reminders, self.safeguarding
        )
        self.digests = Digests(library)
        self.digest_runner = DigestRunner(db, self.digests, worker)
        self.practitioner_desk = PractitionerDesk(
            bot_username,
            ScheduleDesk(library, self.reminders),
            DigestDesk(self.digests),
            self.safeguarding,
        )
        # One privacy desk (erasure mode, retention) shared by both desks and the sweep.
        self.privacy = PrivacyDesk(library)
        self.family_desk.privacy = self.privacy
        self.practitioner_desk.privacy = self.privacy
        # Household agreements: one desk for both, reading flow ends (proposals, chores).
        self.practitioner_desk.agreements = self.family_desk.agreements
        self.conversations.end_hooks.append(self.family_desk.agreements.agreements.on_flow_end)
        self.flood = FloodGuard()  # per person, in memory (see rpbot.services.flood)

    def set_bot_username(self, username: str) -> None:
        """Use the bot's real username in invite links (known after getMe)."""
        self.practitioner_desk.bot_username = username

    async def handle(self, incoming: Incoming) -> Handled:
        """Handle one update; say which chats have messages waiting to be sent."""
        now = self.clock.now()
        flood = self.flood.check(incoming.user_id, now)  # before any database work
        if flood is Flood.IGNORE:
            return Handled(chats=set())
        async with self.db.transaction() as repos:
            if incoming.update_id is not None and not await repos.updates.claim(
                incoming.update_id, now
            ):
                log.info("update %s already processed; skipped", incoming.update_id)
                return Handled(chats={incoming.chat_id})
            out = Outbox(repos, now, self.worker)
            handled = Handled(chats=out.chats, rows=out.rows, wake=out.wake)
            if incoming.chat_id == self.alert_policy.escalation_chat_id:
                return handled  # the duty chat: the bot posts there, and reads nothing
            if incoming.chat_type != "private":
                log.warning("a %s chat was refused and is left", incoming.chat_type)
                await out.send(incoming.chat_id, GROUP_TEXT)
                await out.leave(incoming.chat_id)
                handled.leave_chat = True
                return handled
            if flood is Flood.COOL_DOWN:
                await out.send(incoming.chat_id, COOL_DOWN_TEXT)
                return handled
            if incoming.edited or incoming.detail == "command_for_other_bot":
                log.warning(
                    "update %s ignored (%s)", incoming.update_id, incoming.detail or "edited"
                )
                return handled
            if incoming.kind == "unsupported":  # a kind reply follows; the kind, never contents
                log.warning(
                    "update %s: unsupported message (%s)", incoming.update_id, incoming.detail
                )
            # A practitioner is served as one even if they also joined a family; most updates
            # come from members, found with their family (and that check) in one query.
            known = await repos.members.identify(incoming.user_id)
            practitioner = (
                known[2]
                if known is not None
                else await repos.practitioners.by_telegram_id(incoming.user_id)
            )
            if practitioner is not None:
                handled.notice = await self.practitioner_desk.handle(
                    repos, out, practitioner, incoming, now
                )
                return handled
            if known is not None:
                member, family, _ = known
                handled.notice = await self.family_desk.handle(
                    repos, out, member, family, incoming, now
                )
                return handled
            await redeem(
                repos,
                out,
                incoming,
                now,
                secret=self.secret,
                timezone=self.timezone,
                reminders=self.reminders,
            )
            return handled

    async def sweep(self, *, limit: int = SWEEP_LIMIT, prune: bool = True) -> SweepReport:
        """Run one sweep of due reminders, nudges and expiries; say which chats have mail.

        One transaction claims at most ``limit`` rows of each kind; ``report.full`` says more
        may be due (see :meth:`rpbot.telegram.app.TelegramBot.sweep_once`).
        """
        now = self.clock.now()
        async with self.db.transaction() as repos:
            out = Outbox(repos, now, self.worker)
            report = await self.reminders.sweep(repos, out, now, limit=limit)
            report.alerts = await self.safeguarding.sweep(repos, out, now, limit=limit)
            report.full = report.full or report.alerts >= limit
            # Family circles: close rounds at their deadline, send what quiet hours held back.
            circles = await self.family_desk.circles.sweep(repos, out, now, limit=limit)
            report.full = report.full or circles >= limit
            report.rows = out.rows
            if prune:
                # Sent messages hold people's words; keep them only while a question may
                # still be closed (flows expire after days, not weeks).
                await repos.outbox.prune(now - OUTBOX_KEEP)
            return report

    async def run_digests(self, *, everyone_now: bool = False) -> list[OutboxMessage]:
        """Build and queue the digests that are due or asked for; return the queued rows.

        ``everyone_now`` first asks for an on-demand digest for every practitioner (the
        sandbox's "Send weekly digest now").
        """
        now = self.clock.now()
        if everyone_now:
            async with self.db.transaction() as repos:
                for practitioner in await repos.practitioners.all():
                    await self.digests.request(repos, practitioner, now)
        return await self.digest_runner.run(now)
