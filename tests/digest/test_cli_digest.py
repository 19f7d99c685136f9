"""``rpbot digest render`` writes the digest's messages, charts and HTML to a folder."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from rpbot.cli import app


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    for name in ("RPBOT_TIMEZONE", "RPBOT_DIALOGUES_DIR", "TELEGRAM_BOT_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    runner = CliRunner()
    for args in (
        ["practitioner", "add", "--telegram-id", "9001", "--name", "Alex"],
        [
            "family",
            "create",
            "--practitioner-telegram-id",
            "9001",
            "--name",
            "Green",
            "--nation",
            "wales",
        ],
        [
            "family",
            "create",
            "--practitioner-telegram-id",
            "9001",
            "--name",
            "Hill",
            "--nation",
            "england",
        ],
    ):
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
    return tmp_path


def test_render_writes_text_charts_and_html(env: Path) -> None:
    out = env / "digest"
    result = CliRunner().invoke(
        app,
        [
            "digest",
            "render",
            "--practitioner-telegram-id",
            "9001",
            "--week",
            "2026-W47",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "for 2 families" in result.output
    messages = (out / "messages.txt").read_text(encoding="utf-8")
    assert "Mon 16 Nov – Sun 22 Nov 2026" in messages
    assert "Green family</b> · Wales" in messages
    assert len(list(out.glob("chart-*.png"))) == 2
    html = (out / "digest-2026-11-16.html").read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>")
    assert html.count('<section class="family"') == 2


def test_render_one_family(env: Path) -> None:
    out = env / "one"
    result = CliRunner().invoke(
        app,
        [
            "digest",
            "render",
            "--practitioner-telegram-id",
            "9001",
            "--family",
            "hill",
            "--no-charts",
            "--out",
            str(out),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "for 1 family to" in result.output
    assert list(out.glob("*.png")) == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--practitioner-telegram-id", "1"], "No practitioner has Telegram id 1"),
        (["--practitioner-telegram-id", "9001", "--week", "47"], "write it like 2026-W47"),
        (["--practitioner-telegram-id", "9001", "--family", "Nope"], "no family called 'Nope'"),
    ],
)
def test_render_explains_bad_input(env: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["digest", "render", *args, "--out", str(env / "x")])
    assert result.exit_code == 1
    assert message in result.output
