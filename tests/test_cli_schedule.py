"""``rpbot schedule add|list|remove`` against a temporary SQLite database.

The commands use the real clock, so the checks on the next occurrence are about its local
time and day, not a fixed instant.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from rpbot.cli import app
from rpbot.dialogues import default_library
from rpbot.services.conversation import Conversations
from rpbot.services.enrolment import add_practitioner, create_family
from rpbot.services.reminders import Reminders
from rpbot.storage.db import Database, upgrade
from rpbot.storage.tables import Reminder, Schedule

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A migrated SQLite file with the Green family: Sam (parent, default reminders) and
    Kim (child in New York, none yet); DATABASE_URL points at it."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", url)
    for name in ("RPBOT_TIMEZONE", "RPBOT_DIALOGUES_DIR", "TELEGRAM_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    upgrade(url)

    async def setup() -> None:
        db = Database(url)
        try:
            async with db.transaction() as repos:
                alex = await add_practitioner(repos, 9001, "Alex", NOW)
                green = await create_family(repos, alex, "Green", "england", NOW)
                sam = await repos.members.create(green.id or 0, "parent", "Sam", NOW)
                await repos.members.create(
                    green.id or 0, "child", "Kim", NOW, timezone="America/New_York"
                )
                library = default_library()
                await Reminders(library, Conversations(library)).create_defaults(repos, sam, NOW)
        finally:
            await db.dispose()

    asyncio.run(setup())
    return url


def query(url: str, work: Any) -> Any:
    """Run ``work(repos)`` in a transaction on the test database."""

    async def main() -> Any:
        db = Database(url)
        try:
            async with db.transaction() as repos:
                return await work(repos)
        finally:
            await db.dispose()

    return asyncio.run(main())


def schedules(url: str) -> list[Schedule]:
    async def work(repos: Any) -> list[Schedule]:
        found: list[Schedule] = []
        for member_id in (1, 2):
            found += await repos.schedules.for_member(member_id)
        return sorted(found, key=lambda s: s.id or 0)

    return list(query(url, work))


def run(runner: CliRunner, *args: str) -> Any:
    return runner.invoke(app, ["schedule", *args])


# --- add --------------------------------------------------------------------------------


def test_add_creates_a_schedule_at_the_members_local_time(
    runner: CliRunner, database_url: str
) -> None:
    before = datetime.now(UTC)
    result = run(
        runner,
        "add",
        "--family",
        "Green",
        "--member",
        "sam",
        "--flow",
        "fair_process",
        "--time",
        "18:15",
        "--days",
        "weekdays",
    )
    assert result.exit_code == 0, result.output
    assert (
        result.stdout
        == "Added #3 for Sam: Fair process: rules that feel fair: weekdays at 18:15.\n"
    )
    added = schedules(database_url)[-1]
    assert (added.id, added.flow_id, added.days, added.time_of_day, added.created_by) == (
        3,
        "fair_process",
        "mon,tue,wed,thu,fri",
        "18:15",
        "practitioner",
    )
    assert before < added.next_fire_at <= before + timedelta(days=4)
    wall = added.next_fire_at.astimezone(ZoneInfo("Europe/London"))
    assert (wall.hour, wall.minute) == (18, 15)
    assert wall.weekday() < 5


def test_add_defaults_to_every_day_and_uses_the_members_timezone(
    runner: CliRunner, database_url: str
) -> None:
    result = run(
        runner,
        "add",
        "--family",
        "green",
        "--member",
        "Kim",
        "--flow",
        "chore_checkin",
        "--time",
        "7:00",
    )
    assert result.exit_code == 0, result.output
    assert result.stdout == "Added #3 for Kim: 🧹 Chore check-in: every day at 07:00.\n"
    added = schedules(database_url)[-1]
    assert (added.member_id, added.days, added.time_of_day) == (2, "", "07:00")
    wall = added.next_fire_at.astimezone(ZoneInfo("America/New_York"))
    assert (wall.hour, wall.minute) == (7, 0)
    assert added.next_fire_at - datetime.now(UTC) <= timedelta(days=1)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--family", "Blue", "--member", "Sam", "--flow", "fair_process", "--time", "18:00"],
            "Error: no family called 'Blue'; create it with rpbot family create\n",
        ),
        (
            ["--family", "Green", "--member", "Pat", "--flow", "fair_process", "--time", "18:00"],
            "Error: nobody called 'Pat' has joined the Green family yet\n",
        ),
        (
            ["--family", "Green", "--member", "Sam", "--flow", "nope", "--time", "18:00"],
            "No flow 'nope'; see `rpbot dialogues list`.\n",
        ),
        (
            ["--family", "Green", "--member", "Sam", "--flow", "fair_process", "--time", "25:00"],
            "Error: '25:00' is not a time; use 24-hour HH:MM such as 19:30\n",
        ),
        (
            ["--family", "Green", "--member", "Sam", "--flow", "fair_process", "--time", "6pm"],
            "Error: '6pm' is not a time; use 24-hour HH:MM such as 19:30\n",
        ),
        (
            [
                "--family",
                "Green",
                "--member",
                "Sam",
                "--flow",
                "fair_process",
                "--time",
                "18:00",
                "--days",
                "someday",
            ],
            "Error: 'someday' is not a day; use daily, weekdays, weekends or names like mon,thu\n",
        ),
    ],
    ids=[
        "unknown family",
        "unknown member",
        "unknown flow",
        "bad time",
        "12-hour time",
        "bad days",
    ],
)
def test_add_refuses_what_it_cannot_do_and_writes_nothing(
    runner: CliRunner, database_url: str, args: list[str], message: str
) -> None:
    result = run(runner, "add", *args)
    assert result.exit_code == 1
    assert result.stdout == ""
    assert result.stderr == message
    assert [s.id for s in schedules(database_url)] == [1, 2]


def test_add_refuses_a_family_name_two_practitioners_use(
    runner: CliRunner, database_url: str
) -> None:
    async def second_green(repos: Any) -> None:
        blair = await add_practitioner(repos, 9002, "Blair", NOW)
        await create_family(repos, blair, "Green", "wales", NOW)

    query(database_url, second_green)
    result = run(
        runner,
        "add",
        "--family",
        "Green",
        "--member",
        "Sam",
        "--flow",
        "rituals",
        "--time",
        "09:00",
    )
    assert result.exit_code == 1
    assert result.stderr == (
        "Error: 2 families are called 'Green'; add --practitioner-telegram-id\n"
    )


def test_add_needs_its_options(runner: CliRunner, database_url: str) -> None:
    result = run(runner, "add", "--family", "Green", "--member", "Sam")
    assert result.exit_code == 2
    assert "--flow" in result.output or "--flow" in result.stderr


# --- list -------------------------------------------------------------------------------


def test_list_shows_every_members_reminders(runner: CliRunner, database_url: str) -> None:
    added = run(
        runner, "add", "--family", "Green", "--member", "Kim", "--flow", "three_houses", "--time",
        "11:00", "--days", "sat,sun",
    )  # fmt: skip
    assert added.exit_code == 0, added.output

    async def pause_first(repos: Any) -> None:
        first = await repos.schedules.by_id(1)
        first.paused_until = NOW + timedelta(days=7)
        await repos.schedules.save(first)

    query(database_url, pause_first)
    result = run(runner, "list", "--family", "Green")
    assert result.exit_code == 0, result.output
    assert result.stdout.splitlines() == [
        "#1 Sam: Day in the Life diary: every day at 19:30 (paused)",
        "#2 Sam: Three-question check-in: Sundays at 18:00",
        "#3 Kim: 🏠 My Three Houses: weekends at 11:00",
    ]


def test_list_says_when_there_are_none(runner: CliRunner, database_url: str) -> None:
    async def empty_family(repos: Any) -> None:
        alex = await repos.practitioners.by_telegram_id(9001)
        await create_family(repos, alex, "Brown", "scotland", NOW)

    query(database_url, empty_family)
    result = run(runner, "list", "--family", "Brown")
    assert result.exit_code == 0, result.output
    assert result.stdout == "No reminders.\n"


def test_list_of_an_unknown_family_fails(runner: CliRunner, database_url: str) -> None:
    result = run(runner, "list", "--family", "Blue")
    assert result.exit_code == 1
    assert result.stderr == "Error: no family called 'Blue'; create it with rpbot family create\n"


def test_list_does_not_silently_pick_one_of_two_families_with_the_same_name(
    runner: CliRunner, database_url: str
) -> None:
    async def second_green(repos: Any) -> None:
        blair = await add_practitioner(repos, 9002, "Blair", NOW)
        other = await create_family(repos, blair, "Green", "wales", NOW)
        lee = await repos.members.create(other.id or 0, "parent", "Lee", NOW)
        library = default_library()
        await Reminders(library, Conversations(library)).create_defaults(repos, lee, NOW)

    query(database_url, second_green)
    result = run(runner, "list", "--family", "Green")
    assert result.exit_code == 1
    assert "2 families are called 'Green'" in result.stderr
    chosen = run(runner, "list", "--family", "Green", "--practitioner-telegram-id", "9002")
    assert chosen.exit_code == 0, chosen.output
    assert "Lee" in chosen.stdout
    assert "Sam" not in chosen.stdout


# --- remove -----------------------------------------------------------------------------


def test_remove_deletes_a_schedule_and_keeps_its_past_reminders(
    runner: CliRunner, database_url: str
) -> None:
    async def a_past_reminder(repos: Any) -> None:
        await repos.reminders.add(1, "day_in_the_life", NOW, NOW, 1, "skipped", "missed")

    query(database_url, a_past_reminder)
    result = run(runner, "remove", "1")
    assert result.exit_code == 0, result.output
    assert result.stdout == "Removed reminder #1.\n"
    assert [s.id for s in schedules(database_url)] == [2]

    async def reminders(repos: Any) -> list[Reminder]:
        return list(await repos.reminders.for_member(1))

    [kept] = query(database_url, reminders)
    assert (kept.schedule_id, kept.status, kept.reason) == (None, "skipped", "missed")
    listed = run(runner, "list", "--family", "Green")
    assert listed.stdout.splitlines() == ["#2 Sam: Three-question check-in: Sundays at 18:00"]


@pytest.mark.parametrize("schedule_id", ["99", "0"])
def test_remove_of_an_unknown_reminder_fails(
    runner: CliRunner, database_url: str, schedule_id: str
) -> None:
    result = run(runner, "remove", schedule_id)
    assert result.exit_code == 1
    assert result.stderr == f"Error: no reminder #{schedule_id}; see rpbot schedule list\n"
    assert [s.id for s in schedules(database_url)] == [1, 2]


def test_remove_needs_a_number(runner: CliRunner, database_url: str) -> None:
    result = run(runner, "remove", "one")
    assert result.exit_code == 2
    assert [s.id for s in schedules(database_url)] == [1, 2]
