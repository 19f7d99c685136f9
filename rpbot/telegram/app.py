"""Wiring python-telegram-bot to the services. Handlers stay thin: convert, route, send.

PTB is the transport only: no ConversationHandler, no JobQueue, no persistence. All state
lives in the database; a restart (even ``kill -9``) loses nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import timedelta

from telegram import CallbackQuery, Update
from telegram.ext import Application, ApplicationBuilder, ContextTypes, TypeHandler

from rpbot.clock import Clock
from rpbot.config import Settings
from rpbot.engine import Library
from rpbot.logs import quiet_library_logs
from rpbot.safeguarding import default_screener
from rpbot.scheduling.runner import SweepScheduler
from rpbot.services.plans import standard_programme
from rpbot.services.privacy import PrivacyPolicy, check_encryption, configure_keys
from rpbot.services.reminders import SweepReport
from rpbot.services.router import UpdateRouter
from rpbot.services.safeguarding import AlertPolicy
from rpbot.storage.db import Database
from rpbot.telegram.convert import to_incoming
from rpbot.telegram.processor import PerPersonUpdateProcessor
from rpbot.telegram.ratelimit import RateLimiter
from rpbot.telegram.sender import OutboxSender, Sleep, worker_name
from rpbot.telegram.transport import AiohttpRequest

log = logging.getLogger(__name__)

SWEEP_BATCH = 100  # rows of each kind one sweep transaction claims
MAX_SWEEP_BATCHES = 200  # per sweep_once; anything left waits for the next sweep

SORRY = (
    "Sorry, something went wrong on my side. Your answers so far are safe - "
    "please try again in a moment."
)


async def _answer(query: CallbackQuery, notice: str | None) -> None:
    with contextlib.suppress(Exception):  # an expired query must not stop the reply
        await query.answer(notice)


class TelegramBot:
    """The bot: a PTB Application polling the Bot API, the router and the outbox sender."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        library: Library,
        clock: Clock,
        *,
        sleep: Sleep = asyncio.sleep,
        poll_timeout: int = 30,
        sweep: bool = True,
    ) -> None:
        token = settings.require_token()
        quiet_library_logs()
        default_screener()  # a broken safeguarding rules file stops the start, with its message
        standard_programme()  # so does a broken programme file; and no update waits to load it
        self.settings = settings
        self.poll_timeout = poll_timeout
        builder = (
            ApplicationBuilder()
            .token(token)
            .base_url(settings.telegram_api_url)
            .base_file_url(settings.telegram_file_url)
            .concurrent_updates(PerPersonUpdateProcessor())
        )
        if settings.http_client == "aiohttp":
            builder = builder.request(AiohttpRequest()).get_updates_request(
                AiohttpRequest(pool_size=1)
            )
        self.application: Application = builder.build()  # type: ignore[type-arg]
        worker = worker_name()
        self.router = UpdateRouter(
            db,
            library,
            clock,
            secret=token,
            timezone=settings.timezone,
            grace=timedelta(hours=settings.reminder_grace_hours),
            worker=worker,
            alerts=AlertPolicy(
                timedelta(minutes=settings.safeguarding_realert_minutes),
                settings.safeguarding_escalation_chat_id,
            ),
        )
        configure_keys(settings)  # RPBOT_DATA_KEY's key ring; start() checks it fits the data
        self.router.privacy.configure(PrivacyPolicy.from_settings(settings))
        limiter = RateLimiter(
            settings.rate_overall, settings.rate_per_chat, settings.rate_per_chat_burst
        )
        self.sender = OutboxSender(
            self.application.bot, db, clock, sleep, limiter=limiter, worker=worker
        )
        self.application.add_handler(TypeHandler(Update, self._on_update))
        self.application.add_error_handler(self._on_error)
        self._retry_task: asyncio.Task[None] | None = None
        self.sweeper = SweepScheduler(self.sweep_once, settings.sweep_seconds) if sweep else None

    async def sweep_once(self) -> SweepReport:
        """Claim and handle everything due now and send what it produced, batch by batch.

        Each batch (at most ``SWEEP_BATCH`` rows of each kind) is one claiming transaction,
        committed before its messages go out, so the first reminders leave while later ones
        are still being prepared. The next batch is claimed only once the one before the
        current one is sent: at most two batches wait in memory, well inside the claims'
        lease even at 30 messages/s. Returns once everything is sent.
        """
        total = SweepReport()
        sending: list[asyncio.Task[None]] = []
        try:
            for batch in range(MAX_SWEEP_BATCHES):
                report = await self.router.sweep(limit=SWEEP_BATCH, prune=batch == 0)
                total.add(report)
                sending.append(asyncio.create_task(self.sender.deliver(report.rows)))
                if len(sending) > 1:
                    await sending[-2]
                if not report.full:
                    break
            await sending[-1]
            await self.send_digests()
            await self.router.privacy.sweep(self.router.db, self.router.clock.now())
        except asyncio.CancelledError:  # shutting down: stop sending; the claims will lapse
            for task in sending:
                task.cancel()
            await asyncio.gather(*sending, return_exceptions=True)
            raise
        except Exception:
            await asyncio.gather(*sending, return_exceptions=True)  # what is claimed goes out
            raise
        return total

    async def _on_update(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        incoming = to_incoming(update, self.application.bot.username)
        if incoming is None:
            return
        handled = await self.router.handle(incoming)
        answering = None
        if update.callback_query is not None:  # stops the button's spinner, alongside the reply
            answering = asyncio.create_task(_answer(update.callback_query, handled.notice))
        try:
            if handled.rows:
                await self.sender.deliver(handled.rows)
            else:  # e.g. an update seen before: send whatever it left behind
                await self.sender.flush(handled.chats)
        finally:
            if answering is not None:
                await answering
        if "digests" in handled.wake:
            await self.send_digests()

    async def send_digests(self, *, everyone_now: bool = False) -> int:
        """Build the digests that are due or asked for and send them; return messages sent.

        ``everyone_now``: a digest of the last 7 days for every practitioner right away.
        """
        rows = await self.router.run_digests(everyone_now=everyone_now)
        if rows:
            await self.sender.deliver(rows)
        return len(rows)

    async def _on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """Log first (no message text), then tell the person their answers are safe."""
        update_id = update.update_id if isinstance(update, Update) else None
        log.error(
            "error while handling update %s: %s",
            update_id,
            type(context.error).__name__,
            exc_info=context.error,
        )
        if isinstance(update, Update) and update.callback_query is not None:
            with contextlib.suppress(Exception):  # stop the button's spinner
                await update.callback_query.answer()
        if isinstance(update, Update) and update.effective_chat is not None:
            with contextlib.suppress(Exception):
                await context.bot.send_message(update.effective_chat.id, SORRY)

    async def start(self) -> None:
        """Connect, send anything left in the outbox, and start polling."""
        await check_encryption(self.router.db)  # no start on encrypted data without its key
        await self.application.initialize()
        self.router.set_bot_username(self.application.bot.username)
        await self.sender.flush_all()
        await self.application.start()
        assert self.application.updater is not None
        await self.application.updater.start_polling(
            poll_interval=0, timeout=self.poll_timeout, allowed_updates=Update.ALL_TYPES
        )
        self._retry_task = asyncio.create_task(self._retry_pending())
        if self.sweeper is not None:
            self.sweeper.start()

    async def stop(self) -> None:
        """Stop polling and shut down cleanly."""
        if self.sweeper is not None:
            self.sweeper.shutdown()
        if self._retry_task is not None:
            self._retry_task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._retry_task
        if self.application.updater is not None and self.application.updater.running:
            await self.application.updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()

    async def _retry_pending(self) -> None:
        """Messages left pending by a network error are tried again now and then."""
        while True:
            await asyncio.sleep(self.settings.outbox_retry_seconds)
            try:
                await self.sender.flush_all()
            except Exception:  # keep retrying; the error handler only sees update errors
                log.exception("retrying pending messages failed")
