"""What the benchmarks share: the emulator in its own process, scratch databases, CPU time."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import secrets
import socket
import sys
import tempfile
from collections.abc import AsyncIterator, Callable, Coroutine
from pathlib import Path
from typing import Any

import aiohttp
from sqlalchemy.engine import make_url

from rpbot import eventloop

TOKEN = "123456:BENCH"


def run_with_loop(
    parser: argparse.ArgumentParser,
    main: Callable[[argparse.Namespace], Coroutine[Any, Any, None]],
) -> None:
    """Add ``--loop`` to ``parser``, parse, and run ``main(args)`` on that event loop."""
    parser.add_argument(
        "--loop",
        choices=("uvloop", "asyncio"),
        default="uvloop",
        help="event loop of this process, where the bot runs (and anything else the benchmark "
        "drives from here), as RPBOT_EVENT_LOOP: uvloop (default, like rpbot run) or asyncio",
    )
    args = parser.parse_args()
    eventloop.run(main(args), args.loop)


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc; NaN elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@contextlib.asynccontextmanager
async def emulator_process(*options: str) -> AsyncIterator[tuple[str, int, int]]:
    """Run ``python -m rpbot.sandbox.emulator`` on a free port; yield its URL, port and pid."""
    port = free_port()
    command = [sys.executable, "-m", "rpbot.sandbox.emulator", "--port", str(port)]
    command += ["--token", TOKEN, *options]
    # Its stderr is ours, so anything it logs shows up here.
    process = await asyncio.create_subprocess_exec(*command, stdout=asyncio.subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(200):
                if process.returncode is not None:
                    raise RuntimeError(f"the emulator exited at start ({process.returncode})")
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(f"{url}/_emulator/stats") as response:
                        if response.status == 200:
                            break
                await asyncio.sleep(0.05)
            else:
                raise RuntimeError("the emulator did not start within 10 s")
        yield url, port, process.pid
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()


@contextlib.asynccontextmanager
async def scratch_database(admin_url: str | None, prefix: str) -> AsyncIterator[tuple[str, str]]:
    """A fresh database URL and its description: SQLite in a temp dir, or PostgreSQL scratch."""
    if admin_url is None:
        with tempfile.TemporaryDirectory(prefix=f"{prefix}-") as folder:
            path = Path(folder) / "bench.db"
            yield f"sqlite+aiosqlite:///{path}", "SQLite (WAL) in a temporary folder"
        return
    import asyncpg  # type: ignore[import-untyped]  # only needed for PostgreSQL

    parsed = make_url(admin_url)
    if not parsed.drivername.startswith("postgres"):
        raise SystemExit("--database-url must be a postgresql:// URL (the default is SQLite)")
    name = f"{prefix.replace('-', '_')}_{os.getpid()}_{secrets.token_hex(3)}"
    dsn = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    connection = await asyncpg.connect(dsn)
    try:
        await connection.execute(f'CREATE DATABASE "{name}"')
    finally:
        await connection.close()
    scratch = parsed.set(drivername="postgresql+asyncpg", database=name)
    try:
        yield scratch.render_as_string(hide_password=False), f"PostgreSQL scratch database {name}"
    finally:
        connection = await asyncpg.connect(dsn)
        try:
            await connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await connection.close()
