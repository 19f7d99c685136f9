"""Telegram throughput benchmark: rpbot against a bare python-telegram-bot echo bot.

N simulated people (default 50) each join by invite (``/start CODE``) and complete
``day_in_the_life`` through the real :class:`rpbot.telegram.app.TelegramBot` (SQLite in a
temporary folder, or a scratch PostgreSQL database created and dropped on ``--database-url``),
talking to the local Bot API emulator running in its own process. In the same run the same N
people send the same number of updates, in the same pattern (text, presses, text, press), to a
bare PTB echo bot on the same emulator (``concurrent_updates(True)``; a text gets its echo, a
press is answered and gets a new message: 2 Bot API calls, where rpbot makes 3 for a press -
answer, edit the question, send the next one). Each person acts like a human: send or press,
wait for the bot's reply, then the next action; people act concurrently, driven from this
process through the emulator's control API. The echo bot runs first, then rpbot (they share
the emulator's one token, so they cannot poll at the same time).

Printed per bot: updates/s, p50 and p99 time from the person's update (just before the control
API call that sends it) to the first bot message after it (when the control API's wait returns
it), lost or duplicated replies, CPU seconds; then the ratio rpbot/echo and the peak RSS of this
process, which hosts the bots and the people's driver (``getrusage(RUSAGE_SELF).ru_maxrss``).
Targets (issue 3): ratio at least 1.0, rpbot p99 under 100 ms.

By default nobody pauses: each person acts the moment the reply arrives, so the bots run
flat out and the ratio compares their throughput; the latency is then mostly time spent queued
behind the other people (about people / updates per second, for the echo bot too).
``--think S`` makes each person pause S seconds on average (0.5 S to 1.5 S, seeded, the same
for both bots) before each action, as a person reads and taps: that measures the latency
people would see at that pace; the ratio then only says both kept up with the people.

    uv run python bench/throughput.py [--people 50] [--think 2] [--database-url postgresql://...]
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import math
import os
import random
import resource
import statistics
import sys
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from benchtools import TOKEN, cpu_seconds, emulator_process, run_with_loop, scratch_database
from sqlalchemy import func
from sqlmodel import col, select
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from rpbot.clock import SystemClock
from rpbot.config import Settings
from rpbot.dialogues import default_library
from rpbot.eventloop import loop_name
from rpbot.sandbox.remote import RemoteEmulator
from rpbot.services.enrolment import add_practitioner, create_family, create_invite
from rpbot.storage.db import Database, upgrade
from rpbot.storage.tables import FlowRun, ProcessedUpdate
from rpbot.telegram.app import SORRY, TelegramBot

FAMILIES_PER_PRACTITIONER = 10  # a practitioner's caseload; each person is a family's parent
REPLY_TIMEOUT = 15.0  # seconds a person waits for a reply before counting it lost
SETTLE = 0.5  # seconds to wait after a phase before counting messages nobody read
DIARY = ["😌 Calm", "🙂 OK", "😌 Calm", "🙂 OK", "😌 Calm"]
DIARY_TEXT = "We read a story together at bedtime"
# The same update kinds, in the same order, for both bots: 9 updates per person.
PATTERN = ["send", "press", *["press"] * len(DIARY), "send", "press"]
ECHO_BUTTON = "Again"
SORRY_START = SORRY[:40]

JsonDict = dict[str, Any]


# -- the emulator in its own process -------------------------------------------------------


def cpu_ticks() -> tuple[int, int]:
    """All CPU ticks of the machine so far and those stolen by a hypervisor (Linux /proc)."""
    try:
        fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except (OSError, ValueError):
        return 0, 0
    return sum(fields[:8]), fields[7] if len(fields) > 7 else 0


class Driver(RemoteEmulator):
    """The control API client, without aiohttp's default cap of 100 connections."""

    def __init__(self, url: str, emulator_pid: int) -> None:
        super().__init__(url)
        self.emulator_pid = emulator_pid

    async def __aenter__(self) -> Driver:
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))
        return self


# -- people --------------------------------------------------------------------------------


@dataclass
class Results:
    """What one phase measured."""

    latencies: list[float] = field(default_factory=list)
    updates: int = 0
    lost: int = 0
    read: dict[int, int] = field(default_factory=dict)  # chat id -> bot messages read
    elapsed: float = 0.0
    cpu: float = 0.0  # CPU seconds of this process (bot + driver) while people were active
    emulator_cpu: float = 0.0  # CPU seconds of the emulator process meanwhile
    extra: int = 0  # bot messages nobody read (duplicates or stray replies)
    duplicated: int = 0  # messages repeating an earlier one's text and buttons exactly
    failed: int = 0  # people who could not go on (e.g. the button they needed never came)
    errors: int = 0  # "something went wrong" messages from the bot's error handler
    incomplete: int = 0  # rpbot: people whose diary the database does not show as completed
    samples: list[str] = field(default_factory=list)  # a few of the problems, to show


