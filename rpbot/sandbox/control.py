"""The emulator's JSON control API under ``/_emulator/``, for drivers in another process.

    POST /_emulator/users/{user_id}/send         {"text", "first_name"?, "username"?}
    POST /_emulator/users/{user_id}/edit_last    {"text"}
    POST /_emulator/users/{user_id}/press        {"message_id"?, "data"} or {"label"}
    POST /_emulator/users/{user_id}/block | /unblock
    GET  /_emulator/users/{user_id}/callback_answers
    POST /_emulator/groups/{chat_id}/send        {"user_id", "first_name"?, "text"}
    GET  /_emulator/chats/{chat_id}/messages?after=N          bot messages with id > N
    GET  /_emulator/chats/{chat_id}/wait?after_message_id=N&timeout=S
         the first bot message with id > N, or result null after S seconds
    POST /_emulator/fail_next                    {"method", "error", "chat_id"?, ...}
    GET  /_emulator/stats
    GET  /_emulator/delivery_times         time.monotonic() of each delivered message

Answers look like the Bot API's: ``{"ok": true, "result": ...}`` or ``{"ok": false, ...}``.
"""

from __future__ import annotations

import dataclasses
from typing import TYPE_CHECKING, Any

from aiohttp import web

from rpbot.sandbox.client import FakeUser
from rpbot.sandbox.records import SentMessage

if TYPE_CHECKING:
    from rpbot.sandbox.emulator import BotApiEmulator

__all__ = ["control_routes", "message_json"]

JsonDict = dict[str, Any]
MAX_WAIT_SECONDS = 60.0


def message_json(emulator: BotApiEmulator, message: SentMessage) -> JsonDict:
    """A bot message as JSON: the Bot API shape plus what the emulator knows about it."""
    chat = emulator.state.chats[message.chat_id]
    return {
        **message.to_api(chat.to_api(), emulator.state.bot_user),
        "method": message.method,
        "source_text": message.source_text,
        "parse_mode": message.parse_mode,
        "edits": [dataclasses.asdict(edit) for edit in message.edits],
        "deleted": message.deleted,
    }


def _ok(result: object) -> web.Response:
    return web.json_response({"ok": True, "result": result})


def _bad(description: str, status: int = 400) -> web.Response:
    body = {"ok": False, "error_code": status, "description": description}
    return web.json_response(body, status=status)


async def _body(request: web.Request) -> JsonDict:
    if not request.can_read_body:
        return {}
    try:
        body = await request.json()
    except ValueError as error:
        raise web.HTTPBadRequest(text="the body must be JSON") from error
    if not isinstance(body, dict):
        raise web.HTTPBadRequest(text="the body must be a JSON object")
    return body


def _int(request: web.Request, name: str, default: int = 0) -> int:
    raw = request.match_info.get(name, request.query.get(name))
    try:
        return int(raw) if raw is not None else default
    except ValueError as error:
        raise web.HTTPBadRequest(text=f"{name} must be an integer") from error


def control_routes(emulator: BotApiEmulator) -> list[web.RouteDef]:
    """The control API's routes, bound to one emulator."""

    def person(request: web.Request, body: JsonDict) -> FakeUser:
        user_id = _int(request, "user_id")
        first_name = str(body.get("first_name") or f"Person {user_id}")
        return emulator.user(user_id, first_name, username=body.get("username"))

    async def send(request: web.Request) -> web.Response:
        body = await _body(request)
        if not isinstance(body.get("text"), str):
            return _bad("send needs a text")
        return _ok(await person(request, body).send(body["text"]))

    async def edit_last(request: web.Request) -> web.Response:
        body = await _body(request)
        return _ok(await person(request, body).edit_last(str(body.get("text", ""))))

    async def press(request: web.Request) -> web.Response:
        body = await _body(request)
        user = person(request, body)
        try:
            if "label" in body:
                query_id = await user.press(str(body["label"]))
            else:
                message_id = body.get("message_id")
                query_id = await user.press_data(
                    str(body.get("data", "")), int(message_id) if message_id else None
                )
        except AssertionError as error:
            return _bad(str(error))
        return _ok({"callback_query_id": query_id})

    async def callback_answers(request: web.Request) -> web.Response:
        user_id = _int(request, "user_id")
        answers = [
            dataclasses.asdict(query.answer)
            for query in emulator.state.callback_queries.values()
            if query.user_id == user_id and query.answer is not None
        ]
        return _ok(answers)

    async def block(request: web.Request) -> web.Response:
        emulator.block(_int(request, "user_id"))
        return _ok(True)

    async def unblock(request: web.Request) -> web.Response:
        emulator.unblock(_int(request, "user_id"))
        return _ok(True)

    async def group_send(request: web.Request) -> web.Response:
        body = await _body(request)
        user_id = int(body.get("user_id", 0))
        if not user_id or not isinstance(body.get("text"), str):
            return _bad("group send needs user_id and text")
        member = emulator.user(user_id, str(body.get("first_name") or f"Person {user_id}"))
        group = emulator.group(_int(request, "chat_id"), member)
        return _ok(await group.send(member, body["text"]))

    async def messages(request: web.Request) -> web.Response:
        chat = emulator.state.chat(_int(request, "chat_id"))
        after = _int(request, "after")
        history = chat.history if chat is not None else []
        return _ok([message_json(emulator, m) for m in history if m.message_id > after])

    async def wait(request: web.Request) -> web.Response:
        chat_id, after = _int(request, "chat_id"), _int(request, "after_message_id")
        try:
            timeout = min(MAX_WAIT_SECONDS, float(request.query.get("timeout", "10")))
        except ValueError:
            return _bad("timeout must be a number of seconds")

        def first_new() -> SentMessage | None:
            chat = emulator.state.chat(chat_id)
            history = chat.history if chat is not None else []
            return next((m for m in history if m.message_id > after), None)

        await emulator.state.chats_changed.wait_until(
            lambda: first_new() is not None or emulator.state.closing, timeout
        )
        found = first_new()
        return _ok(message_json(emulator, found) if found is not None else None)

    async def fail_next(request: web.Request) -> web.Response:
        body = await _body(request)
        try:
            emulator.fail_next(
                str(body["method"]),
                int(body["error"]),
                chat_id=body.get("chat_id"),
                retry_after=body.get("retry_after"),
                description=body.get("description"),
                times=int(body.get("times", 1)),
            )
        except (KeyError, ValueError) as error:
            return _bad(f"fail_next needs method and error: {error}")
        return _ok(True)

    async def stats(request: web.Request) -> web.Response:
        return _ok(emulator.stats.to_json())

    async def delivery_times(request: web.Request) -> web.Response:
        return _ok(emulator.stats.delivery_times)

    return [
        web.post("/_emulator/users/{user_id}/send", send),
        web.post("/_emulator/users/{user_id}/edit_last", edit_last),
        web.post("/_emulator/users/{user_id}/press", press),
        web.post("/_emulator/users/{user_id}/block", block),
        web.post("/_emulator/users/{user_id}/unblock", unblock),
        web.get("/_emulator/users/{user_id}/callback_answers", callback_answers),
        web.post("/_emulator/groups/{chat_id}/send", group_send),
        web.get("/_emulator/chats/{chat_id}/messages", messages),
        web.get("/_emulator/chats/{chat_id}/wait", wait),
        web.post("/_emulator/fail_next", fail_next),
        web.get("/_emulator/stats", stats),
        web.get("/_emulator/delivery_times", delivery_times),
    ]
