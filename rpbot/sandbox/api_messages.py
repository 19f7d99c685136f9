"""Bot API methods that put something in front of a person: send, edit, answer a button."""

from __future__ import annotations

from typing import Any

from rpbot.sandbox.html_check import EntityParseError, parse_html
from rpbot.sandbox.params import Params, Upload
from rpbot.sandbox.records import ApiError, CallbackAnswer, Edit, SentMessage, StoredFile
from rpbot.sandbox.state import Chat, EmulatorState

__all__ = ["MESSAGE_METHODS"]

JsonDict = dict[str, Any]

MAX_TEXT = 4096
MAX_CAPTION = 1024
MAX_CALLBACK_DATA = 64
NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup "
    "are exactly the same as a content and reply markup of the current message"
)
CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)


def _chat(state: EmulatorState, params: Params) -> Chat:
    chat = state.chat(params.chat_id())
    if chat is None:
        raise ApiError(400, "Bad Request: chat not found")
    return chat


def _formatted(
    params: Params, text: str | None, entities_name: str
) -> tuple[str | None, list[JsonDict]]:
    """Apply parse_mode: return (text the person sees, entities)."""
    if text is None:
        return None, []
    parse_mode = (params.text("parse_mode") or "").strip()
    if not parse_mode:
        entities = params.json(entities_name) or []
        return text, list(entities)
    if parse_mode.lower() == "html":
        try:
            return parse_html(text)
        except EntityParseError as error:
            raise ApiError(400, f"Bad Request: can't parse entities: {error}") from error
    if parse_mode.lower() in {"markdown", "markdownv2"}:
        return text, []  # not checked by the emulator; shown as sent
    raise ApiError(400, "Bad Request: unsupported parse_mode")


def _reply_markup(params: Params) -> JsonDict | None:
    markup = params.json("reply_markup")
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise ApiError(400, "Bad Request: can't parse reply keyboard markup JSON object")
    for row in markup.get("inline_keyboard") or []:
        for button in row if isinstance(row, list) else [None]:
            _check_button(button)
    return markup


def _check_button(button: object) -> None:
    prefix = "Bad Request: can't parse inline keyboard button: "
    if not isinstance(button, dict):
        raise ApiError(400, prefix + "InlineKeyboardButton must be an Object")
    if not str(button.get("text", "")).strip():
        raise ApiError(400, prefix + "Text must be non-empty")
    if len(button) < 2:
        raise ApiError(400, prefix + "Text buttons are unallowed in the inline keyboard")
    data = button.get("callback_data")
    if data is not None and not 1 <= len(str(data).encode("utf-8")) <= MAX_CALLBACK_DATA:
        raise ApiError(400, "Bad Request: BUTTON_DATA_INVALID")


def _reply_to(state: EmulatorState, chat: Chat, params: Params) -> JsonDict | None:
    """The message being replied to, or 400 like Telegram when it does not exist."""
    reply = params.json("reply_parameters")
    message_id: int | None
    if isinstance(reply, dict) and reply.get("message_id") is not None:
        message_id = int(reply["message_id"])
        allow_missing = bool(reply.get("allow_sending_without_reply"))
    else:
        message_id = params.integer("reply_to_message_id")
        allow_missing = params.flag("allow_sending_without_reply")
    if message_id is None:
        return None
    target = chat.message_json(message_id, state.bot_user)
    if target is None and not allow_missing:
        raise ApiError(400, "Bad Request: message to be replied not found")
    return target


def _deliver(state: EmulatorState, chat: Chat, message: SentMessage) -> JsonDict:
    state.record_bot_message(chat, message)
    return message.to_api(chat.to_api(), state.bot_user)


async def send_message(state: EmulatorState, params: Params) -> JsonDict:
    """sendMessage: validate text, parse_mode and keyboard, then deliver."""
    chat = _chat(state, params)
    text, entities = _formatted(params, params.text("text"), "entities")
    if text is None or not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if len(text) > MAX_TEXT:
        raise ApiError(400, "Bad Request: message is too long")
    message = SentMessage(
        message_id=chat.take_message_id(),
        chat_id=chat.id,
        date=state.date(),
        method="sendMessage",
        text=text,
        source_text=params.text("text"),
        parse_mode=params.text("parse_mode"),
        entities=entities,
        reply_markup=_reply_markup(params),
        reply_to_message=_reply_to(state, chat, params),
    )
    return _deliver(state, chat, message)


def _caption(params: Params) -> tuple[str | None, list[JsonDict]]:
    caption, entities = _formatted(params, params.text("caption"), "caption_entities")
    if caption is not None and len(caption) > MAX_CAPTION:
        raise ApiError(400, "Bad Request: message caption is too long")
    return caption, entities


def _input_file(state: EmulatorState, params: Params, name: str, folder: str) -> StoredFile:
    value = params.file(name)
    if value is None:
        raise ApiError(400, f"Bad Request: there is no {name} in the request")
    if isinstance(value, Upload):
        if not value.data:
            raise ApiError(400, f"Bad Request: file must be non-empty ({name})")
        return state.store_file(value.data, folder, value.filename, value.content_type)
    if value in state.files:
        return state.files[value]
    if value.startswith(("http://", "https://")):
        raise ApiError(400, "Bad Request: failed to get HTTP URL content")
    raise ApiError(400, "Bad Request: wrong file identifier/HTTP URL specified")