class LostReplyError(Exception):
    """A person waited REPLY_TIMEOUT seconds and no reply came."""


class Person:
    """One simulated person: send or press, then wait for the bot's reply."""

    def __init__(
        self, driver: Driver, user_id: int, results: Results, think: float = 0.0, number: int = 0
    ) -> None:
        self.driver = driver
        self.think = think  # mean seconds a person reads and decides before acting
        # Seeded by the person's number, not their id (the bots' people have different ids):
        # person n pauses exactly as long before each action with either bot.
        self.random = random.Random(number)
        self.user_id = user_id
        self.first_name = f"Parent{user_id % 100000}"
        self.results = results
        self.last_id = 0  # the newest message id in the chat this person has seen
        results.read[user_id] = 0

    async def pause(self) -> None:
        """A human's pause before acting: uniform between half and one and a half ``think``."""
        if self.think > 0:
            await asyncio.sleep(self.think * self.random.uniform(0.5, 1.5))

    async def send(self, text: str) -> JsonDict:
        await self.pause()
        begin = time.perf_counter()
        body = {"text": text, "first_name": self.first_name}
        sent = await self.driver.call("POST", f"users/{self.user_id}/send", body)
        self.last_id = max(self.last_id, int(sent["message_id"]))
        return await self._first_reply(begin)

    async def press(self, label: str) -> JsonDict:
        await self.pause()
        begin = time.perf_counter()
        body = {"label": label, "first_name": self.first_name}
        await self.driver.call("POST", f"users/{self.user_id}/press", body)
        return await self._first_reply(begin)

    async def next_reply(self) -> JsonDict:
        message: JsonDict | None = await self.driver.call(
            "GET",
            f"chats/{self.user_id}/wait",
            after_message_id=str(self.last_id),
            timeout=str(REPLY_TIMEOUT),
        )
        if message is None:
            self.results.lost += 1
            raise LostReplyError(self.user_id)
        self.last_id = int(message["message_id"])
        self.results.read[self.user_id] += 1
        return message

    async def question(self, first: JsonDict) -> JsonDict:
        """Read replies until one asks something (buttons, or text ending in '?')."""
        message = first
        for _ in range(10):
            if message.get("reply_markup") or (message.get("text") or "").rstrip().endswith("?"):
                return message
            message = await self.next_reply()
        raise AssertionError(f"no question arrived in chat {self.user_id}")

    async def _first_reply(self, begin: float) -> JsonDict:
        message = await self.next_reply()
        self.results.latencies.append(time.perf_counter() - begin)
        self.results.updates += 1
        return message


async def rpbot_person(person: Person, code: str) -> None:
    """Join with the invite and complete day_in_the_life (9 updates, as PATTERN)."""
    await person.question(await person.send(f"/start {code}"))
    await person.question(await person.press("📔 Diary"))
    for label in DIARY:
        await person.question(await person.press(label))
    await person.question(await person.send(DIARY_TEXT))
    message = await person.press("4")
    for _ in range(5):  # the flow ends with a thank-you, then the diary's summary
        if (message.get("text") or "").startswith("Morning:"):
            return
        message = await person.next_reply()
    raise AssertionError(f"no diary summary arrived in chat {person.user_id}")


async def echo_person(person: Person) -> None:
    """The same kinds of update in the same order, to the echo bot."""
    for step, kind in enumerate(PATTERN):
        if kind == "send":
            await person.send(DIARY_TEXT if step else "/start")
        else:
            await person.press(ECHO_BUTTON)


async def run_people(
    driver: Driver,
    results: Results,
    people: list[Callable[[], Awaitable[None]]],
    also_watch: list[int] | None = None,
) -> None:
    """Run every person at once; then count messages nobody read and repeated messages.

    ``also_watch``: more chats (e.g. practitioners') checked for repeated messages only.
    """

    async def guarded(run: Callable[[], Awaitable[None]]) -> None:
        try:
            await run()
        except LostReplyError:
            pass  # counted where it happened; this person cannot go on
        except AssertionError as error:  # e.g. the button to press never arrived
            results.failed += 1
            results.samples.append(f"person gave up: {str(error).splitlines()[0][:160]}")

    begin, cpu, emulator_cpu = (
        time.perf_counter(),
        time.process_time(),
        cpu_seconds(driver.emulator_pid),
    )
    await asyncio.gather(*(guarded(run) for run in people))
    results.elapsed = time.perf_counter() - begin
    results.cpu = time.process_time() - cpu
    results.emulator_cpu = cpu_seconds(driver.emulator_pid) - emulator_cpu
    await asyncio.sleep(SETTLE)
    for chat_id in [*results.read, *(also_watch or [])]:
        messages: list[JsonDict] = await driver.call("GET", f"chats/{chat_id}/messages", after="0")
        if chat_id in results.read:
            read = results.read[chat_id]
            results.extra += max(0, len(messages) - read)
            results.samples += [
                f"unread in chat {chat_id}: {str(m.get('text'))[:80]!r}" for m in messages[read:]
            ]
        seen: set[str] = set()
        for message in messages:
            edits = message.get("edits") or []
            original = str(edits[0]["old_text"] if edits else message.get("text"))
            if original in seen:
                results.duplicated += 1
                results.samples.append(f"repeated in chat {chat_id}: {original[:80]!r}")
            seen.add(original)
            if SORRY_START in original:
                results.errors += 1


