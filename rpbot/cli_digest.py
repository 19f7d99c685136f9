"""``rpbot digest render``: the same digest a practitioner gets, written to files offline."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated

import typer

from rpbot.cli_admin import _fail, _in_transaction
from rpbot.config import load_settings
from rpbot.digest.model import DigestReport
from rpbot.services.digests import Digests, iso_week_period, render
from rpbot.storage.repos import Repos

digest_app = typer.Typer(help="Practitioners' weekly digests.", no_args_is_help=True)
SEPARATOR = "\n\n-------- next message --------\n\n"


def slug(name: str) -> str:
    """A file-name-safe version of a family name."""
    return re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-") or "family"


@digest_app.command("render")
def digest_render(
    practitioner_telegram_id: Annotated[int, typer.Option(help="The practitioner's Telegram id.")],
    out: Annotated[Path, typer.Option(help="Folder to write the files to (created).")],
    week: Annotated[
        str | None,
        typer.Option(
            help="An ISO week such as 2026-W47 (Monday to Sunday, their timezone). "
            "Default: the last 7 days."
        ),
    ] = None,
    family: Annotated[str | None, typer.Option(help="Only this family.")] = None,
    charts: Annotated[bool, typer.Option(help="Draw the PNG charts.")] = True,
) -> None:
    """Write the digest's Telegram messages, PNG charts and HTML report to OUT."""
    from rpbot.dialogues import load_library

    settings = load_settings()
    digests = Digests(load_library([settings.dialogues_dir]))

    async def work(repos: Repos) -> DigestReport:
        practitioner = await repos.practitioners.by_telegram_id(practitioner_telegram_id)
        if practitioner is None:
            raise _fail(
                f"No practitioner has Telegram id {practitioner_telegram_id}. "
                "Add one with: rpbot practitioner add --telegram-id ID --name NAME"
            )
        if week is not None:
            try:
                start, end = iso_week_period(week, practitioner.timezone)
            except ValueError as exc:
                raise _fail(f"Error: {exc}") from exc
        else:
            end = datetime.now(UTC)
            start = end - timedelta(days=7)
        family_id = None
        if family is not None:
            found = [
                f
                for f in await repos.families.for_practitioner(practitioner.id or 0)
                if f.name.casefold() == family.casefold()
            ]
            if not found:
                raise _fail(f"{practitioner.name} has no family called {family!r}.")
            family_id = found[0].id
        await repos.audit.record(
            datetime.now(UTC), "cli", None, "digest_rendered", "practitioner", practitioner.id
        )
        return await digests.report(repos, practitioner, start, end, family_id)

    report = _in_transaction(settings, work)
    rendered = render(report, charts=charts)
    out.mkdir(parents=True, exist_ok=True)
    messages = list(rendered.overview)
    for item in rendered.families:
        messages += item.messages
        if item.chart is not None:
            (out / f"chart-{item.family.family_id}-{slug(item.family.name)}.png").write_bytes(
                item.chart
            )
    (out / "messages.txt").write_text(SEPARATOR.join(messages) + "\n", encoding="utf-8")
    (out / rendered.filename).write_text(rendered.html, encoding="utf-8")
    typer.echo(
        f"Wrote {len(messages)} messages, {sum(f.chart is not None for f in rendered.families)} "
        f"charts and {rendered.filename} for {len(report.families)} "
        f"{'family' if len(report.families) == 1 else 'families'} to {out}"
    )
