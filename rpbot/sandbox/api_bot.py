"""Bot API methods about the bot itself: identity, updates, commands, files and chats."""

from __future__ import annotations

import re
from typing import Any

from rpbot.sandbox.params import Params
from rpbot.sandbox.records import ApiError
from rpbot.sandbox.state import DEFAULT_UPDATE_KINDS, EmulatorState

__all__ = ["BOT_METHODS", "scope_key"]

JsonDict = dict[str, Any]

_COMMAND = re.compile(r"[a-z0-9_]{1,32}")
_PLAIN_SCOPES = frozenset(
    {"default", "all_private_chats", "all_group_chats", "all_chat_administrators"}
)


async def get_me(state: EmulatorState, params: Params) -> JsonDict:
    """getMe: the bot's own user."""
    return {
        **state.bot_user,
        "can_join_groups": True,
        "can_read_all_group_messages": False,
        "supports_inline_queries": False,
        "can_connect_to_business": False,
        "has_main_web_app": False,
    }


async def delete_webhook(state: EmulatorState, params: Params) -> bool:
    """deleteWebhook: there is never a webhook; optionally drop pending updates."""
    if params.flag("drop_pending_updates"):
        state.updates.clear()
    return True


async def get_webhook_info(state: EmulatorState, params: Params) -> JsonDict:
    """getWebhookInfo: polling mode, with the number of waiting updates."""
    return {"url": "", "has_custom_certificate": False, "pending_update_count": len(state.updates)}


def _kind(update: JsonDict) -> str:
    return next(key for key in update if key != "update_id")


def _visible_updates(state: EmulatorState) -> list[JsonDict]:
    # Telegram discards updates of kinds the bot said it does not want.
    state.updates[:] = [u for u in state.updates if _kind(u) in state.allowed_updates]
    return state.updates


async def get_updates(state: EmulatorState, params: Params) -> list[JsonDict]:
    """getUpdates: confirm by offset, then return waiting updates, long-polling if none."""
    if params.has("allowed_updates"):
        allowed = params.json("allowed_updates") or []
        state.allowed_updates = frozenset(allowed) if allowed else DEFAULT_UPDATE_KINDS
    offset = params.integer("offset")
    if offset is not None and offset < 0:
        del state.updates[: max(0, len(state.updates) + offset)]
    elif offset is not None:
        state.updates[:] = [update for update in state.updates if update["update_id"] >= offset]
    limit = min(100, max(1, params.integer("limit", 100) or 100))
    timeout = max(0, params.integer("timeout", 0) or 0)
    if not _visible_updates(state) and timeout and not state.closing:
        await state.updates_changed.wait_until(
            lambda: bool(_visible_updates(state)) or state.closing, timeout
        )
    batch = list(_visible_updates(state)[:limit])
    state.stats.updates_delivered += len(batch)
    return batch


def scope_key(state: EmulatorState, scope: object) -> str:
    """A stable key for a BotCommandScope, checking it like Telegram."""
    if scope is None:
        return "default"
    if not isinstance(scope, dict) or "type" not in scope:
        raise ApiError(400, "Bad Request: can't parse BotCommandScope JSON object")
    kind = str(scope["type"])
    if kind in _PLAIN_SCOPES:
        return kind
    if kind not in {"chat", "chat_administrators", "chat_member"}:
        raise ApiError(400, "Bad Request: unsupported bot command scope type")
    chat_id = Params(scope).chat_id()
    if chat_id not in state.chats:
        raise ApiError(400, "Bad Request: chat not found")
    if kind == "chat_member":
        return f"chat_member:{chat_id}:{Params(scope).required_integer('user_id')}"
    return f"{kind}:{chat_id}"


def _commands_key(state: EmulatorState, params: Params) -> tuple[str, str]:
    return scope_key(state, params.json("scope")), params.text("language_code") or ""


async def set_my_commands(state: EmulatorState, params: Params) -> bool:
    """setMyCommands: check and store the command list for one scope and language."""
    commands = params.json("commands")
    if not isinstance(commands, list) or len(commands) > 100:
        raise ApiError(400, "Bad Request: can't parse commands JSON object")
    for command in commands:
        if not isinstance(command, dict) or not _COMMAND.fullmatch(str(command.get("command"))):
            raise ApiError(400, "Bad Request: BOT_COMMAND_INVALID")
        if not 1 <= len(str(command.get("description", "")).strip()) <= 256:
            raise ApiError(400, "Bad Request: BOT_COMMAND_DESCRIPTION_INVALID")
    key = _commands_key(state, params)
    state.commands[key] = [
        {"command": command["command"], "description": command["description"]}
        for command in commands
    ]
    return True


async def get_my_commands(state: EmulatorState, params: Params) -> list[JsonDict]:
    """getMyCommands: the list stored for exactly this scope and language."""
    return list(state.commands.get(_commands_key(state, params), []))


async def delete_my_commands(state: EmulatorState, params: Params) -> bool:
    """deleteMyCommands: forget the list for this scope and language."""
    state.commands.pop(_commands_key(state, params), None)
    return True


async def get_file(state: EmulatorState, params: Params) -> JsonDict:
    """getFile: the download path for a file_id."""
    stored = state.files.get(params.required_text("file_id"))
    if stored is None:
        raise ApiError(400, "Bad Request: invalid file_id")
    return stored.to_api()


async def leave_chat(state: EmulatorState, params: Params) -> bool:
    """leaveChat: the bot leaves a group; later sends there are refused."""
    chat = state.chat(params.chat_id())
    if chat is None:
        raise ApiError(400, "Bad Request: chat not found")
    if chat.type == "private":
        raise ApiError(400, "Bad Request: chat member status can't be changed in private chats")
    chat.left = True
    return True


async def get_chat(state: EmulatorState, params: Params) -> JsonDict:
    """getChat: minimal ChatFullInfo for a chat the bot knows."""
    chat = state.chat(params.chat_id())
    if chat is None:
        raise ApiError(400, "Bad Request: chat not found")
    return {
        **chat.to_api(),
        "accent_color_id": 0,
        "max_reaction_count": 11,
        "accepted_gift_types": {
            "unlimited_gifts": False,
            "limited_gifts": False,
            "unique_gifts": False,
            "premium_subscription": False,
            "gifts_from_channels": False,
        },
    }


BOT_METHODS = {
    "getMe": get_me,
    "deleteWebhook": delete_webhook,
    "getWebhookInfo": get_webhook_info,
    "getUpdates": get_updates,
    "setMyCommands": set_my_commands,
    "getMyCommands": get_my_commands,
    "deleteMyCommands": delete_my_commands,
    "getFile": get_file,
    "leaveChat": leave_chat,
    "getChat": get_chat,
}
