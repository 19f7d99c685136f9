"""The sandbox's web API end to end: the real bot, the emulator and the FakeClock in-process."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import aiohttp
import pytest

from rpbot.clock import FakeClock
from rpbot.sandbox.web import SandboxServer
from tests.sandbox_web.conftest import START, Api, containing, with_buttons

pytestmark = pytest.mark.asyncio

CHORES_REMINDER = "Time for 🧹 Chore check-in"
FIRST_QUESTION = "Waking up and breakfast"


async def start_diary(api: Api) -> dict[str, Any]:
    """The parent opens the diary from the command menu; its first question."""
    sent = await api.send("parent", "/diary")
    return await api.bot_message("parent", with_buttons(FIRST_QUESTION), after=sent)


async def test_the_three_personas_are_the_seeded_people_with_their_menus(api: Api) -> None:
    personas = await api.get("/api/personas")
    assert [p["key"] for p in personas] == ["parent", "child", "practitioner"]
    assert all(p["name"] and p["user_id"] for p in personas)
    commands = {p["key"]: [c["command"] for c in p["commands"]] for p in personas}
    assert "diary" in commands["parent"]
    assert "chores" in commands["child"]
    assert "families" in commands["practitioner"]


@pytest.mark.invites
async def test_without_the_demo_seeder_the_people_join_by_invite_through_the_bot(
    api: Api,
) -> None:
    personas = await api.get("/api/personas")
    assert [p["name"] for p in personas] == ["Sam", "Mia", "Alex"]
    welcome = (await api.messages("parent"))[1]
    assert welcome["from"] == "bot"
    assert "Welcome, Sam" in welcome["html"]
    assert [b["text"] for b in welcome["buttons"][0]] == ["📔 Diary", "🧭 Check-in"]
    joined = [m["html"] for m in await api.messages("practitioner")]
    assert any("Sam (parent) has joined the Green family" in text for text in joined)


async def test_a_persona_sends_a_message_and_gets_the_bots_reply(api: Api) -> None:
    sent = await api.send("child", "/help")
    mine = [m for m in await api.messages("child") if m["id"] == sent]
    assert mine == [mine[0]]
    assert mine[0]["from"] == "user"
    assert mine[0]["html"] == "/help"
    reply = await api.bot_message("child", containing("/skip"), after=sent)
    assert reply["id"] > sent


async def test_pressing_a_button_answers_the_question_and_the_next_one_comes(api: Api) -> None:
    first = await start_diary(api)
    await api.press("parent", first, "😌 Calm")
    second = await api.bot_message("parent", with_buttons("school run"), after=first["id"])
    # The answered question was edited live: it shows the answer and its buttons are gone.
    closed = next(m for m in await api.messages("parent") if m["id"] == first["id"])
    assert closed["edited"]
    assert closed["buttons"] == []
    assert "<i>→ 😌 Calm</i>" in closed["html"]
    assert second["id"] > first["id"]


async def test_a_button_that_is_not_on_the_message_is_refused(api: Api) -> None:
    first = await start_diary(api)
    body = {"message_id": first["id"], "data": "a1:999:1:calm"}
    refused = await api.post("/api/chats/parent/press", body, status=409)
    assert "no such button" in refused["error"]
    missing = {"message_id": 99999, "data": "x"}
    assert (await api.post("/api/chats/parent/press", missing, status=404))["ok"] is False
    assert (await api.post("/api/chats/nobody/send", {"text": "hi"}, status=404))["ok"] is False
    assert (await api.post("/api/chats/parent/send", {"text": "  "}, status=400))["ok"] is False


async def test_next_reminder_advances_the_clock_and_the_childs_reminder_arrives(
    api: Api, clock: FakeClock
) -> None:
    for _ in range(10):
        before = clock.now()
        result = await api.post("/api/clock/next")
        assert result["moved"] is True
        assert clock.now() > before
        assert result["clock"]["utc"] == clock.now().isoformat()
        assert result["delivered"], result  # every step brings someone shown a message
        if "child" in result["delivered"] and CHORES_REMINDER in str(
            (await api.messages("child"))[-1]["html"]
        ):
            break
    else:
        raise AssertionError("the child's chore reminder never came")
    reminder = (await api.messages("child"))[-1]
    assert [b["text"] for row in reminder["buttons"] for b in row] == [
        "▶️ Start now",
        "⏰ Later",
        "🙅 Not today",
    ]
    assert clock.now().hour == 17  # the chore check-in is at 17:00 (London is on GMT)


@pytest.mark.invites
async def test_next_reminder_goes_to_the_next_due_item_exactly(api: Api, clock: FakeClock) -> None:
    result = await api.post("/api/clock/next")
    assert clock.now() == START.replace(hour=17)
    assert result["delivered"] == {"child": 1}
    assert result["clock"]["text"] == "Mon 23 Nov 2026, 17:00"
    assert "Child (Mia) got a message" in result["message"]
    assert CHORES_REMINDER in (await api.messages("child"))[-1]["html"]
    await api.post("/api/clock/next")
    assert clock.now() == START.replace(hour=19, minute=30)
    assert "Day in the Life diary" in (await api.messages("parent"))[-1]["html"]


@pytest.mark.invites
async def test_next_reminder_steps_over_what_sends_nothing(api: Api, clock: FakeClock) -> None:
    """The parent is mid-diary: the nudge comes first, then the child's reminder."""
    await start_diary(api)
    nudge = await api.post("/api/clock/next")
    assert clock.now() == START + timedelta(hours=3)
    assert nudge["nudged"] == 1
    assert set(nudge["delivered"]) == {"parent"}
    assert any("still open" in m["html"] for m in (await api.messages("parent"))[-2:])
    chores = await api.post("/api/clock/next")
    assert chores["delivered"] == {"child": 1}
    # 19:30: the diary reminder is skipped (the diary is already open), so nothing is sent
    # then; the clock moves on to the next thing that does send something.
    later = await api.post("/api/clock/next")
    assert clock.now() > START.replace(hour=19, minute=30)
    assert later["delivered"]


