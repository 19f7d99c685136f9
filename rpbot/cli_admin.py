"""Admin commands: run the bot, add practitioners, create families and invites (offline)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Awaitable, Callable
from typing import Annotated, TypeVar

import typer

from rpbot import eventloop
from rpbot.clock import SystemClock
from rpbot.config import ConfigError, Settings, load_settings
from rpbot.engine import NATIONS, DialogueError
from rpbot.scheduling.rules import Rule, RuleError
from rpbot.services.enrolment import (
    EnrolmentError,
    add_practitioner,
    create_family,
    create_invite,
    deep_link,
)
from rpbot.services.privacy import configure_keys
from rpbot.services.reminders import Reminders
from rpbot.storage.db import Database, safe_url, upgrade
from rpbot.storage.errors import StorageError
from rpbot.storage.repos import Repos
from rpbot.storage.tables import Family, Member

practitioner_app = typer.Typer(help="Manage practitioners.", no_args_is_help=True)
family_app = typer.Typer(help="Manage families.", no_args_is_help=True)
invite_app = typer.Typer(help="Create invite links for family members.", no_args_is_help=True)
schedule_app = typer.Typer(help="Tailor a family member's reminders.", no_args_is_help=True)

T = TypeVar("T")


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(1)


def _in_transaction(settings: Settings, work: Callable[[Repos], Awaitable[T]]) -> T:
    """Run ``work`` in one transaction on a migrated database; errors become exit 1."""

    async def main() -> T:
        db = Database(settings.database_url)
        try:
            async with db.transaction() as repos:
                return await work(repos)
        finally:
            await db.dispose()

    try:
        configure_keys(settings)  # encrypted answers need RPBOT_DATA_KEY to be read
        if settings.database_url.startswith("sqlite"):
            upgrade(settings.database_url)
        return asyncio.run(main())
    except (EnrolmentError, StorageError) as exc:
        raise _fail(f"Error: {exc}") from exc


@practitioner_app.command("add")
def practitioner_add(
    telegram_id: Annotated[int, typer.Option(help="The practitioner's Telegram user id.")],
    name: Annotated[str, typer.Option(help="Their name, as families will see it.")],
) -> None:
    """Register a practitioner (they can then use /families, /newfamily and /invite)."""
    settings = load_settings()

    async def work(repos: Repos) -> None:
        await add_practitioner(repos, telegram_id, name, SystemClock().now())

    _in_transaction(settings, work)
    typer.echo(f"Practitioner {name} added (Telegram id {telegram_id}).")


@family_app.command("create")
def family_create(
    practitioner_telegram_id: Annotated[int, typer.Option(help="Their practitioner.")],
    name: Annotated[str, typer.Option(help="The family's name, e.g. Green.")],
    nation: Annotated[str, typer.Option(help="|".join(NATIONS))],
) -> None:
    """Create a family for a practitioner."""
    settings = load_settings()

    async def work(repos: Repos) -> None:
        practitioner = await repos.practitioners.by_telegram_id(practitioner_telegram_id)
        if practitioner is None:
            raise EnrolmentError(
                f"no practitioner with Telegram id {practitioner_telegram_id}; add one with "
                "rpbot practitioner add"
            )
        await create_family(repos, practitioner, name, nation, SystemClock().now())

    _in_transaction(settings, work)
    typer.echo(f"Family {name} created ({nation}).")


@invite_app.command("create")
def invite_create(
    family: Annotated[str, typer.Option(help="The family's name.")],
    role: Annotated[str, typer.Option(help="parent or child")],
    name: Annotated[str, typer.Option(help="The member's first name.")],
    practitioner_telegram_id: Annotated[
        int | None,
        typer.Option(help="Needed only if two practitioners have a family of that name."),
    ] = None,
) -> None:
    """Create a single-use invite (valid 7 days); prints the deep link and the code."""
    settings = load_settings()

    async def work(repos: Repos) -> str:
        found = await _family(repos, family, practitioner_telegram_id)
        return (await create_invite(repos, found, role, name, SystemClock().now())).code

    code = _in_transaction(settings, work)
    username = settings.telegram_bot_username or "<your_bot_username>"
    typer.echo(f"Invite for {name} ({role}) in the {family} family, valid for 7 days, single use:")
    typer.echo(f"  link: {deep_link(username, code)}")
    typer.echo(f"  code: {code}  (they can also send the bot: /start {code})")
    if settings.telegram_bot_username is None:
        typer.echo("Set TELEGRAM_BOT_USERNAME to print the real link.", err=True)


async def _family(repos: Repos, name: str, practitioner_telegram_id: int | None = None) -> Family:
    families = await repos.families.by_name(name)
    if practitioner_telegram_id is not None:
        practitioner = await repos.practitioners.by_telegram_id(practitioner_telegram_id)
        families = [f for f in families if practitioner and f.practitioner_id == practitioner.id]
    if not families:
        raise EnrolmentError(f"no family called '{name}'; create it with rpbot family create")
    if len(families) > 1:
        raise EnrolmentError(
            f"{len(families)} families are called '{name}'; add --practitioner-telegram-id"
        )
    return families[0]


async def _member(repos: Repos, family: str, member: str) -> Member:
    found_family = await _family(repos, family)
    found = [
        m
        for m in await repos.members.in_family(found_family.id or 0)
        if m.display_name.casefold() == member.casefold()
    ]
    if not found:
        raise EnrolmentError(f"nobody called '{member}' has joined the {family} family yet")
    return found[0]


def _reminders() -> Reminders:
    from rpbot.dialogues import load_library
    from rpbot.services.conversation import Conversations

    library = load_library([load_settings().dialogues_dir])
    return Reminders(library, Conversations(library))


@schedule_app.command("add")
def schedule_add(
    family: Annotated[str, typer.Option(help="The family's name.")],
    member: Annotated[str, typer.Option(help="The member's first name.")],
    flow: Annotated[str, typer.Option(help="The flow id, e.g. day_in_the_life.")],
    time: Annotated[str, typer.Option(help="Local time, 24-hour HH:MM.")],
    days: Annotated[str, typer.Option(help="daily, weekdays, weekends or e.g. mon,thu")] = "daily",
) -> None:
    """Add a reminder for a family member (times are in the member's own timezone)."""
    settings = load_settings()
    reminders = _reminders()
    if flow not in reminders.library:
        raise _fail(f"No flow '{flow}'; see `rpbot dialogues list`.")
    try:
        rule = Rule.parse(days, time)
    except RuleError as exc:
        raise _fail(f"Error: {exc}") from exc

    async def work(repos: Repos) -> str:
        person = await _member(repos, family, member)
        schedule = await reminders.add(
            repos, person, flow, rule, SystemClock().now(), "practitioner"
        )
        return f"Added #{schedule.id} for {person.display_name}: {reminders.describe(schedule)}."

    typer.echo(_in_transaction(settings, work))


@schedule_app.command("list")
def schedule_list(
    family: Annotated[str, typer.Option(help="The family's name.")],
    practitioner_telegram_id: Annotated[
        int | None,
        typer.Option(help="Needed only if two practitioners have a family of that name."),
    ] = None,
) -> None:
    """List the reminders of every member of a family."""
    settings = load_settings()
    reminders = _reminders()

    async def work(repos: Repos) -> list[str]:
        found = await _family(repos, family, practitioner_telegram_id)
        lines = []
        for person in await repos.members.in_family(found.id or 0):
            for schedule in await repos.schedules.for_member(person.id or 0):
                paused = " (paused)" if schedule.paused_until else ""
                lines.append(
                    f"#{schedule.id} {person.display_name}: {reminders.describe(schedule)}{paused}"
                )
        return lines or ["No reminders."]

    for line in _in_transaction(settings, work):
        typer.echo(line)


@schedule_app.command("remove")
def schedule_remove(
    schedule_id: Annotated[int, typer.Argument(help="The # from schedule list.")],
) -> None:
    """Remove a reminder."""
    settings = load_settings()

    reminders = _reminders()

    async def work(repos: Repos) -> None:
        schedule = await repos.schedules.by_id(schedule_id)
        if schedule is None:
            raise EnrolmentError(f"no reminder #{schedule_id}; see rpbot schedule list")
        await reminders.remove(repos, schedule, SystemClock().now())

    _in_transaction(settings, work)
    typer.echo(f"Removed reminder #{schedule_id}.")


def run_bot() -> None:
    """Run the bot against the Bot API until Ctrl-C (the production entry point)."""
    from rpbot.dialogues import load_library
    from rpbot.logs import quiet_library_logs
    from rpbot.safeguarding import RulesError, default_screener
    from rpbot.telegram.app import TelegramBot

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    quiet_library_logs()  # no token or message text in logs
    try:
        settings = load_settings()
        settings.require_token()
        configure_keys(settings)
        library = load_library([settings.dialogues_dir])
        default_screener()
        if settings.database_url.startswith("sqlite"):
            upgrade(settings.database_url)
    except (ConfigError, StorageError) as exc:
        raise _fail(str(exc)) from exc
    except RulesError as exc:
        raise _fail(f"The safeguarding rules are invalid; fix them first:\n{exc}") from exc
    except DialogueError as exc:
        raise _fail(f"The dialogues are invalid; fix them first:\n{exc}") from exc

    async def main() -> None:
        db = Database(settings.database_url)
        bot = TelegramBot(settings, db, library, SystemClock())
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, stop.set)
        try:
            await bot.start()  # refuses an encrypted database without RPBOT_DATA_KEY
        except StorageError:
            await db.dispose()
            raise
        typer.echo(f"rpbot is running (database {safe_url(settings.database_url)}). Ctrl-C stops.")
        try:
            await stop.wait()
        finally:
            await bot.stop()
            await db.dispose()

    try:
        eventloop.run(main(), settings.event_loop)
    except StorageError as exc:
        raise _fail(str(exc)) from exc
