"""Telegram's HTML parse mode: turn marked-up text into plain text plus message entities.

The walk follows the Bot API server (tdlib's ``parse_html``) closely enough that text Telegram
rejects is rejected here with the same wording, so a bot that forgets to escape a user's ``<``
fails in tests exactly as it would in production. One deliberate difference: a named entity
such as ``&nbsp;`` is rejected here, where Telegram would silently show it literally.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

__all__ = ["EntityParseError", "parse_html", "utf16_len"]

_ENTITY_TYPES = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "a": "text_link",
    "code": "code",
    "pre": "pre",
    "tg-spoiler": "spoiler",
    "span": "spoiler",
    "blockquote": "blockquote",
}
_NAMED_ENTITIES = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(?:#(?P<dec>[0-9]+)|#[xX](?P<hex>[0-9a-fA-F]+)|(?P<name>[a-zA-Z]+));")
_ATTRIBUTE_VALUE = re.compile(r"[a-zA-Z0-9.\-]*")


class EntityParseError(ValueError):
    """The text is not valid Telegram HTML; the message is Telegram's own wording."""


@dataclass
class _OpenTag:
    name: str
    offset: int
    attributes: dict[str, str] = field(default_factory=dict)


def utf16_len(text: str) -> int:
    """Length of ``text`` in UTF-16 code units, the unit of Telegram entity offsets."""
    return len(text.encode("utf-16-le")) // 2


def _byte_offset(source: str, index: int) -> int:
    return len(source[:index].encode("utf-8"))


def _decode_entity(source: str, index: int) -> tuple[str, int]:
    """Decode the entity at ``index`` or keep a bare ``&``; return (text, next index)."""
    match = _ENTITY.match(source, index)
    if match is None:
        return "&", index + 1
    if match["name"] is not None:
        name = match["name"]
        if name not in _NAMED_ENTITIES:
            raise EntityParseError(
                f'Unsupported HTML entity "&{name};" at byte offset {_byte_offset(source, index)}'
            )
        return _NAMED_ENTITIES[name], match.end()
    code = int(match["dec"]) if match["dec"] is not None else int(match["hex"], 16)
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        raise EntityParseError(
            f"Invalid HTML entity {match[0]!r} at byte offset {_byte_offset(source, index)}"
        )
    return chr(code), match.end()


def _read_attributes(source: str, index: int, tag: str, begin: int) -> tuple[dict[str, str], int]:
    """Read ``name="value"`` pairs up to ``>``; return them and the index after ``>``."""
    attributes: dict[str, str] = {}
    where = f'the tag "{tag}" at byte offset {_byte_offset(source, begin)}'
    while True:
        while index < len(source) and source[index].isspace():
            index += 1
        if index >= len(source):
            raise EntityParseError(
                f"Unclosed start tag at byte offset {_byte_offset(source, begin)}"
            )
        if source[index] == ">":
            return attributes, index + 1
        start = index
        while index < len(source) and not source[index].isspace() and source[index] not in "=>":
            index += 1
        name = source[start:index].lower()
        if not name:
            raise EntityParseError(f"Empty attribute name in {where}")
        while index < len(source) and source[index].isspace():
            index += 1
        if index >= len(source) or source[index] != "=":
            attributes[name] = ""  # a bare flag such as <blockquote expandable>
            continue
        index += 1
        while index < len(source) and source[index].isspace():
            index += 1
        if index < len(source) and source[index] in "\"'":
            quote = source[index]
            end = source.find(quote, index + 1)
            if end == -1:
                raise EntityParseError(f"Unclosed end of attribute value in {where}")
            raw_value, index = source[index + 1 : end], end + 1
        else:
            match = _ATTRIBUTE_VALUE.match(source, index)
            raw_value = match[0] if match else ""
            index += len(raw_value)
        attributes[name] = _decode_text(raw_value)


def _decode_text(raw: str) -> str:
    pieces: list[str] = []
    index = 0
    while index < len(raw):
        if raw[index] == "&":
            piece, index = _decode_entity(raw, index)
            pieces.append(piece)
        else:
            pieces.append(raw[index])
            index += 1
    return "".join(pieces)


