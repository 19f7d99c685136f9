"""Telegram updates in, neutral :class:`Incoming` out. No dialogue logic here."""

from __future__ import annotations

from dataclasses import replace

from telegram import Message, Update

from rpbot.services.incoming import Incoming

_UNSUPPORTED = (
    "sticker",
    "location",
    "contact",
    "poll",
    "venue",
    "dice",
    "game",
    "animation",
    "video",
    "video_note",
    "audio",
    "story",
)


def to_incoming(update: Update, bot_username: str) -> Incoming | None:
    """The neutral form of an update, or None for updates the bot ignores (e.g. its own)."""
    user = update.effective_user
    chat = update.effective_chat
    if chat is not None and update.channel_post is not None:
        # A channel post has no person behind it: the bot says it only works one to one and
        # leaves (the router refuses every chat that is not private).
        return Incoming(
            update_id=update.update_id,
            user_id=chat.id,
            chat_id=chat.id,
            chat_type=chat.type,
            kind="unsupported",
            detail="channel_post",
        )
    if user is None or chat is None or user.is_bot:
        return None
    base = Incoming(
        update_id=update.update_id,
        user_id=user.id,
        chat_id=chat.id,
        chat_type=chat.type,
        first_name=user.first_name or "",
        language_code=user.language_code,
        kind="unsupported",
    )
    added = update.my_chat_member
    if added is not None:
        # Someone added the bot to a group or channel: refuse politely and leave at once.
        # (In a private chat this is a person blocking or unblocking the bot: nothing to do.)
        joined = added.new_chat_member.status in ("member", "administrator")
        return replace(base, detail="added_to_chat") if chat.type != "private" and joined else None
    query = update.callback_query
    if query is not None:
        message_id = query.message.message_id if query.message is not None else None
        return replace(base, kind="button", data=query.data or "", message_id=message_id)
    message = update.message or update.edited_message or update.channel_post
    if message is None:
        return None
    base = replace(
        base, edited=update.edited_message is not None, forwarded=message.forward_origin is not None
    )
    return _from_message(message, base, bot_username)


def _from_message(message: Message, base: Incoming, bot_username: str) -> Incoming:
    text = message.text
    if text is not None:
        if text.startswith("/") and not base.forwarded:
            head, _, args = text[1:].partition(" ")
            command, _, target = head.partition("@")
            if target and target.casefold() != bot_username.casefold():
                return replace(base, detail="command_for_other_bot")
            return replace(base, kind="command", command=command.casefold(), args=args.strip())
        return replace(base, kind="text", text=text)
    media = _media(message)
    if media is not None:
        kind, file_id = media
        return replace(base, kind="media", media_kind=kind, file_id=file_id, text=message.caption)
    detail = next((name for name in _UNSUPPORTED if getattr(message, name, None)), "other")
    return replace(base, detail=detail)


def _media(message: Message) -> tuple[str, str] | None:
    if message.photo:
        return "photo", message.photo[-1].file_id
    if message.voice is not None:
        return "voice", message.voice.file_id
    if message.document is not None:
        return "document", message.document.file_id
    return None
