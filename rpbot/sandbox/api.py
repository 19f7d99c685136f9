"""One Bot API call from start to finish: find the method, apply planned failures, blocks and
flood limits, then run it. Every outcome is counted in the emulator's stats."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from rpbot.sandbox.api_bot import BOT_METHODS
from rpbot.sandbox.api_messages import MESSAGE_METHODS
from rpbot.sandbox.params import Params
from rpbot.sandbox.records import ApiError
from rpbot.sandbox.state import EmulatorState

__all__ = ["METHODS", "call_method", "canonical_method", "default_description"]

Method = Callable[[EmulatorState, Params], Awaitable[Any]]

METHODS: dict[str, Method] = {**BOT_METHODS, **MESSAGE_METHODS}
_BY_LOWER_NAME = {name.lower(): name for name in METHODS}

# Calls that reach a person: refused when the person blocked the bot or it left the group.
_REACHES_A_CHAT = frozenset(
    {
        "sendMessage",
        "sendPhoto",
        "sendDocument",
        "sendChatAction",
        "editMessageText",
        "editMessageReplyMarkup",
    }
)
# Calls that count against Telegram's flood limits.
_FLOOD_LIMITED = frozenset(
    {"sendMessage", "sendPhoto", "sendDocument", "editMessageText", "editMessageReplyMarkup"}
)

_DESCRIPTIONS = {
    400: "Bad Request: injected failure",
    401: "Unauthorized",
    403: "Forbidden: bot was blocked by the user",
    404: "Not Found",
    409: "Conflict: terminated by other getUpdates request",
    500: "Internal Server Error",
    502: "Bad Gateway",
}


def canonical_method(name: str) -> str | None:
    """The Bot API spelling of a method name (Telegram ignores case), or None if unknown."""
    return _BY_LOWER_NAME.get(name.lower())


def default_description(error: int, retry_after: int | None) -> str:
    """Telegram's usual description for an error code."""
    if error == 429:
        return f"Too Many Requests: retry after {retry_after}"
    return _DESCRIPTIONS.get(error, f"Error {error}")


def _target_chat_id(params: Params) -> int | None:
    try:
        return params.chat_id() if params.has("chat_id") else None
    except ApiError:
        return None


def _refuse(state: EmulatorState, method: str, chat_id: int | None) -> None:
    failure = state.take_failure(method, chat_id)
    if failure is not None:
        raise ApiError(failure.error, failure.description, retry_after=failure.retry_after)
    if method in _REACHES_A_CHAT and chat_id is not None:
        chat = state.chat(chat_id)
        if chat_id in state.blocked:
            raise ApiError(403, "Forbidden: bot was blocked by the user")
        if chat is not None and chat.left:
            raise ApiError(403, "Forbidden: bot is not a member of the group chat")
    if method in _FLOOD_LIMITED and state.limiter is not None:
        wait = state.limiter.take(chat_id)
        if wait is not None:
            raise ApiError(429, f"Too Many Requests: retry after {wait}", retry_after=wait)


async def call_method(state: EmulatorState, name: str, params: Params) -> Any:
    """Run one Bot API method and return its result; raise ApiError with Telegram's answer."""
    method = canonical_method(name)
    if method is None:
        state.stats.errors[404] += 1
        raise ApiError(404, "Not Found: method not found")
    state.stats.calls[method] += 1
    try:
        _refuse(state, method, _target_chat_id(params))
        return await METHODS[method](state, params)
    except ApiError as error:
        state.stats.errors[error.code] += 1
        if error.code == 429:
            state.stats.too_many_requests += 1
        raise