def _entity_for(tag: _OpenTag, length: int) -> dict[str, Any] | None:
    kind = _ENTITY_TYPES[tag.name]
    entity: dict[str, Any] = {"type": kind, "offset": tag.offset, "length": length}
    if kind == "text_link":
        href = tag.attributes.get("href", "")
        if not href:
            return None  # Telegram drops a link without a target and keeps the text
        entity["url"] = href
    elif kind == "pre" and tag.attributes.get("language"):
        entity["language"] = tag.attributes["language"]
    elif kind == "blockquote" and "expandable" in tag.attributes:
        entity["type"] = "expandable_blockquote"
    return entity


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse Telegram HTML into (plain text, entities); raise EntityParseError like Telegram."""
    pieces: list[str] = []
    offset = 0  # UTF-16 offset of the plain text produced so far
    stack: list[_OpenTag] = []
    entities: list[dict[str, Any]] = []
    index = 0
    while index < len(source):
        char = source[index]
        if char == "&":
            piece, index = _decode_entity(source, index)
        elif char != "<":
            piece, index = char, index + 1
        elif source.startswith("</", index):
            index = _close_tag(source, index, stack, offset, entities)
            continue
        else:
            tag, index = _open_tag(source, index, offset)
            stack.append(tag)
            continue
        pieces.append(piece)
        offset += utf16_len(piece)
    if stack:
        raise EntityParseError(f'Can\'t find end tag corresponding to start tag "{stack[-1].name}"')
    entities.sort(key=lambda entity: (entity["offset"], -entity["length"]))
    return "".join(pieces), entities


def _open_tag(source: str, begin: int, offset: int) -> tuple[_OpenTag, int]:
    index = begin + 1
    while index < len(source) and not source[index].isspace() and source[index] != ">":
        index += 1
    if index >= len(source):
        raise EntityParseError(f"Unclosed start tag at byte offset {_byte_offset(source, begin)}")
    name = source[begin + 1 : index].lower()
    if name not in _ENTITY_TYPES:
        raise EntityParseError(
            f'Unsupported start tag "{name}" at byte offset {_byte_offset(source, begin)}'
        )
    attributes, index = _read_attributes(source, index, name, begin)
    if name == "span" and attributes.get("class") != "tg-spoiler":
        raise EntityParseError(
            f'Tag "span" must have class "tg-spoiler" at byte offset {_byte_offset(source, begin)}'
        )
    if name == "code" and attributes.get("class", "").startswith("language-"):
        attributes["language"] = attributes["class"].removeprefix("language-")
    return _OpenTag(name, offset, attributes), index


def _close_tag(
    source: str,
    begin: int,
    stack: list[_OpenTag],
    offset: int,
    entities: list[dict[str, Any]],
) -> int:
    if not stack:
        raise EntityParseError(f"Unexpected end tag at byte offset {_byte_offset(source, begin)}")
    index = begin + 2
    while index < len(source) and not source[index].isspace() and source[index] != ">":
        index += 1
    name = source[begin + 2 : index].lower()
    while index < len(source) and source[index].isspace():
        index += 1
    if index >= len(source) or source[index] != ">":
        raise EntityParseError(f"Unclosed end tag at byte offset {_byte_offset(source, begin)}")
    tag = stack.pop()
    if name and name != tag.name:
        raise EntityParseError(
            f"Unmatched end tag at byte offset {_byte_offset(source, begin)}, "
            f'expected "</{tag.name}>", found "</{name}>"'
        )
    if tag.name == "code" and stack and stack[-1].name == "pre" and "language" in tag.attributes:
        # <pre><code class="language-x"> is one pre block with a language, as on Telegram
        stack[-1].attributes["language"] = tag.attributes["language"]
        return index + 1
    length = offset - tag.offset
    entity = _entity_for(tag, length) if length > 0 else None
    if entity is not None:
        entities.append(entity)
    return index + 1