# -- the bots --------------------------------------------------------------------------------


async def echo_phase(driver: Driver, url: str, count: int, think: float = 0.0) -> Results:
    """A bare PTB bot: text gets an echo with one button; a press is answered and replied to."""
    keyboard = InlineKeyboardMarkup([[InlineKeyboardButton(ECHO_BUTTON, callback_data="again")]])

    async def on_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_chat is not None
        assert update.effective_message is not None
        text = update.effective_message.text or ""
        await context.bot.send_message(update.effective_chat.id, text, reply_markup=keyboard)

    async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.callback_query is not None
        assert update.effective_chat is not None
        await update.callback_query.answer()
        text = f"Pressed (update {update.update_id})"
        await context.bot.send_message(update.effective_chat.id, text, reply_markup=keyboard)

    application = (
        ApplicationBuilder()
        .token(TOKEN)
        .base_url(f"{url}/bot")
        .base_file_url(f"{url}/file/bot")
        .concurrent_updates(True)
        .build()
    )
    application.add_handler(MessageHandler(filters.TEXT, on_text))
    application.add_handler(CallbackQueryHandler(on_press))
    results = Results()
    people = [Person(driver, 2_000_001 + i, results, think, i) for i in range(count)]
    async with application:
        await application.start()
        assert application.updater is not None
        await application.updater.start_polling(poll_interval=0, timeout=10)
        await run_people(driver, results, [functools.partial(echo_person, p) for p in people])
        await application.updater.stop()
        await application.stop()
    return results


async def rpbot_phase(
    driver: Driver, url: str, database_url: str, count: int, think: float = 0.0
) -> Results:
    """The real bot: enrol practitioners, families and invites; then everyone joins and diaries."""
    await asyncio.to_thread(upgrade, database_url)
    db = Database(database_url)
    clock = SystemClock()
    codes: list[str] = []
    try:
        async with db.transaction() as repos:
            practitioner = None
            for i in range(count):
                if i % FAMILIES_PER_PRACTITIONER == 0:
                    practitioner = await add_practitioner(
                        repos, 9001 + i, f"Practitioner {i}", clock.now()
                    )
                assert practitioner is not None
                family = await create_family(
                    repos, practitioner, f"Family {i}", "england", clock.now()
                )
                invite = await create_invite(repos, family, "parent", f"Parent{i}", clock.now())
                codes.append(invite.code)
        settings = Settings(
            TELEGRAM_BOT_TOKEN=TOKEN,
            TELEGRAM_API_URL=f"{url}/bot",
            DATABASE_URL=database_url,
            # This measures processing: people here answer with no pause at all, which
            # Telegram's ~1 message/s per chat would throttle (bench/fanout.py measures that).
            RPBOT_RATE_PER_CHAT=1000,
            RPBOT_RATE_PER_CHAT_BURST=1000,
            RPBOT_RATE_OVERALL=1000,
            _env_file=None,
        )
        bot = TelegramBot(settings, db, default_library(), clock, poll_timeout=10)
        results = Results()
        people = [Person(driver, 1_000_001 + i, results, think, i) for i in range(count)]
        await bot.start()
        try:
            # Practitioners have opened the bot before (untimed), so join notices reach them.
            practitioner_ids = [9001 + i for i in range(0, count, FAMILIES_PER_PRACTITIONER)]
            for practitioner_id in practitioner_ids:
                await Person(driver, practitioner_id, Results()).send("/help")
            await run_people(
                driver,
                results,
                [functools.partial(rpbot_person, p, c) for p, c in zip(people, codes, strict=True)],
                also_watch=practitioner_ids,
            )
        finally:
            await bot.stop()
        async with db.transaction() as repos:
            done = select(func.count()).select_from(FlowRun)
            done = done.where(
                col(FlowRun.flow_id) == "day_in_the_life", col(FlowRun.status) == "completed"
            )
            completed = int((await repos.session.exec(done)).one())
            claimed = select(func.count()).select_from(ProcessedUpdate)
            processed = int((await repos.session.exec(claimed)).one())
        practitioners = math.ceil(count / FAMILIES_PER_PRACTITIONER)
        results.incomplete = count - completed
        print(
            f"  database check: {completed}/{count} day_in_the_life runs completed, "
            f"{processed} update ids processed (expected {count * len(PATTERN)} + {practitioners} "
            "practitioners' /help)"
        )
        return results
    finally:
        await db.dispose()


