"""Drive an emulator running in another process through its ``/_emulator/`` control API.

async with RemoteEmulator("http://127.0.0.1:8081") as emulator:
    alex = emulator.user(42, "Alex")
    await alex.send("/start")
    reply = await alex.next_reply()
"""

from __future__ import annotations

from types import TracebackType
from typing import Any

import aiohttp

__all__ = ["RemoteEmulator", "RemoteUser"]

JsonDict = dict[str, Any]


class RemoteEmulator:
    """A connection to an emulator's control API."""

    def __init__(self, url: str) -> None:
        self.url = url.rstrip("/")
        self._session: aiohttp.ClientSession | None = None

    async def __aenter__(self) -> RemoteEmulator:
        self._session = aiohttp.ClientSession()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None

    async def call(self, method: str, path: str, body: JsonDict | None = None, **query: str) -> Any:
        """One control API request; returns ``result`` or raises AssertionError."""
        if self._session is None:
            raise RuntimeError("use RemoteEmulator as 'async with' before calling it")
        url = f"{self.url}/_emulator/{path}"
        async with self._session.request(method, url, json=body, params=query) as response:
            answer = await response.json()
        if not answer.get("ok"):
            raise AssertionError(f"control API {path}: {answer.get('description')}")
        return answer["result"]

    def user(self, user_id: int, first_name: str = "Alex") -> RemoteUser:
        """A person in a private chat with the bot."""
        return RemoteUser(self, user_id, first_name)

    async def stats(self) -> JsonDict:
        """The emulator's counters."""
        result: JsonDict = await self.call("GET", "stats")
        return result

    async def delivery_times(self) -> list[float]:
        """``time.monotonic()`` in the emulator's process of each message delivered, in order."""
        result: list[float] = await self.call("GET", "delivery_times")
        return result


class RemoteUser:
    """A person driven over HTTP: send, press, wait for the next bot message."""

    def __init__(self, emulator: RemoteEmulator, user_id: int, first_name: str) -> None:
        self._emulator = emulator
        self.user_id = user_id
        self.first_name = first_name
        self.last_seen_message_id = 0

    async def send(self, text: str) -> JsonDict:
        """Send a text message; returns it as the bot will receive it."""
        body = {"text": text, "first_name": self.first_name}
        result: JsonDict = await self._emulator.call("POST", f"users/{self.user_id}/send", body)
        return result

    async def press(self, label: str) -> str:
        """Press a button by label on the newest bot message that has it."""
        body = {"label": label, "first_name": self.first_name}
        result = await self._emulator.call("POST", f"users/{self.user_id}/press", body)
        return str(result["callback_query_id"])

    async def press_data(self, data: str, message_id: int | None = None) -> str:
        """Send a callback_query with any data."""
        body = {"data": data, "message_id": message_id, "first_name": self.first_name}
        result = await self._emulator.call("POST", f"users/{self.user_id}/press", body)
        return str(result["callback_query_id"])

    async def next_reply(self, timeout: float = 5.0) -> JsonDict:  # noqa: ASYNC109
        """The next bot message not seen yet; AssertionError on timeout."""
        result = await self._emulator.call(
            "GET",
            f"chats/{self.user_id}/wait",
            after_message_id=str(self.last_seen_message_id),
            timeout=str(timeout),
        )
        if result is None:
            raise AssertionError(
                f"The bot sent nothing new to chat {self.user_id} within {timeout} s"
            )
        self.last_seen_message_id = int(result["message_id"])
        message: JsonDict = result
        return message

    async def messages(self) -> list[JsonDict]:
        """Every bot message in this person's chat."""
        result: list[JsonDict] = await self._emulator.call(
            "GET", f"chats/{self.user_id}/messages", after="0"
        )
        return result
