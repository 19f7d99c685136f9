"""``rpbot demo seed``: fill the database at DATABASE_URL with made-up families and answers."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from typing import Annotated

import typer

from rpbot.config import load_settings
from rpbot.demo import DemoError, DemoSummary, seed_demo
from rpbot.demo.seed import check_options, existing_sets
from rpbot.engine import DialogueError
from rpbot.storage.db import Database, safe_url, upgrade
from rpbot.storage.errors import StorageError

demo_app = typer.Typer(
    help="Demo data for previews, the sandbox and benchmarks.", no_args_is_help=True
)


def parse_end(text: str | None) -> datetime | None:
    """``--end`` as an aware datetime (UTC when no offset is given), or None for the default."""
    if text is None:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as exc:
        example = "2026-03-01T20:00 (UTC) or 2026-03-01T20:00+01:00"
        raise DemoError(f"--end takes a date and time such as {example}, not {text!r}") from exc
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _again_notice(sets: list[int]) -> str:
    shown = ", ".join(str(s) for s in sets)
    return (
        f"This database already holds demo set(s) {shown}. Adding demo set {max(sets) + 1} "
        "alongside (new practitioners, families and Telegram ids; nothing is changed or "
        "removed). For a clean demo, point DATABASE_URL at a new database."
    )


@demo_app.command("seed")
def demo_seed(
    families: Annotated[int, typer.Option(help="How many families.")] = 6,
    weeks: Annotated[int, typer.Option(help="Weeks of activity before --end.")] = 4,
    seed: Annotated[int, typer.Option(help="Same seed, same data.")] = 1,
    practitioners: Annotated[int, typer.Option(help="Families are shared among them.")] = 1,
    end: Annotated[
        str | None,
        typer.Option(help="Last simulated moment, e.g. 2026-03-01T20:00 (UTC). Default: now."),
    ] = None,
    progress: Annotated[bool, typer.Option(help="Show each simulated day.")] = True,
) -> None:
    """Fill the database at DATABASE_URL (migrated first) with realistic demo families.

    Families join, keep diaries, check in, answer reminders or ignore them, walk away from
    activities and come back, through the bot's own services in simulated time. The same
    --seed and --end give the same data. Run again, and a new set is added alongside.
    """
    from rpbot.dialogues import load_library

    settings = load_settings()
    try:
        until = parse_end(end)
        check_options(families, weeks, practitioners, until)
        library = load_library([settings.dialogues_dir])
        upgrade(settings.database_url)
    except (DemoError, StorageError) as exc:
        raise _fail(f"Error: {exc}") from exc
    except DialogueError as exc:
        raise _fail(f"The dialogues are invalid; fix them first:\n{exc}") from exc

    def show(message: str) -> None:
        if progress:
            typer.echo(f"Seeding: {message}", err=True)

    async def main() -> DemoSummary:
        db = Database(settings.database_url)
        try:
            sets = await existing_sets(db)
            if sets:
                typer.echo(_again_notice(sets))
            return await seed_demo(
                db,
                library,
                families=families,
                weeks=weeks,
                seed=seed,
                practitioners=practitioners,
                end=until,
                progress=show,
            )
        finally:
            await db.dispose()

    try:
        summary = asyncio.run(main())
    except (DemoError, StorageError) as exc:
        raise _fail(f"Error: {exc}") from exc
    typer.echo(f"Database {safe_url(settings.database_url)}:")
    for line in summary.lines():
        typer.echo(line)


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(1)
