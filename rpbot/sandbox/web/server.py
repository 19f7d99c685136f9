"""The sandbox's web server: the page, its JSON API and a server-sent event stream.

It listens on 127.0.0.1 only. Requests that change anything must be JSON (a cross-site form
cannot send that without the browser asking first), and the Host header must be this
machine, so another website cannot drive the sandbox through the visitor's browser.
"""

from __future__ import annotations

import asyncio
import contextlib
import errno
import json
import logging
from collections.abc import Awaitable, Callable
from importlib import resources
from pathlib import Path
from typing import Any

from aiohttp import web

from rpbot.sandbox.web.runtime import Sandbox, SandboxError

__all__ = ["PortInUseError", "SandboxServer", "make_app"]

JsonDict = dict[str, Any]
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
log = logging.getLogger(__name__)

STATIC_DIR = Path(str(resources.files("rpbot.sandbox.web") / "static"))
HEARTBEAT_SECONDS = 15.0
MAX_WAIT_SECONDS = 30.0
_SANDBOX_KEY = web.AppKey("sandbox", Sandbox)
_HEARTBEAT_KEY = web.AppKey("heartbeat", float)
_LOCAL_HOSTS = frozenset({"127.0.0.1", "localhost", "[::1]"})
_CSP = (
    "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
    "connect-src 'self'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


class PortInUseError(OSError):
    """The web port is taken by another program."""


def _ok(result: Any, status: int = 200) -> web.Response:
    return web.json_response({"ok": True, "result": result}, status=status)


def _error(message: str, status: int) -> web.Response:
    return web.json_response({"ok": False, "error": message}, status=status)


@web.middleware
async def _guard(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Refuse foreign hosts and non-JSON writes; turn SandboxError into a JSON answer."""
    host = request.host.rsplit(":", 1)[0] if not request.host.endswith("]") else request.host
    if host not in _LOCAL_HOSTS:
        return _error("The sandbox answers only on this machine (127.0.0.1).", 403)
    if request.method == "POST" and request.content_type != "application/json":
        return _error("Send JSON (Content-Type: application/json).", 415)
    try:
        response = await handler(request)
    except SandboxError as error:
        return _error(str(error), error.status)
    response.headers.setdefault("Cache-Control", "no-store")
    response.headers.setdefault("X-Content-Type-Options", "nosniff")
    response.headers.setdefault("Referrer-Policy", "no-referrer")
    return response


async def _body(request: web.Request) -> JsonDict:
    try:
        body = await request.json()
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise SandboxError(f"The request body is not JSON: {error}") from error
    if not isinstance(body, dict):
        raise SandboxError("The request body must be a JSON object.")
    return body


def _sandbox(request: web.Request) -> Sandbox:
    return request.app[_SANDBOX_KEY]


async def index(request: web.Request) -> web.FileResponse:
    """The page."""
    response = web.FileResponse(STATIC_DIR / "index.html")
    response.headers["Content-Security-Policy"] = _CSP
    return response


async def personas(request: web.Request) -> web.Response:
    """The three personas, each with their command menu."""
    sandbox = _sandbox(request)
    sandbox.require_ready()
    found = [
        {**persona.to_json(), "commands": sandbox.commands(persona.key)}
        for persona in sandbox.personas
    ]
    return _ok(found)


async def status(request: web.Request) -> web.Response:
    """The sandbox clock and whether the bot is running."""
    return _ok(_sandbox(request).status_json())


async def messages(request: web.Request) -> web.Response:
    """A persona's chat; ``?after=ID`` for newer messages only, ``&wait=S`` to wait for one."""
    sandbox = _sandbox(request)
    key = request.match_info["persona"]
    try:
        after = int(request.query.get("after", "0"))
        wait = min(MAX_WAIT_SECONDS, float(request.query.get("wait", "0")))
    except ValueError as error:
        raise SandboxError("after must be a message id and wait a number of seconds") from error
    if wait > 0:
        await sandbox.wait_for_bot_message(key, after, wait)
    found = [m for m in sandbox.messages(key) if int(m["id"]) > after]
    return _ok({"messages": found, "commands": sandbox.commands(key)})


async def send(request: web.Request) -> web.Response:
    """The persona sends a text message: ``{"text": "..."}``."""
    body = await _body(request)
    text = body.get("text")
    if not isinstance(text, str):
        raise SandboxError('Send {"text": "..."}.')
    return _ok(await _sandbox(request).send(request.match_info["persona"], text))


async def press(request: web.Request) -> web.Response:
    """The persona presses a button: ``{"message_id": 12, "data": "..."}``."""
    body = await _body(request)
    message_id, data = body.get("message_id"), body.get("data")
    if not isinstance(message_id, int) or not isinstance(data, str):
        raise SandboxError('Send {"message_id": <number>, "data": "<callback data>"}.')
    return _ok(await _sandbox(request).press(request.match_info["persona"], message_id, data))


async def download(request: web.Request) -> web.Response:
    """A photo or document the bot sent, by file_id."""
    sandbox = _sandbox(request)
    sandbox.require_ready()
    assert sandbox.emulator is not None
    stored = sandbox.emulator.state.files.get(request.match_info["file_id"])
    if stored is None:
        raise SandboxError("No such file.", 404)
    content_type = stored.mime_type or "application/octet-stream"
    response = web.Response(body=stored.data, content_type=content_type)
    if not content_type.startswith("image/"):
        name = (stored.file_name or "document").replace('"', "")
        response.headers["Content-Disposition"] = f'attachment; filename="{name}"'
    return response


async def clock_next(request: web.Request) -> web.Response:
    """Move the clock to the next reminder (or nudge, or expiry) and let the bot send it."""
    await _body(request)
    return _ok(await _sandbox(request).next_reminder())


async def digest(request: web.Request) -> web.Response:
    """Send the weekly digest now."""
    await _body(request)
    return _ok(await _sandbox(request).digest())


async def restart(request: web.Request) -> web.Response:
    """Restart the bot on the same database."""
    await _body(request)
    return _ok(await _sandbox(request).restart())


async def reset(request: web.Request) -> web.Response:
    """Wipe and reseed the demo."""
    await _body(request)
    return _ok(await _sandbox(request).reset())


def _event_bytes(event: JsonDict) -> bytes:
    return f"data: {json.dumps(event, ensure_ascii=False)}\n\n".encode()


async def events(request: web.Request) -> web.StreamResponse:
    """Server-sent events: new and edited messages, menus, button answers, clock, status."""
    sandbox = _sandbox(request)
    heartbeat = request.app[_HEARTBEAT_KEY]
    response = web.StreamResponse(
        headers={
            "Content-Type": "text/event-stream",
            "Cache-Control": "no-store",
            "X-Accel-Buffering": "no",
        }
    )
    await response.prepare(request)
    queue = sandbox.hub.subscribe()
    try:
        await response.write(b"retry: 1000\n\n" + _event_bytes(sandbox.status_json()))
        while True:
            try:
                event = await asyncio.wait_for(queue.get(), heartbeat)
            except TimeoutError:
                event = sandbox.status_json()  # keeps the connection and the clock fresh
            if event is None:
                break
            await response.write(_event_bytes(event))
    except (ConnectionResetError, ConnectionError):
        pass  # the page went away
    finally:
        sandbox.hub.unsubscribe(queue)
    with contextlib.suppress(ConnectionError):
        await response.write_eof()
    return response


def make_app(sandbox: Sandbox, *, heartbeat: float = HEARTBEAT_SECONDS) -> web.Application:
    """The aiohttp application for one sandbox."""
    app = web.Application(middlewares=[_guard], client_max_size=64 * 1024)
    app[_SANDBOX_KEY] = sandbox
    app[_HEARTBEAT_KEY] = heartbeat
    app.add_routes(
        [
            web.get("/", index),
            web.get("/api/personas", personas),
            web.get("/api/status", status),
            web.get("/api/chats/{persona}/messages", messages),
            web.post("/api/chats/{persona}/send", send),
            web.post("/api/chats/{persona}/press", press),
            web.get("/api/files/{file_id}", download),
            web.post("/api/clock/next", clock_next),
            web.post("/api/digest", digest),
            web.post("/api/restart", restart),
            web.post("/api/reset", reset),
            web.get("/api/events", events),
            web.static("/static", STATIC_DIR, show_index=False, follow_symlinks=False),
        ]
    )
    return app


class SandboxServer:
    """The web server on 127.0.0.1:``port`` (0 picks a free port)."""

    def __init__(self, sandbox: Sandbox, port: int = 8000, *, heartbeat: float = 15.0) -> None:
        self.sandbox = sandbox
        self.requested_port = port
        self._app = make_app(sandbox, heartbeat=heartbeat)
        self._runner: web.AppRunner | None = None
        self.port: int | None = None

    @property
    def url(self) -> str:
        """The page's address."""
        if self.port is None:
            raise RuntimeError("the server is not started")
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        """Listen; raise PortInUseError when the port is taken."""
        runner = web.AppRunner(self._app, access_log=None, shutdown_timeout=2.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, "127.0.0.1", self.requested_port)
            await site.start()
        except OSError as error:
            await runner.cleanup()
            if error.errno == errno.EADDRINUSE:
                raise PortInUseError(error.errno, str(error)) from error
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])

    async def stop(self) -> None:
        """End the event streams and stop listening."""
        self.sandbox.hub.close()
        if self._runner is not None:
            runner, self._runner = self._runner, None
            await runner.cleanup()
