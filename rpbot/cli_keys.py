"""``rpbot keys`` (data keys for encryption at rest) and ``rpbot audit`` (the audit log).

Keys are printed only by ``keys generate`` (that is its job) and never logged.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

import typer

from rpbot.config import load_settings
from rpbot.services.privacy import (
    RewriteReport,
    check_encryption,
    configure_keys,
    rewrite_encrypted,
)
from rpbot.storage import crypto
from rpbot.storage.db import Database, upgrade
from rpbot.storage.errors import StorageError
from rpbot.storage.tables import AuditEntry

keys_app = typer.Typer(
    help="Data keys for encryption at rest (RPBOT_DATA_KEY).", no_args_is_help=True
)
audit_app = typer.Typer(
    help="The audit log: who did what, never what anyone wrote.", no_args_is_help=True
)

HOW_TO_ROTATE = (
    "To rotate: put the new key first and keep the old one after it, comma-separated "
    "(RPBOT_DATA_KEY=<new>,<old>), restart the bot, run `rpbot keys rotate`, then remove the "
    "old key."
)


def _fail(message: str) -> typer.Exit:
    typer.echo(message, err=True)
    return typer.Exit(1)


def _ring() -> crypto.KeyRing:
    try:
        ring = configure_keys(load_settings())
    except StorageError as exc:
        raise _fail(str(exc)) from exc
    if ring is None:
        raise _fail(
            "RPBOT_DATA_KEY is not set. Make a key with `rpbot keys generate` and put "
            "RPBOT_DATA_KEY=<key> in .env or the environment (see .env.example)."
        )
    return ring


def _database_url() -> str:
    url = load_settings().database_url
    if url.startswith("sqlite"):
        upgrade(url)
    return url


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new random key for RPBOT_DATA_KEY (keep it safe: without it, data is lost)."""
    typer.echo(crypto.generate_key())
    typer.echo(
        "Put it in RPBOT_DATA_KEY (in .env or your secret store) and keep a copy somewhere "
        f"safe: without it the encrypted answers cannot be read. {HOW_TO_ROTATE}",
        err=True,
    )


def _rewrite(decrypt: bool) -> RewriteReport:
    ring = _ring()

    async def main() -> RewriteReport:
        db = Database(url)
        try:
            return await rewrite_encrypted(db, ring, decrypt=decrypt)
        finally:
            await db.dispose()

    try:
        url = _database_url()
        return asyncio.run(main())
    except StorageError as exc:
        raise _fail(f"Error: {exc}") from exc


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every encrypted value with the first key in RPBOT_DATA_KEY (and encrypt
    plain ones). Safe while the bot runs; after it, the older keys are no longer needed."""
    report = _rewrite(decrypt=False)
    typer.echo(
        f"Re-encrypted {report.reencrypted} value(s) and encrypted {report.encrypted} plain "
        f"value(s) in {', '.join(report.columns)} with the first key."
    )
    if report.changed_meanwhile:
        typer.echo(
            f"{report.changed_meanwhile} value(s) changed while rotating; run it again.", err=True
        )
    else:
        typer.echo("Older keys in RPBOT_DATA_KEY are no longer needed and can be removed.")


@keys_app.command("decrypt")
def keys_decrypt() -> None:
    """Turn encryption off: store every value as plain text again (stop the bot first)."""
    report = _rewrite(decrypt=True)
    typer.echo(
        f"Decrypted {report.decrypted} value(s). Now remove RPBOT_DATA_KEY before starting "
        "the bot, or it will encrypt new answers again."
    )


@keys_app.command("check")
def keys_check() -> None:
    """Check that RPBOT_DATA_KEY (or its absence) fits the database, as `rpbot run` does."""

    async def main() -> None:
        db = Database(url)
        try:
            await check_encryption(db)
        finally:
            await db.dispose()

    try:
        ring = configure_keys(load_settings())
        url = _database_url()
        asyncio.run(main())
    except StorageError as exc:
        raise _fail(str(exc)) from exc
    typer.echo("Encryption is on: the key fits." if ring else "Encryption is off.")


@audit_app.command("list")
def audit_list(
    limit: Annotated[int, typer.Option(min=1, max=10000, help="How many entries.")] = 50,
) -> None:
    """Print the latest audit entries, newest first (no message texts are ever stored)."""

    async def main() -> list[AuditEntry]:
        db = Database(url)
        try:
            async with db.transaction() as repos:
                return await repos.audit.recent(limit)
        finally:
            await db.dispose()

    try:
        url = _database_url()
        entries = asyncio.run(main())
    except StorageError as exc:
        raise _fail(f"Error: {exc}") from exc
    if not entries:
        typer.echo("The audit log is empty.")
    for entry in entries:
        actor = f"{entry.actor_type}#{entry.actor_id}" if entry.actor_id else entry.actor_type
        target = f" {entry.target_type}#{entry.target_id}" if entry.target_type else ""
        detail = f"  {entry.detail}" if entry.detail else ""
        at = entry.at.strftime("%Y-%m-%d %H:%M:%S UTC")
        typer.echo(f"{at}  {actor:<18} {entry.action:<20}{target}{detail}")
