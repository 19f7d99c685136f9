"""Bot API parameters from any encoding Telegram accepts, read with Telegram's error wording.

Clients send parameters as a query string, a JSON body, an urlencoded form or multipart
form data. In the form encodings every value is a string and nested objects
(reply_markup, scope, commands, ...) are JSON text, so readers decode on demand.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from rpbot.sandbox.records import ApiError

__all__ = ["Params", "Upload", "read_params"]


@dataclass(frozen=True)
class Upload:
    """A file sent in a multipart request."""

    filename: str | None
    content_type: str | None
    data: bytes


async def read_params(request: web.Request) -> Params:
    """Collect a request's parameters from its query string and body."""
    values: dict[str, Any] = dict(request.query)
    if request.method == "POST" and request.can_read_body:
        if request.content_type == "application/json":
            try:
                body = await request.json()
            except ValueError as error:
                raise ApiError(400, "Bad Request: can't parse JSON body") from error
            if not isinstance(body, dict):
                raise ApiError(400, "Bad Request: JSON body must be an object")
            values.update(body)
        else:
            form = await request.post()
            for name, value in form.items():
                if isinstance(value, web.FileField):
                    values[name] = Upload(value.filename, value.content_type, value.file.read())
                else:
                    values[name] = value
    return Params(values)


class Params:
    """Typed access to one call's parameters."""

    def __init__(self, values: Mapping[str, Any]) -> None:
        self.values = dict(values)

    def has(self, name: str) -> bool:
        """Whether the parameter was sent."""
        return name in self.values

    def text(self, name: str, default: str | None = None) -> str | None:
        """A string parameter."""
        value = self.values.get(name)
        if value is None:
            return default
        return value if isinstance(value, str) else json.dumps(value)

    def required_text(self, name: str) -> str:
        """A string parameter that must be present."""
        value = self.text(name)
        if value is None:
            raise ApiError(400, f"Bad Request: {name} is required")
        return value

    def integer(self, name: str, default: int | None = None) -> int | None:
        """An integer parameter."""
        value = self.values.get(name)
        if value is None or value == "":
            return default
        if isinstance(value, bool):
            raise ApiError(400, f'Bad Request: field "{name}" must be of type Integer')
        try:
            return int(value)
        except (TypeError, ValueError):
            pass
        try:
            return int(float(value))  # a fractional timeout such as "0.5"
        except (TypeError, ValueError) as error:
            raise ApiError(400, f'Bad Request: field "{name}" must be of type Integer') from error

    def required_integer(self, name: str) -> int:
        """An integer parameter that must be present."""
        value = self.integer(name)
        if value is None:
            raise ApiError(400, f"Bad Request: {name} is required")
        return value

    def flag(self, name: str) -> bool:
        """A boolean parameter (absent means false)."""
        value = self.values.get(name)
        if isinstance(value, str):
            return value.strip().lower() in {"true", "1"}
        return bool(value)

    def json(self, name: str) -> Any:
        """A JSON-serialized object or array parameter, decoded."""
        value = self.values.get(name)
        if not isinstance(value, str):
            return value
        try:
            return json.loads(value)
        except ValueError as error:
            raise ApiError(400, f"Bad Request: can't parse {name} JSON object") from error

    def file(self, name: str) -> Upload | str | None:
        """An InputFile: an uploaded file, an ``attach://`` reference resolved, or a file_id."""
        value = self.values.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            value = self.values.get(value.removeprefix("attach://"))
        if value is None or isinstance(value, Upload | str):
            return value
        raise ApiError(400, f"Bad Request: wrong {name} parameter")

    def chat_id(self, name: str = "chat_id") -> int:
        """The target chat as an integer id (usernames are not supported by the emulator)."""
        value = self.values.get(name)
        if value is None or value == "":
            raise ApiError(400, f"Bad Request: {name} is empty")
        try:
            return int(value)
        except (TypeError, ValueError) as error:
            raise ApiError(400, "Bad Request: chat not found") from error
