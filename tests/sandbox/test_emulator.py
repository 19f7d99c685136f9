"""The Bot API emulator, driven through the real python-telegram-bot over loopback.

Each test pushes what a person does (send, press) and pops what the bot did (reply, edit,
answer); no mocks. Waiting is event-driven, timeouts are only failure guards, and flood
limits run on a fake clock.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import signal
import sys
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
import pytest_asyncio
from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    ReplyParameters,
    Update,
)
from telegram.constants import ChatAction, ParseMode
from telegram.error import BadRequest, Forbidden, InvalidToken, RetryAfter
from telegram.ext import (
    Application,
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)

from rpbot.sandbox import BotApiEmulator, RateLimit, RemoteEmulator

PollingApp = Application[Any, Any, Any, Any, Any, Any]
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d49484452000000020000000308060000009dd1e5e0"
    "0000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)
MOODS = InlineKeyboardMarkup(
    [
        [
            InlineKeyboardButton("😌 Calm", callback_data="mood:calm"),
            InlineKeyboardButton("😣 Hard", callback_data="mood:hard"),
        ]
    ]
)


# -- a tiny bot: the handlers the tests talk to ------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text("How did this morning go?", reply_markup=MOODS)


async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.effective_message is not None
    await update.effective_message.reply_text(f"echo: {update.effective_message.text}")


async def on_press(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    query = update.callback_query
    assert query is not None
    await query.answer(f"Noted {query.data}")
    await query.edit_message_text(f"You chose {query.data}")


async def on_photo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    picture = await message.photo[-1].get_file()
    data = await picture.download_as_bytearray()
    await message.reply_text(f"photo of {len(data)} bytes")


async def on_edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    assert update.edited_message is not None
    await update.edited_message.reply_text(f"edited: {update.edited_message.text}")


async def on_forward(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    assert message.forward_origin is not None
    await message.reply_text(f"forwarded ({message.forward_origin.type})")


async def describe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    message = update.effective_message
    assert message is not None
    kinds = ("voice", "document", "sticker", "location", "contact", "poll")
    kind = next(kind for kind in kinds if getattr(message, kind) is not None)
    await message.reply_text(f"got {kind}")


@pytest_asyncio.fixture
async def app(emulator: BotApiEmulator) -> AsyncIterator[PollingApp]:
    """The tiny bot, polling the emulator, shut down cleanly after the test."""
    application = (
        ApplicationBuilder()
        .token(emulator.token)
        .base_url(emulator.base_url)
        .base_file_url(emulator.base_file_url)
        .build()
    )
    new_message = filters.UpdateType.MESSAGE
    application.add_handlers(
        [
            CommandHandler("start", start),
            CallbackQueryHandler(on_press),
            MessageHandler(filters.UpdateType.EDITED_MESSAGE, on_edit),
            MessageHandler(new_message & filters.FORWARDED, on_forward),
            MessageHandler(new_message & filters.PHOTO, on_photo),
            MessageHandler(new_message & filters.TEXT & ~filters.COMMAND, echo),
            MessageHandler(new_message, describe),
        ]
    )
    await application.initialize()
    await application.start()
    assert application.updater is not None
    await application.updater.start_polling(poll_interval=0, timeout=1)
    try:
        yield application
    finally:
        await application.updater.stop()
        await application.stop()
        await application.shutdown()


class FakeClock:
    """Monotonic seconds that only move when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


# -- conversations through a running PTB Application --------------------------------------------


@pytest.mark.asyncio
async def test_echo_round_trip(emulator: BotApiEmulator, app: PollingApp) -> None:
    alex = emulator.user(42, "Alex")
    await alex.send("hello there")
    reply = await alex.next_reply()
    assert reply.text == "echo: hello there"
    assert reply.chat_id == 42
    assert emulator.stats.calls["sendMessage"] == 1
    assert emulator.stats.messages_delivered == 1


@pytest.mark.asyncio
async def test_start_is_a_bot_command(emulator: BotApiEmulator, app: PollingApp) -> None:
    alex = emulator.user(42, "Alex", username="alex_p")
    sent = await alex.send("/start")
    assert sent["entities"] == [{"type": "bot_command", "offset": 0, "length": 6}]
    reply = await alex.next_reply()
    assert reply.text == "How did this morning go?"
    assert reply.buttons == [[("😌 Calm", "mood:calm"), ("😣 Hard", "mood:hard")]]