async def test_restarting_the_bot_keeps_the_conversation(api: Api) -> None:
    first = await start_diary(api)
    await api.press("parent", first, "😌 Calm")
    second = await api.bot_message("parent", with_buttons("school run"), after=first["id"])
    before = await api.messages("parent")

    result = await api.post("/api/restart")
    assert result["kept"]["answers"] >= 1
    assert result["kept"]["active_runs"] >= 1
    assert "Nothing was lost" in result["message"]
    assert await api.messages("parent") == before  # the chat is as it was

    await api.press("parent", second, "🙂 OK")  # the old question still works: same run
    third = await api.bot_message("parent", with_buttons("After school"), after=second["id"])
    assert third["id"] > second["id"]
    status = await api.get("/api/status")
    assert status["bot"] == "running"


async def test_server_sent_events_deliver_a_new_message(server: SandboxServer, api: Api) -> None:
    events: list[dict[str, Any]] = []
    async with (
        aiohttp.ClientSession() as session,
        session.get(server.url + "/api/events") as stream,
        asyncio.timeout(10),
    ):
        assert stream.headers["Content-Type"].startswith("text/event-stream")
        sent_id: int | None = None
        async for line in stream.content:
            if not line.startswith(b"data: "):
                continue
            event = json.loads(line[len(b"data: ") :])
            events.append(event)
            if sent_id is None:  # the stream is open: now something can happen
                assert event["type"] == "status"
                sent_id = await api.send("child", "/help")
                continue
            if (
                event["type"] == "message"
                and event["persona"] == "child"
                and event["message"]["from"] == "bot"
            ):
                break
    kinds = [(e["type"], e.get("persona"), e.get("message", {}).get("from")) for e in events]
    assert ("message", "child", "user") in kinds  # the child's own message, live too
    assert kinds[-1] == ("message", "child", "bot")
    assert "/skip" in events[-1]["message"]["html"]


async def test_send_weekly_digest_now_answers_either_way(api: Api) -> None:
    result = await api.post("/api/digest")
    assert result["message"]
    if result["available"]:
        assert set(result["delivered"]) <= {"practitioner", "parent", "child"}
    else:
        assert "not part of this version" in result["message"]


async def test_reset_wipes_the_chats_and_seeds_the_family_again(api: Api, clock: FakeClock) -> None:
    personas = await api.get("/api/personas")
    fresh = {p["key"]: await api.messages(p["key"]) for p in personas}
    await start_diary(api)
    await api.post("/api/clock/next")
    assert await api.messages("parent") != fresh["parent"]

    result = await api.post("/api/reset")
    assert [p["name"] for p in result["personas"]] == [p["name"] for p in personas]
    assert clock.now() == START
    for persona in personas:
        assert await api.messages(persona["key"]) == fresh[persona["key"]]


async def test_the_page_and_its_files_are_served_with_a_strict_policy(
    server: SandboxServer,
) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(server.url + "/") as page:
            html = await page.text()
            assert page.status == 200
            assert "script-src 'self'" in page.headers["Content-Security-Policy"]
        assert 'src="/static/app.js"' in html
        assert "http" not in html.replace("http-equiv", "")  # nothing from the internet
        for name in ("app.js", "style.css"):
            async with session.get(f"{server.url}/static/{name}") as response:
                assert response.status == 200
                assert "http://" not in await response.text()
                assert "https://" not in await response.text()


async def test_other_hosts_and_non_json_writes_are_refused(server: SandboxServer) -> None:
    async with aiohttp.ClientSession() as session:
        async with session.get(
            server.url + "/api/personas", headers={"Host": "evil.example:80"}
        ) as response:
            assert response.status == 403
        async with session.post(
            server.url + "/api/clock/next", data="x", headers={"Content-Type": "text/plain"}
        ) as response:
            assert response.status == 415
