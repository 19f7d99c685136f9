"""rpbot's aiohttp transport for PTB: errors map to PTB's and never carry the URL (token).

The Bot API calls themselves (text, buttons, uploads, downloads, 400/403/429) are covered by
``tests/sandbox`` against the emulator, once with this transport and once with PTB's httpx.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import pytest_asyncio
from aiohttp import web
from telegram import InputFile
from telegram.error import NetworkError, TimedOut
from telegram.request import RequestData
from telegram.request._requestparameter import RequestParameter

from rpbot.telegram.transport import AiohttpRequest

pytestmark = pytest.mark.asyncio

TOKEN = "123456:SECRET-token-never-in-errors"


@dataclass
class Seen:
    """What the server received."""

    content_type: str
    headers: dict[str, str]
    form: dict[str, Any]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


@pytest_asyncio.fixture
async def server() -> AsyncIterator[tuple[str, list[Seen], asyncio.Event]]:
    """A server that records requests and answers only once ``release`` is set."""
    seen: list[Seen] = []
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.Response:
        form = {
            name: (value.filename, value.file.read()) if isinstance(value, web.FileField) else value
            for name, value in (await request.post()).items()
        }
        seen.append(Seen(request.content_type, dict(request.headers), form))
        await release.wait()
        return web.json_response({"ok": True, "result": True})

    app = web.Application()
    app.router.add_route("*", "/{tail:.*}", handler)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield f"http://127.0.0.1:{port}/bot{TOKEN}", seen, release
    finally:
        release.set()
        await runner.cleanup()


async def test_nobody_listening_is_a_network_error_without_the_token() -> None:
    request = AiohttpRequest(connect_timeout=2)
    await request.initialize()
    try:
        with pytest.raises(NetworkError) as caught:
            await request.post(f"http://127.0.0.1:{_free_port()}/bot{TOKEN}/getMe")
    finally:
        await request.shutdown()
    assert not isinstance(caught.value, TimedOut)
    assert TOKEN not in str(caught.value)
    assert "aiohttp." in str(caught.value)


async def test_a_slow_answer_times_out(
    server: tuple[str, list[Seen], asyncio.Event],
) -> None:
    url, seen, _ = server
    request = AiohttpRequest()
    await request.initialize()
    try:
        with pytest.raises(TimedOut):
            await request.post(f"{url}/getMe", read_timeout=0.05)
    finally:
        await request.shutdown()
    assert len(seen) == 1


async def test_parameters_are_form_encoded_and_files_multipart(
    server: tuple[str, list[Seen], asyncio.Event],
) -> None:
    url, seen, release = server
    release.set()
    request = AiohttpRequest()
    await request.initialize()
    try:
        plain = RequestData(
            [RequestParameter("chat_id", 7, None), RequestParameter("text", "a & b", None)]
        )
        assert await request.post(f"{url}/sendMessage", plain) is True
        document = InputFile(b"<p>hi</p>", filename="week.html", attach=True)
        upload = RequestData(
            [
                RequestParameter("chat_id", 7, None),
                RequestParameter("caption", "week", None),
                RequestParameter.from_input("document", document),
            ]
        )
        await request.post(f"{url}/sendDocument", upload)
    finally:
        await request.shutdown()
    first, second = seen
    assert first.content_type == "application/x-www-form-urlencoded"
    assert dict(first.form) == {"chat_id": "7", "text": "a & b"}
    assert second.content_type == "multipart/form-data"
    form = second.form
    assert form["chat_id"] == "7"
    assert form["caption"] == "week"
    assert [value for value in form.values() if isinstance(value, tuple)] == [
        ("week.html", b"<p>hi</p>")
    ]
    assert "User-Agent" in first.headers
    assert "python-telegram-bot" in first.headers["User-Agent"]


async def test_not_initialised_says_so() -> None:
    with pytest.raises(RuntimeError, match="not initialized"):
        await AiohttpRequest().do_request("http://127.0.0.1:1/", "POST")