@pytest.mark.asyncio
async def test_press_answers_the_query_and_edits_the_message(
    emulator: BotApiEmulator,
    app: PollingApp,
) -> None:
    alex = emulator.user(42, "Alex")
    await alex.send("/start")
    question = await alex.next_reply()
    await alex.press("calm")  # case-insensitive substring of "😌 Calm"
    answers = await alex.callback_answers()
    assert [(a.text, a.show_alert) for a in answers] == [("Noted mood:calm", False)]
    edited = await alex.next_edit()
    assert edited is question
    assert edited.text == "You chose mood:calm"
    assert edited.buttons == []  # editing text without reply_markup removes the keyboard
    assert [(e.old_text, e.new_text) for e in edited.edits] == [
        ("How did this morning go?", "You chose mood:calm")
    ]
    with pytest.raises(AssertionError, match="Buttons seen"):
        await alex.press("Calm")


@pytest.mark.asyncio
async def test_press_lists_labels_when_none_matches(
    emulator: BotApiEmulator,
    app: PollingApp,
) -> None:
    alex = emulator.user(42, "Alex")
    await alex.send("/start")
    await alex.next_reply()
    with pytest.raises(AssertionError, match=r"'Furious'.*😌 Calm.*😣 Hard"):
        await alex.press("Furious")


@pytest.mark.asyncio
async def test_person_sends_a_photo_the_bot_downloads(
    emulator: BotApiEmulator,
    app: PollingApp,
) -> None:
    alex = emulator.user(42, "Alex")
    await alex.send_photo(PNG)
    reply = await alex.next_reply()
    assert reply.text == f"photo of {len(PNG)} bytes"


@pytest.mark.asyncio
async def test_every_kind_of_update_reaches_the_bot(
    emulator: BotApiEmulator,
    app: PollingApp,
) -> None:
    alex = emulator.user(42, "Alex")
    await alex.send_voice()
    await alex.send_document(b"a,b\n", file_name="notes.csv", mime_type="text/csv")
    await alex.send_sticker()
    await alex.send_location()
    await alex.send_contact()
    await alex.send_poll("Bedtime at 8?")
    replies = [(await alex.next_reply()).text for _ in range(6)]
    assert replies == [
        "got voice",
        "got document",
        "got sticker",
        "got location",
        "got contact",
        "got poll",
    ]
    await alex.send("first try")
    await alex.edit_last("second try")
    await alex.forward("from the school")
    replies = [(await alex.next_reply()).text for _ in range(3)]
    assert replies == ["echo: first try", "edited: second try", "forwarded (hidden_user)"]


@pytest.mark.asyncio
async def test_group_messages_have_a_group_chat(
    emulator: BotApiEmulator,
    app: PollingApp,
) -> None:
    sam, jo = emulator.user(7, "Sam"), emulator.user(8, "Jo")
    family = emulator.group(-1001, sam, jo, title="The Smiths")
    sent = await family.send(jo, "hi all")
    assert sent["chat"] == {"id": -1001, "type": "group", "title": "The Smiths"}
    reply = await family.next_reply()
    assert reply.text == "echo: hi all"
    assert reply.reply_to_message_id == sent["message_id"]  # PTB quotes in groups
    assert sam.messages == []


@pytest.mark.asyncio
async def test_control_api_drives_the_bot_over_http(
    emulator: BotApiEmulator,
    app: PollingApp,
) -> None:
    async with RemoteEmulator(emulator.url) as remote:
        riley = remote.user(77, "Riley")
        await riley.send("/start")
        question = await riley.next_reply()
        assert question["text"] == "How did this morning go?"
        await riley.press("Hard")
        await riley.send("over http")
        reply = await riley.next_reply()
        assert reply["text"] == "echo: over http"
        history = await riley.messages()
        assert [m["text"] for m in history] == ["You chose mood:hard", "echo: over http"]
        assert len(history[0]["edits"]) == 1
        stats = await remote.stats()
        assert stats["calls"]["answerCallbackQuery"] == 1


# -- Bot API behaviour, called through a bare PTB Bot --------------------------------------------


