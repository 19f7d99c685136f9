"""A local Telegram Bot API server for tests and benchmarks (Telegram itself is never reached).

Point python-telegram-bot at it with ``base_url``/``base_file_url``, then drive it like a
person through :meth:`BotApiEmulator.user`. Run it standalone for another process with::

    python -m rpbot.sandbox.emulator --port 8081 [--rate-limit 30]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Callable, Sequence
from types import TracebackType
from typing import Any

from aiohttp import web

from rpbot.sandbox.api import call_method, canonical_method, default_description
from rpbot.sandbox.api_bot import scope_key
from rpbot.sandbox.client import FakeGroup, FakeUser
from rpbot.sandbox.control import control_routes
from rpbot.sandbox.params import read_params
from rpbot.sandbox.rate_limit import RateLimit
from rpbot.sandbox.records import ApiError, EmulatorStats, InjectedFailure, SentMessage
from rpbot.sandbox.state import EmulatorState

__all__ = ["BotApiEmulator", "main"]

_log = logging.getLogger(__name__)
_MAX_UPLOAD_BYTES = 50 * 1024 * 1024  # Telegram's limit for a bot's uploads
_UNAUTHORIZED = {"ok": False, "error_code": 401, "description": "Unauthorized"}


class BotApiEmulator:
    """An aiohttp server that answers Bot API calls from memory, plus a Python test API."""

    def __init__(
        self,
        token: str = "123456:TEST",  # noqa: S107 - a fake token for a fake server
        bot_username: str = "rpbot_test_bot",
        *,
        rate_limit: RateLimit | None = None,
        now: Callable[[], float] = time.time,
        first_update_id: int = 1,
    ) -> None:
        self.state = EmulatorState(
            token, bot_username, rate_limit=rate_limit, now=now, first_update_id=first_update_id
        )
        self._runner: web.AppRunner | None = None
        self._host = "127.0.0.1"
        self._port: int | None = None
        self._users: dict[int, FakeUser] = {}
        self._groups: dict[int, FakeGroup] = {}

    # -- server lifecycle -------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> None:
        """Listen on ``host``:``port`` (0 picks a free port)."""
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        app = web.Application(client_max_size=_MAX_UPLOAD_BYTES)
        app.add_routes(control_routes(self))
        app.router.add_route("*", "/bot{token}/{method}", self._bot_api)
        app.router.add_get("/file/bot{token}/{file_path:.+}", self._download)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        try:
            site = web.TCPSite(runner, host, port)
            await site.start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        self._host = "127.0.0.1" if host in {"", "0.0.0.0", "::"} else host  # noqa: S104
        self._port = int(runner.addresses[0][1])
        self.state.closing = False

    async def stop(self) -> None:
        """Release long polls and waiters, then close the server."""
        if self._runner is None:
            return
        self.state.close()
        runner, self._runner = self._runner, None
        await runner.cleanup()

    async def __aenter__(self) -> BotApiEmulator:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    @property
    def token(self) -> str:
        """The one token this emulator accepts."""
        return self.state.token

    @property
    def bot_username(self) -> str:
        """The bot's @username (without the @)."""
        return str(self.state.bot_user["username"])

    @property
    def port(self) -> int:
        """The TCP port the server listens on."""
        if self._port is None:
            raise RuntimeError("the emulator is not started; await start() first")
        return self._port

    @property
    def url(self) -> str:
        """The server's root URL, e.g. for the control API."""
        return f"http://{self._host}:{self.port}"

    @property
    def base_url(self) -> str:
        """PTB's ``base_url``: the token and method are appended to it."""
        return f"{self.url}/bot"

    @property
    def base_file_url(self) -> str:
        """PTB's ``base_file_url``: the token and file path are appended to it."""
        return f"{self.url}/file/bot"

    # -- people -----------------------------------------------------------------------------

    def user(
        self,
        user_id: int,
        first_name: str,
        *,
        username: str | None = None,
        language_code: str = "en",
    ) -> FakeUser:
        """The person with this id, in a private chat with the bot (made once, then reused)."""
        if user_id not in self._users:
            self._users[user_id] = FakeUser(
                self.state, user_id, first_name, username=username, language_code=language_code
            )
        return self._users[user_id]

    def group(self, chat_id: int, *members: FakeUser, title: str = "Family group") -> FakeGroup:
        """A group chat with the bot and ``members`` (created on first use)."""
        if chat_id not in self._groups:
            self._groups[chat_id] = FakeGroup(self.state, chat_id, title, members)
        group = self._groups[chat_id]
        group.members.extend(member for member in members if member not in group.members)
        return group

    # -- failures and limits ----------------------------------------------------------------

    def fail_next(
        self,
        method: str,
        error: int,
        *,
        chat_id: int | None = None,
        retry_after: int | None = None,
        description: str | None = None,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` calls of ``method`` (to ``chat_id``, if set) with ``error``."""
        name = canonical_method(method)
        if name is None:
            raise ValueError(f"unknown Bot API method {method!r}")
        if error == 429 and retry_after is None:
            retry_after = 5
        self.state.failures.append(
            InjectedFailure(
                method=name,
                error=error,
                description=description or default_description(error, retry_after),
                chat_id=chat_id,
                retry_after=retry_after,
                times=times,
            )
        )

    def block(self, chat_id: int) -> None:
        """The person blocks the bot: every send to them gets 403 until :meth:`unblock`."""
        self.state.blocked.add(chat_id)

    def unblock(self, chat_id: int) -> None:
        """The person unblocks the bot."""
        self.state.blocked.discard(chat_id)

    # -- inspection -------------------------------------------------------------------------

    @property
    def stats(self) -> EmulatorStats:
        """Calls per method, errors by code, 429s returned and messages delivered."""
        return self.state.stats

    def history(self, chat_id: int) -> list[SentMessage]:
        """Every message the bot sent to a chat, edits applied, oldest first."""
        chat = self.state.chat(chat_id)
        return list(chat.history) if chat is not None else []

    def commands(
        self, scope: dict[str, Any] | None = None, language_code: str = ""
    ) -> list[dict[str, Any]]:
        """The command list the bot set for a scope (default scope if None)."""
        return list(self.state.commands.get((scope_key(self.state, scope), language_code), []))

    def file_bytes(self, file_id: str) -> bytes:
        """The bytes behind a file_id (uploaded by the bot or by a person)."""
        return self.state.files[file_id].data

    # -- HTTP handlers ----------------------------------------------------------------------

    async def _bot_api(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.state.token:
            return web.json_response(_UNAUTHORIZED, status=401)
        method = request.match_info["method"]
        try:
            params = await read_params(request)
            result = await call_method(self.state, method, params)
        except ApiError as error:
            return web.json_response(error.to_json(), status=error.code)
        except Exception:
            _log.exception("emulator failed while answering %s", method)
            body = {"ok": False, "error_code": 500, "description": "Internal Server Error"}
            return web.json_response(body, status=500)
        return web.json_response({"ok": True, "result": result})

    async def _download(self, request: web.Request) -> web.Response:
        if request.match_info["token"] != self.state.token:
            return web.json_response(_UNAUTHORIZED, status=401)
        stored = self.state.files_by_path.get(request.match_info["file_path"])
        if stored is None:
            body = {"ok": False, "error_code": 404, "description": "Not Found: file not found"}
            return web.json_response(body, status=404)
        content_type = stored.mime_type or "application/octet-stream"
        return web.Response(body=stored.data, content_type=content_type)


async def _serve(host: str, port: int, rate_limit: RateLimit | None, token: str) -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(signum, stop.set)
    async with contextlib.AsyncExitStack() as stack:
        emulator = BotApiEmulator(token, rate_limit=rate_limit)
        await emulator.start(host, port)
        stack.push_async_callback(emulator.stop)
        print(f"Bot API emulator for token {emulator.token} at {emulator.base_url}", flush=True)
        print(f"  base_file_url {emulator.base_file_url}", flush=True)
        print(f"  control API   {emulator.url}/_emulator/  (Ctrl-C to stop)", flush=True)
        await stop.wait()


def main(argv: Sequence[str] | None = None) -> None:
    """Run the emulator standalone until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m rpbot.sandbox.emulator")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8081)
    parser.add_argument("--token", default="123456:TEST")
    parser.add_argument(
        "--rate-limit", type=float, default=None, help="messages per second overall (e.g. 30)"
    )
    parser.add_argument("--per-chat-rate", type=float, default=1.0, help="messages/s per chat")
    args = parser.parse_args(argv)
    limit = None
    if args.rate_limit is not None:
        limit = RateLimit(
            overall_per_second=args.rate_limit, per_chat_per_second=args.per_chat_rate
        )
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_serve(args.host, args.port, limit, args.token))


if __name__ == "__main__":
    main()