# -- databases -------------------------------------------------------------------------------


# -- report --------------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    """Nearest-rank percentile."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def report(name: str, results: Results) -> float:
    rate = results.updates / results.elapsed if results.elapsed else 0.0
    p50 = statistics.median(results.latencies) * 1000 if results.latencies else float("nan")
    p99 = percentile(results.latencies, 0.99) * 1000 if results.latencies else float("nan")
    print(
        f"{name:>5}: {results.updates} updates in {results.elapsed:.2f} s = {rate:,.1f} updates/s;"
        f" update->reply p50 {p50:.1f} ms, p99 {p99:.1f} ms\n"
        f"       lost {results.lost}, unread extra {results.extra}, duplicated "
        f"{results.duplicated}, people who gave up {results.failed}, error replies "
        f"{results.errors}; CPU s: bot process {results.cpu:.1f}, emulator "
        f"{results.emulator_cpu:.1f}"
    )
    for sample in results.samples[:3]:
        print(f"       {sample}")
    return rate


def peak_rss_kib() -> int:
    """ru_maxrss of this process: KiB on Linux."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss


async def main_async(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    async with emulator_process() as (url, _, pid), Driver(url, pid) as driver:
        print(
            f"{args.people} people x {len(PATTERN)} updates each, pausing {args.think:g} s on "
            f"average before each; emulator in its own process at "
            f"{url}; python {sys.version.split()[0]}, {loop_name()} "
            f"event loop, {os.cpu_count()} CPUs, load average "
            f"{os.getloadavg()[0]:.2f} at start (other work on the machine skews the figures)"
        )
        ticks, stolen = cpu_ticks()
        echo = (
            await echo_phase(driver, url, args.people, args.think)
            if not args.rpbot_only
            else Results()
        )
        echo_rss = peak_rss_kib()
        async with scratch_database(args.database_url, "rpbot-bench") as (
            database_url,
            description,
        ):
            print(f"rpbot database: {description}")
            rp = await rpbot_phase(driver, url, database_url, args.people, args.think)
        rp_rss = peak_rss_kib()
        ticks_after, stolen_after = cpu_ticks()
    if ticks_after > ticks:
        share = (stolen_after - stolen) / (ticks_after - ticks)
        note = " (skews the figures)" if share >= 0.05 else ""
        print(f"CPU time stolen by the hypervisor during the run: {share:.0%}{note}")
    echo_rate = report("echo", echo) if not args.rpbot_only else 0.0
    rp_rate = report("rpbot", rp)
    ratio = rp_rate / echo_rate if echo_rate else float("nan")
    p99 = percentile(rp.latencies, 0.99) * 1000 if rp.latencies else float("inf")
    print(
        f"peak RSS of the benchmark process (hosts the bots and the people's driver; "
        f"getrusage(RUSAGE_SELF).ru_maxrss): after echo {echo_rss / 1024:.1f} MiB, "
        f"after rpbot {rp_rss / 1024:.1f} MiB"
    )
    print(f"ratio rpbot/echo: {ratio:.2f} (target >= 1.0: {'met' if ratio >= 1.0 else 'NOT met'})")
    print(f"rpbot p99: {p99:.1f} ms (target < 100 ms: {'met' if p99 < 100 else 'NOT met'})")
    problems = sum(
        r.lost + r.extra + r.duplicated + r.failed + r.errors + r.incomplete for r in (rp, echo)
    )
    print(
        "lost/duplicated replies: none" if problems == 0 else "lost/duplicated replies: SEE ABOVE"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=50, help="simulated people (default 50)")
    parser.add_argument(
        "--database-url",
        default=None,
        help="PostgreSQL server URL, e.g. postgresql://postgres@127.0.0.1:5432/test; a scratch "
        "database is created there and dropped afterwards (default: SQLite in a temp folder)",
    )
    parser.add_argument(
        "--think",
        type=float,
        default=0.0,
        help="mean seconds each person pauses before acting, as a human reads and taps "
        "(default 0: everyone acts the moment a reply arrives, which measures throughput; the "
        "latency then is mostly queueing, about people / updates per second)",
    )
    parser.add_argument(
        "--rpbot-only",
        action="store_true",
        help="skip the echo bot (e.g. to profile rpbot alone); no ratio is printed",
    )
    run_with_loop(parser, main_async)


if __name__ == "__main__":
    main()