@pytest.mark.asyncio
async def test_photo_and_document_uploads_download_intact(
    emulator: BotApiEmulator, bot: Bot
) -> None:
    alex = emulator.user(42, "Alex")
    sent = await bot.send_photo(42, PNG, caption="<b>Your week</b>", parse_mode=ParseMode.HTML)
    assert (sent.photo[-1].width, sent.photo[-1].height) == (2, 3)
    picture = await bot.get_file(sent.photo[-1].file_id)
    assert bytes(await picture.download_as_bytearray()) == PNG
    document = await bot.send_document(42, b"day,mood\nmon,calm\n", filename="digest.csv")
    assert document.document is not None
    assert (document.document.file_name, document.document.mime_type) == (
        "digest.csv",
        "text/csv",
    )
    stored = await bot.get_file(document.document.file_id)
    assert bytes(await stored.download_as_bytearray()) == b"day,mood\nmon,calm\n"
    resent = await bot.send_photo(42, sent.photo[-1].file_id)  # by file_id, no upload
    assert resent.photo[-1].file_id == sent.photo[-1].file_id
    photo, doc, _ = alex.messages
    assert (photo.caption, photo.source_text) == ("Your week", "<b>Your week</b>")
    assert photo.entities == [{"type": "bold", "offset": 0, "length": 9}]
    assert doc.document is not None
    assert doc.document["file_name"] == "digest.csv"


@pytest.mark.asyncio
@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("<b>never closed", 'Can\'t find end tag corresponding to start tag "b"'),
        ("<blink>hi</blink>", 'Unsupported start tag "blink" at byte offset 0'),
        ("<b><i>x</b></i>", 'Unmatched end tag at byte offset 7, expected "</i>", found "</b>"'),
        ("score < 5", 'Unsupported start tag "" at byte offset 6'),
        ("a&nbsp;b", 'Unsupported HTML entity "&nbsp;" at byte offset 1'),
        ("<span>x</span>", 'Tag "span" must have class "tg-spoiler"'),
    ],
)
async def test_bad_html_is_refused_like_telegram(
    emulator: BotApiEmulator, bot: Bot, text: str, problem: str
) -> None:
    emulator.user(42, "Alex")
    with pytest.raises(BadRequest, match="parse entities") as refused:
        await bot.send_message(42, text, parse_mode=ParseMode.HTML)
    # PTB drops "Bad Request: " and re-capitalizes the rest, hence the lower()
    assert problem.lower() in refused.value.message.lower()
    assert emulator.history(42) == []


@pytest.mark.asyncio
async def test_good_html_becomes_entities(emulator: BotApiEmulator, bot: Bot) -> None:
    emulator.user(42, "Alex")
    html = '<b>Bold</b> &amp; <a href="https://example.org">link</a> <tg-spoiler>s</tg-spoiler>'
    sent = await bot.send_message(42, html, parse_mode=ParseMode.HTML)
    assert sent.text == "Bold & link s"
    assert [(e.type, e.offset, e.length) for e in sent.entities] == [
        ("bold", 0, 4),
        ("text_link", 7, 4),
        ("spoiler", 12, 1),
    ]


@pytest.mark.asyncio
async def test_texts_and_buttons_telegram_refuses(emulator: BotApiEmulator, bot: Bot) -> None:
    emulator.user(42, "Alex")
    with pytest.raises(BadRequest, match=r"(?i)message is too long"):
        await bot.send_message(42, "x" * 4097)
    with pytest.raises(BadRequest, match=r"(?i)message text is empty"):
        await bot.send_message(42, "<b></b>", parse_mode=ParseMode.HTML)
    too_long = InlineKeyboardMarkup([[InlineKeyboardButton("Go", callback_data="x" * 65)]])
    with pytest.raises(BadRequest, match=r"(?i)BUTTON_DATA_INVALID"):
        await bot.send_message(42, "Pick one", reply_markup=too_long)
    with pytest.raises(BadRequest, match=r"(?i)chat not found"):
        await bot.send_message(999, "nobody here")
    with pytest.raises(BadRequest, match=r"(?i)message to be replied not found"):
        await bot.send_message(42, "re", reply_parameters=ReplyParameters(999))
    await bot.send_message(42, "x" * 4096)