async def send_photo(state: EmulatorState, params: Params) -> JsonDict:
    """sendPhoto: store the upload (or reuse a file_id) and deliver it with its caption."""
    chat = _chat(state, params)
    caption, entities = _caption(params)
    stored = _input_file(state, params, "photo", "photos")
    message = SentMessage(
        message_id=chat.take_message_id(),
        chat_id=chat.id,
        date=state.date(),
        method="sendPhoto",
        text=caption,
        source_text=params.text("caption"),
        parse_mode=params.text("parse_mode"),
        entities=entities,
        reply_markup=_reply_markup(params),
        photo=state.photo_sizes_for(stored),
        reply_to_message=_reply_to(state, chat, params),
    )
    return _deliver(state, chat, message)


async def send_document(state: EmulatorState, params: Params) -> JsonDict:
    """sendDocument: store the upload (or reuse a file_id) and deliver it with its caption."""
    chat = _chat(state, params)
    caption, entities = _caption(params)
    stored = _input_file(state, params, "document", "documents")
    document: JsonDict = {
        "file_id": stored.file_id,
        "file_unique_id": stored.file_unique_id,
        "file_size": len(stored.data),
    }
    if stored.file_name:
        document["file_name"] = stored.file_name
    if stored.mime_type:
        document["mime_type"] = stored.mime_type
    message = SentMessage(
        message_id=chat.take_message_id(),
        chat_id=chat.id,
        date=state.date(),
        method="sendDocument",
        text=caption,
        source_text=params.text("caption"),
        parse_mode=params.text("parse_mode"),
        entities=entities,
        reply_markup=_reply_markup(params),
        document=document,
        reply_to_message=_reply_to(state, chat, params),
    )
    return _deliver(state, chat, message)


def _message_to_edit(state: EmulatorState, params: Params) -> tuple[Chat, SentMessage]:
    if params.has("inline_message_id"):
        raise ApiError(400, "Bad Request: message to edit not found")
    chat = _chat(state, params)
    message_id = params.required_integer("message_id")
    message = chat.bot_message(message_id)
    if message is None:
        if any(sent["message_id"] == message_id for sent in chat.user_messages):
            raise ApiError(400, "Bad Request: message can't be edited")
        raise ApiError(400, "Bad Request: message to edit not found")
    return chat, message


def _apply_edit(
    state: EmulatorState, chat: Chat, message: SentMessage, markup: JsonDict | None
) -> JsonDict:
    message.edit_date = state.date()
    message.reply_markup = markup
    state.record_edit(chat, message)
    return message.to_api(chat.to_api(), state.bot_user)


async def edit_message_text(state: EmulatorState, params: Params) -> JsonDict:
    """editMessageText: change a text message; refuse a change that changes nothing."""
    chat, message = _message_to_edit(state, params)
    if message.method != "sendMessage":
        raise ApiError(400, "Bad Request: there is no text in the message to edit")
    text, entities = _formatted(params, params.text("text"), "entities")
    if text is None or not text.strip():
        raise ApiError(400, "Bad Request: message text is empty")
    if len(text) > MAX_TEXT:
        raise ApiError(400, "Bad Request: message is too long")
    markup = _reply_markup(params)
    if (text, entities, markup) == (message.text, message.entities, message.reply_markup):
        raise ApiError(400, NOT_MODIFIED)
    edit = Edit("editMessageText", state.date(), message.text, text, message.reply_markup, markup)
    message.edits.append(edit)
    message.text, message.entities = text, entities
    message.source_text, message.parse_mode = params.text("text"), params.text("parse_mode")
    return _apply_edit(state, chat, message, markup)


async def edit_message_reply_markup(state: EmulatorState, params: Params) -> JsonDict:
    """editMessageReplyMarkup: swap or remove a message's inline keyboard."""
    chat, message = _message_to_edit(state, params)
    markup = _reply_markup(params)
    if markup == message.reply_markup or (not markup and not message.reply_markup):
        raise ApiError(400, NOT_MODIFIED)
    edit = Edit(
        "editMessageReplyMarkup",
        state.date(),
        message.text,
        message.text,
        message.reply_markup,
        markup,
    )
    message.edits.append(edit)
    return _apply_edit(state, chat, message, markup)


async def delete_message(state: EmulatorState, params: Params) -> bool:
    """deleteMessage: hide one of the bot's messages."""
    chat = _chat(state, params)
    message = chat.bot_message(params.required_integer("message_id"))
    if message is None:
        raise ApiError(400, "Bad Request: message to delete not found")
    message.deleted = True
    state.chats_changed.notify()
    return True


async def answer_callback_query(state: EmulatorState, params: Params) -> bool:
    """answerCallbackQuery: record the toast or alert for the person who pressed."""
    query_id = params.required_text("callback_query_id")
    query = state.callback_queries.get(query_id)
    if query is None or query.answer is not None:
        raise ApiError(
            400,
            "Bad Request: query is too old and response timeout expired or query ID is invalid",
        )
    query.answer = CallbackAnswer(
        query_id=query_id,
        text=params.text("text"),
        show_alert=params.flag("show_alert"),
        url=params.text("url"),
        cache_time=params.integer("cache_time", 0) or 0,
    )
    state.chats_changed.notify()
    return True


async def send_chat_action(state: EmulatorState, params: Params) -> bool:
    """sendChatAction: remember that the bot showed 'typing...' (or similar)."""
    chat = _chat(state, params)
    action = params.text("action")
    if action not in CHAT_ACTIONS:
        raise ApiError(400, "Bad Request: wrong parameter action in request")
    chat.actions.append(action)
    return True


MESSAGE_METHODS = {
    "sendMessage": send_message,
    "sendPhoto": send_photo,
    "sendDocument": send_document,
    "editMessageText": edit_message_text,
    "editMessageReplyMarkup": edit_message_reply_markup,
    "deleteMessage": delete_message,
    "answerCallbackQuery": answer_callback_query,
    "sendChatAction": send_chat_action,
}
