"""``rpbot demo seed`` on a temporary DATABASE_URL, run once and then again."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from rpbot.cli import app
from rpbot.storage.repos import Repos
from rpbot.storage.tables import Practitioner
from tests.demo.conftest import query

SEED = ["demo", "seed", "--families", "1", "--weeks", "1", "--end", "2026-02-10T20:00"]


@pytest.fixture
def database_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """DATABASE_URL points at a new SQLite file (not migrated: the command does that)."""
    url = f"sqlite:///{tmp_path / 'demo.db'}"
    monkeypatch.chdir(tmp_path)  # no stray .env
    monkeypatch.setenv("DATABASE_URL", url)
    for name in ("RPBOT_TIMEZONE", "RPBOT_DIALOGUES_DIR", "RPBOT_DATA_KEY", "TELEGRAM_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    return url


def practitioners(url: str) -> list[Practitioner]:
    async def work(repos: Repos) -> list[Practitioner]:
        return await repos.practitioners.all()

    return query(url, work)


def test_seed_then_seed_again_adds_a_second_set(database_url: str) -> None:
    runner = CliRunner()
    first = runner.invoke(app, SEED)
    assert first.exit_code == 0, first.output
    assert "Demo set 1: 1 family," in first.stdout
    assert "Seeding: day 8/8" in first.stderr  # progress, one line per simulated day
    assert "already holds" not in first.stdout

    again = runner.invoke(app, [*SEED, "--no-progress"])
    assert again.exit_code == 0, again.output
    assert "already holds demo set(s) 1. Adding demo set 2 alongside" in again.stdout
    assert "Demo set 2: 1 family," in again.stdout
    assert again.stderr == ""
    found = practitioners(database_url)
    assert len(found) == 2
    assert len({p.telegram_user_id for p in found}) == 2


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--practitioners", "3", "--families", "2"], "--practitioners must be 1 to"),
        (["--weeks", "0"], "--weeks must be 1 to"),
        (["--end", "next tuesday"], "--end takes a date and time"),
    ],
)
def test_bad_options_are_explained(database_url: str, options: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["demo", "seed", *options])
    assert result.exit_code == 1
    assert message in result.stderr