@pytest.mark.asyncio
async def test_flood_error_carries_retry_after(emulator: BotApiEmulator, bot: Bot) -> None:
    emulator.user(42, "Alex")
    emulator.fail_next("sendMessage", 429, retry_after=7, times=2)
    for _ in range(2):
        with pytest.raises(RetryAfter) as flood:
            await bot.send_message(42, "hello")
        assert flood.value.retry_after == dtm.timedelta(seconds=7)
    await bot.send_message(42, "hello again")
    assert emulator.stats.too_many_requests == 2
    assert [m.text for m in emulator.history(42)] == ["hello again"]


@pytest.mark.asyncio
async def test_blocked_person_gives_forbidden(emulator: BotApiEmulator, bot: Bot) -> None:
    emulator.user(42, "Alex")
    emulator.user(43, "Sam")
    emulator.block(42)
    with pytest.raises(Forbidden, match="bot was blocked by the user"):
        await bot.send_message(42, "still there?")
    await bot.send_message(43, "hello Sam")  # only the blocking person is affected
    emulator.unblock(42)
    await bot.send_message(42, "welcome back")
    emulator.fail_next("sendPhoto", 403, chat_id=43)
    with pytest.raises(Forbidden):
        await bot.send_photo(43, PNG)
    assert emulator.stats.errors[403] == 2


@pytest.mark.asyncio
async def test_editing_to_the_same_content_is_refused(emulator: BotApiEmulator, bot: Bot) -> None:
    emulator.user(42, "Alex")
    sent = await bot.send_message(42, "Pick one", reply_markup=MOODS)
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_text(
            "Pick one", chat_id=42, message_id=sent.message_id, reply_markup=MOODS
        )
    with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
        await bot.edit_message_reply_markup(42, sent.message_id, reply_markup=MOODS)
    await bot.edit_message_reply_markup(42, sent.message_id, reply_markup=None)
    assert emulator.history(42)[0].buttons == []
    with pytest.raises(BadRequest, match=r"(?i)message to edit not found"):
        await bot.edit_message_text("gone", chat_id=42, message_id=999)


@pytest.mark.asyncio
async def test_enforced_flood_limits_follow_the_injected_clock() -> None:
    clock = FakeClock()
    limit = RateLimit(overall_per_second=3, per_chat_per_second=1, clock=clock)
    async with (
        BotApiEmulator(rate_limit=limit) as emulator,
        Bot(emulator.token, base_url=emulator.base_url) as bot,
    ):
        for user_id in (1, 2, 3, 4):
            emulator.user(user_id, f"P{user_id}")
        await bot.send_message(1, "one")
        with pytest.raises(RetryAfter) as per_chat:
            await bot.send_message(1, "one again, too soon")
        assert per_chat.value.retry_after == dtm.timedelta(seconds=1)
        await bot.send_message(2, "two")
        await bot.send_message(3, "three")
        with pytest.raises(RetryAfter):
            await bot.send_message(4, "four: over 3 per second overall")
        clock.advance(1.0)
        await bot.send_message(1, "one, a second later")
        await bot.send_message(4, "four, a second later")
        assert emulator.stats.too_many_requests == 2


@pytest.mark.asyncio
async def test_commands_are_kept_per_scope(emulator: BotApiEmulator, bot: Bot) -> None:
    emulator.user(42, "Alex")
    practitioner = [BotCommand("digest", "This week's digest"), BotCommand("alerts", "Open")]
    await bot.set_my_commands([BotCommand("start", "Begin")])
    await bot.set_my_commands(practitioner, scope=BotCommandScopeChat(42))
    assert await bot.get_my_commands(scope=BotCommandScopeChat(42)) == tuple(practitioner)
    assert [c.command for c in await bot.get_my_commands()] == ["start"]
    assert [c["command"] for c in emulator.commands({"type": "chat", "chat_id": 42})] == [
        "digest",
        "alerts",
    ]
    await bot.delete_my_commands(scope=BotCommandScopeChat(42))
    assert await bot.get_my_commands(scope=BotCommandScopeChat(42)) == ()
    with pytest.raises(BadRequest, match=r"(?i)BOT_COMMAND_INVALID"):
        await bot.set_my_commands([BotCommand("Bad Command", "no")])


