"""A real browser (Debian's Chromium, headless, driven by Playwright) uses the sandbox page.

The parent starts the diary from the command menu and answers two questions by clicking
buttons; "Next reminder" is clicked until the child's chore reminder shows in the Child pane.
A screenshot is saved in the test's tmp_path and, when RPBOT_ARTIFACTS is set, there too.
Outside CI the test is skipped only when no Chromium is installed; in CI it fails instead.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Locator, Page, async_playwright, expect

from rpbot.clock import FakeClock
from rpbot.sandbox.web import SandboxServer, SeedSnapshot
from tests.sandbox_web.conftest import make_sandbox

pytestmark = pytest.mark.asyncio

CHROMIUM = "/usr/bin/chromium"
WAIT_MS = 5000


def chromium_path() -> str:
    """Debian's Chromium; skip (or, in CI, fail) when it is not installed."""
    found = CHROMIUM if Path(CHROMIUM).exists() else shutil.which("chromium")
    if found is None:
        reason = (
            f"Chromium is not installed ({CHROMIUM} is missing): apt-get install chromium "
            "to run the browser test"
        )
        if os.environ.get("CI"):
            pytest.fail(f"{reason}; CI must run it (.ci/run installs it).")
        pytest.skip(reason)
    return found


@pytest_asyncio.fixture
async def browser() -> AsyncIterator[Browser]:
    executable = chromium_path()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=executable, headless=True)
        try:
            yield launched
        finally:
            await launched.close()


@pytest_asyncio.fixture
async def live_server(
    tmp_path: Path, clock: FakeClock, seeded: SeedSnapshot | None
) -> AsyncIterator[SandboxServer]:
    """The sandbox as `rpbot sandbox` runs it, including the real SweepScheduler."""
    sandbox = make_sandbox(tmp_path, clock, sweep_seconds=5.0, seeded=seeded)
    web = SandboxServer(sandbox, 0)
    await web.start()
    try:
        await sandbox.start()
        yield web
    finally:
        await web.stop()
        await sandbox.stop()


def pane(page: Page, persona: str) -> Locator:
    return page.locator(f"section[data-persona={persona}]")


def bot_message(chat: Locator, text: str) -> Locator:
    return chat.locator(".msg.bot").filter(has_text=text)


def keep_artifact(shot: Path) -> None:
    """Copy the screenshot to $RPBOT_ARTIFACTS, when set (CI keeps that folder)."""
    artifacts = os.environ.get("RPBOT_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(artifacts) / shot.name)


async def test_diary_by_clicks_then_next_reminder_brings_the_childs_chores(
    browser: Browser, live_server: SandboxServer, tmp_path: Path
) -> None:
    page = await browser.new_page(viewport={"width": 1400, "height": 900})
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    await page.goto(live_server.url)
    await expect(page.locator("body[data-ready=true]")).to_have_count(1, timeout=WAIT_MS)
    parent, child = pane(page, "parent"), pane(page, "child")
    name = await parent.locator(".name").inner_text()
    assert name

    # Accessible by role and label: the chat log is live, the text box is labelled.
    await expect(parent.get_by_role("log")).to_have_attribute("aria-live", "polite")
    await expect(page.get_by_label(f"Message to the bot as {name} (Parent)")).to_be_visible()

    # The parent starts the diary from the command menu (set by the bot with setMyCommands).
    menu_button = parent.get_by_role("button", name=re.compile("Menu"))
    await menu_button.click()
    await expect(menu_button).to_have_attribute("aria-expanded", "true")
    await parent.get_by_role("button", name="/diary Day in the Life diary").click()

    morning = bot_message(parent, "Waking up and breakfast")
    await morning.get_by_role("button", name="😌 Calm").click(timeout=WAIT_MS)
    await expect(morning).to_contain_text("→ 😌 Calm", timeout=WAIT_MS)  # edited live
    await expect(morning.get_by_role("button")).to_have_count(0)
    school = bot_message(parent, "The school run. How did it go?")
    await school.get_by_role("button", name="🙂 OK").click(timeout=WAIT_MS)
    await expect(school).to_contain_text("→ 🙂 OK", timeout=WAIT_MS)
    await expect(bot_message(parent, "After school. How did it go?")).to_be_visible(timeout=WAIT_MS)

    # "Next reminder" until the child's chore reminder arrives (the diary's nudge is first).
    next_reminder = page.get_by_role("button", name=re.compile("Next reminder"))
    chores = bot_message(child, "Time for 🧹 Chore check-in")
    for _ in range(8):
        if await chores.count():
            break
        await next_reminder.click()
        await expect(next_reminder).to_be_enabled(timeout=WAIT_MS)
    await expect(chores).to_be_visible()
    await expect(chores.get_by_role("button", name="▶️ Start now")).to_be_visible()
    await expect(page.locator("#clock")).to_contain_text("17:00")
    await expect(page.locator("#status")).to_contain_text("Child (")

    shot = tmp_path / "sandbox.png"
    await page.screenshot(path=str(shot), full_page=True)
    keep_artifact(shot)

    # A phone-width screen: the three chats stack.
    await page.set_viewport_size({"width": 390, "height": 844})
    boxes = [await pane(page, key).bounding_box() for key in ("parent", "child", "practitioner")]
    assert all(box is not None for box in boxes)
    lefts = {round(box["x"]) for box in boxes if box is not None}
    tops = [box["y"] for box in boxes if box is not None]
    assert len(lefts) == 1, boxes
    assert tops == sorted(tops), boxes
    assert errors == []
