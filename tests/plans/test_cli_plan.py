"""``rpbot plan show|set`` against a temporary SQLite database (typer's CliRunner)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select
from typer.testing import CliRunner

from rpbot.cli import app
from rpbot.dialogues import default_library
from rpbot.services.conversation import Conversations
from rpbot.services.enrolment import add_practitioner, create_family
from rpbot.services.reminders import Reminders
from rpbot.storage.db import Database, upgrade
from rpbot.storage.tables import Schedule

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
MODULES = (
    "parenting_styles,recognising_challenges,child_development,fair_process,circles,rituals,"
    "family_group_conferencing,reaching_agreements"
)


@pytest.fixture
def url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """The Green family: Sam (parent, default reminders) and Kim (child)."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.chdir(tmp_path)
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
                sam = await repos.members.create(green.id or 0, "parent", "Sam", NOW, 1, 1)
                await repos.members.create(green.id or 0, "child", "Kim", NOW, 2, 2)
                library = default_library()
                await Reminders(library, Conversations(library)).create_defaults(repos, sam, NOW)
        finally:
            await db.dispose()

    asyncio.run(setup())
    return url


def schedules(url: str) -> dict[str, str]:
    async def main() -> dict[str, str]:
        db = Database(url)
        try:
            async with db.transaction() as repos:
                rows = (await repos.session.exec(select(Schedule))).all()
                return {s.flow_id: f"{s.days}@{s.time_of_day}" for s in rows}
        finally:
            await db.dispose()

    return asyncio.run(main())


def run(*args: str) -> Any:
    return CliRunner().invoke(app, ["plan", *args])


def test_show_prints_the_standard_plan(url: str) -> None:
    result = run("show", "--family", "Green")
    assert result.exit_code == 0, result.output
    assert "Green family: standard plan, week 1 of 8, 0 of 8 modules done" in result.output
    assert "1. recognising_challenges <- this week" in result.output
    assert "Sam (parent):" in result.output
    assert "on  day_in_the_life" in result.output
    assert "every day at 19:30" in result.output
    assert "Kim (child):" in result.output


def test_set_changes_flows_times_and_module_order(url: str) -> None:
    result = run(
        "set",
        "--family",
        "Green",
        "--member",
        "Sam",
        "--flow",
        "day_in_the_life",
        "--time",
        "20:15",
        "--days",
        "weekdays",
    )
    assert result.exit_code == 0, result.output
    assert "Sam: day_in_the_life on, weekdays at 20:15" in result.output
    assert schedules(url)["day_in_the_life"] == "mon,tue,wed,thu,fri@20:15"
    result = run(
        "set", "--family", "Green", "--member", "Sam", "--flow", "three_questions", "--off"
    )
    assert result.exit_code == 0, result.output
    assert "three_questions" not in schedules(url)
    result = run("set", "--family", "Green", "--modules", MODULES)
    assert result.exit_code == 0, result.output
    shown = run("show", "--family", "Green").output
    assert "tailored plan" in shown
    assert "1. parenting_styles <- this week" in shown
    assert "off three_questions" in shown


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--member", "Sam", "--flow", "three_houses", "--off"), "is not in a parent's plan"),
        (("--member", "Sam", "--flow", "day_in_the_life", "--time", "25:00"), "is not a time"),
        (("--member", "Sam", "--flow", "day_in_the_life", "--on", "--off"), "not both"),
        (("--member", "Nobody", "--flow", "day_in_the_life", "--on"), "nobody called 'Nobody'"),
        (("--modules", "circles,circles"), "listed twice"),
        (("--modules", "diary"), "not a module of the programme: diary"),
        ((), "Give --member and --flow"),
    ],
)
def test_set_explains_mistakes(url: str, args: tuple[str, ...], message: str) -> None:
    result = run("set", "--family", "Green", *args)
    assert result.exit_code == 1
    assert message in result.output


def test_an_unknown_family(url: str) -> None:
    result = run("show", "--family", "Blue")
    assert result.exit_code == 1
    assert "no family called 'Blue'" in result.output