@pytest.mark.asyncio
async def test_wrong_token_is_unauthorized(emulator: BotApiEmulator) -> None:
    with pytest.raises(InvalidToken):
        async with Bot("999999:WRONG", base_url=emulator.base_url):
            pass


@pytest.mark.asyncio
async def test_get_updates_redelivers_until_confirmed(emulator: BotApiEmulator, bot: Bot) -> None:
    alex = emulator.user(42, "Alex")
    for text in ("one", "two", "three"):
        await alex.send(text)
    first = await bot.get_updates()
    assert [u.message.text for u in first if u.message] == ["one", "two", "three"]
    again = await bot.get_updates(offset=first[1].update_id)  # confirms "one"
    assert [u.message.text for u in again if u.message] == ["two", "three"]
    assert len(await bot.get_updates()) == 2  # unconfirmed updates come back
    assert await bot.get_updates(offset=first[-1].update_id + 1) == ()
    waiting = asyncio.create_task(bot.get_updates(timeout=10))  # a long poll
    await alex.send("four")
    woken = await asyncio.wait_for(waiting, timeout=5)  # woken by the update, not the timeout
    assert [u.message.text for u in woken if u.message] == ["four"]


@pytest.mark.asyncio
async def test_chat_actions_chats_and_leaving(emulator: BotApiEmulator, bot: Bot) -> None:
    alex = emulator.user(42, "Alex", username="alex_p")
    emulator.group(-5, alex, title="Family")
    await bot.send_chat_action(42, ChatAction.TYPING)
    assert alex.chat_actions == ["typing"]
    chat = await bot.get_chat(42)
    assert (chat.type, chat.first_name, chat.username) == ("private", "Alex", "alex_p")
    assert await bot.leave_chat(-5)
    with pytest.raises(Forbidden, match="not a member"):
        await bot.send_message(-5, "anyone?")
    me = await bot.get_me()
    assert me.username == emulator.bot_username


@pytest.mark.asyncio
async def test_raw_http_encodings_and_unknown_method(emulator: BotApiEmulator) -> None:
    emulator.user(42, "Alex")
    async with httpx.AsyncClient(base_url=f"{emulator.base_url}{emulator.token}") as client:
        as_json = await client.post(
            "/sendMessage",
            json={"chat_id": 42, "text": "json", "reply_markup": MOODS.to_dict()},
        )
        as_query = await client.get("/sendMessage", params={"chat_id": "42", "text": "query"})
        unknown = await client.post("/sendTelepathy")
        bad_html = await client.post(
            "/sendMessage", data={"chat_id": "42", "text": "<x>", "parse_mode": "HTML"}
        )
    assert as_json.json()["result"]["reply_markup"] == MOODS.to_dict()
    assert as_query.json()["result"]["text"] == "query"
    assert bad_html.json()["description"] == (
        'Bad Request: can\'t parse entities: Unsupported start tag "x" at byte offset 0'
    )
    assert unknown.status_code == 404
    assert unknown.json() == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }


@pytest.mark.asyncio
async def test_waiting_for_a_reply_that_never_comes_shows_history(
    emulator: BotApiEmulator,
) -> None:
    alex = emulator.user(42, "Alex")
    await alex.send("is anyone there?")
    with pytest.raises(AssertionError, match="person: is anyone there"):
        await alex.next_reply(timeout=0.05)


@pytest.mark.asyncio
async def test_standalone_entry_point_serves_until_interrupted() -> None:
    server = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "rpbot.sandbox.emulator",
        "--port",
        "0",
        "--rate-limit",
        "30",
        stdout=asyncio.subprocess.PIPE,
    )
    try:
        assert server.stdout is not None
        banner = (await asyncio.wait_for(server.stdout.readline(), timeout=10)).decode()
        base_url = banner.split(" at ")[1].strip()
        async with Bot("123456:TEST", base_url=base_url) as bot:
            assert bot.username == "rpbot_test_bot"
        server.send_signal(signal.SIGINT)
        await asyncio.wait_for(server.stdout.read(), timeout=10)
        assert await asyncio.wait_for(server.wait(), timeout=10) == 0
    finally:
        if server.returncode is None:
            server.kill()
            await server.wait()
