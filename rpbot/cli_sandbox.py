"""``rpbot sandbox``: the whole bot in a browser, offline, with a demo family.

Heavy imports happen inside the command, so the rest of the CLI starts as fast as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from rpbot import eventloop

if TYPE_CHECKING:
    from rpbot.engine import Library

PORT_HELP = "Port of the web page on 127.0.0.1 (0 picks a free one)."


def sandbox(
    port: Annotated[int, typer.Option(help=PORT_HELP, min=0, max=65535)] = 8000,
    keep: Annotated[
        bool, typer.Option(help="Reuse the sandbox database from last time instead of a fresh one.")
    ] = False,
    db: Annotated[Path, typer.Option(help="The sandbox's SQLite file.")] = Path("sandbox.db"),
) -> None:
    """Try the bot in a browser as parent, child and practitioner (offline); Ctrl-C stops."""
    from rpbot.config import load_settings
    from rpbot.dialogues import load_library
    from rpbot.engine import DialogueError

    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    for noisy in ("httpx", "telegram", "apscheduler"):  # a start/stop line per restart
        logging.getLogger(noisy).setLevel(logging.WARNING)
    settings = load_settings()
    try:
        library = load_library([settings.dialogues_dir])
    except DialogueError as exc:
        typer.echo(f"The dialogues are invalid; fix them first:\n{exc}", err=True)
        raise typer.Exit(1) from exc
    kept = keep and db.exists()
    code = eventloop.run(_serve(port, kept, db, library, settings.timezone), settings.event_loop)
    raise typer.Exit(code)


async def _serve(port: int, keep: bool, db: Path, library: Library, timezone: str) -> int:
    """Serve until Ctrl-C; return the exit code (``keep``: reuse the existing database)."""
    from rpbot.sandbox.web import PortInUseError, Sandbox, SandboxClock, SandboxServer

    clock = SandboxClock(datetime.now(UTC))
    sandbox = Sandbox(db, library, clock, keep=keep, timezone=timezone)
    server = SandboxServer(sandbox, port)
    try:
        await server.start()
    except PortInUseError:
        typer.echo(
            f"Port {port} on 127.0.0.1 is already in use (another sandbox?); stop that program "
            f"or pick another port, e.g. uv run rpbot sandbox --port {port + 1 if port else 8001}",
            err=True,
        )
        return 1
    except OSError as exc:
        typer.echo(f"Cannot listen on 127.0.0.1:{port}: {exc.strerror or exc}", err=True)
        return 1

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        with contextlib.suppress(NotImplementedError):  # not on Windows
            loop.add_signal_handler(signum, stop.set)
    typer.echo(f"rpbot sandbox: open {server.url} in a browser")
    if keep:
        typer.echo(f"  database {db} (kept from last time); starting the bot…")
    else:
        typer.echo(f"  database {db}: seeding a demo family (this takes a little while)…")
    starting = asyncio.create_task(sandbox.start())
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait({starting, stopping}, return_when=asyncio.FIRST_COMPLETED)
        if starting.done():
            if starting.exception() is not None:
                error = starting.exception()
                typer.echo(f"The sandbox could not start: {error!r}", err=True)
                return 1
            names = ", ".join(f"{p.label} {p.name}" for p in sandbox.personas)
            typer.echo(f"  ready: {names}. Ctrl-C stops.")
            await stopping
        typer.echo("Stopping…")
        return 0
    finally:
        for task in (starting, stopping):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await server.stop()
        await sandbox.stop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.remove_signal_handler(signum)
