"""The ``rpbot`` command line: dialogue tools and the terminal chat."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer

from rpbot import cli_admin, cli_demo, cli_digest, cli_keys, cli_plan, cli_sandbox
from rpbot.config import load_settings
from rpbot.dialogues import DEFAULT_DIR, load_library
from rpbot.engine import NATIONS, DialogueError, Library
from rpbot.engine.graph import mermaid
from rpbot.engine.schema import dialogue_schema_text
from rpbot.simulator import Simulator, transcript_lines

app = typer.Typer(help="rpbot: restorative parenting programmes on Telegram.", no_args_is_help=True)
dialogues_app = typer.Typer(help="Check, draw and document dialogue files.", no_args_is_help=True)
app.add_typer(dialogues_app, name="dialogues")
db_app = typer.Typer(help="Create and migrate the database (DATABASE_URL).", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(cli_admin.practitioner_app, name="practitioner")
app.add_typer(cli_admin.family_app, name="family")
app.add_typer(cli_admin.invite_app, name="invite")
app.add_typer(cli_admin.schedule_app, name="schedule")
app.add_typer(cli_digest.digest_app, name="digest")
app.add_typer(cli_keys.keys_app, name="keys")
app.add_typer(cli_keys.audit_app, name="audit")
app.add_typer(cli_demo.demo_app, name="demo")
app.add_typer(cli_plan.plan_app, name="plan")
app.command("run", help="Run the bot (needs TELEGRAM_BOT_TOKEN); Ctrl-C stops it.")(
    cli_admin.run_bot
)
app.command("sandbox")(cli_sandbox.sandbox)

SCHEMA_PATH = DEFAULT_DIR / "schema" / "dialogue.schema.json"


def _load(paths: list[Path] | None = None) -> Library:
    try:
        return load_library(paths or [load_settings().dialogues_dir])
    except DialogueError as exc:
        for problem in exc.problems:
            typer.echo(str(problem), err=True)
        typer.echo(f"{len(exc.problems)} problem(s) found.", err=True)
        raise typer.Exit(1) from exc


@dialogues_app.command("check")
def dialogues_check(
    paths: Annotated[list[Path] | None, typer.Argument(help="Files or folders.")] = None,
) -> None:
    """Validate dialogue files; exit 1 listing every problem."""
    for path in paths or []:
        if not path.exists():
            typer.echo(f"{path}: no such file or folder; give a dialogue file or folder", err=True)
            raise typer.Exit(1)
    library = _load(paths)
    typer.echo(f"{len(library)} flow(s) OK.")


@dialogues_app.command("graph")
def dialogues_graph(flow_id: str) -> None:
    """Print a flow as a Mermaid flowchart."""
    library = _load()
    if flow_id not in library:
        typer.echo(f"No flow '{flow_id}'; flows are: {', '.join(sorted(library))}", err=True)
        raise typer.Exit(1)
    typer.echo(mermaid(library[flow_id]), nl=False)


@dialogues_app.command("list")
def dialogues_list() -> None:
    """List every flow with its audience and title."""
    library = _load()
    for flow in sorted(library.flows.values(), key=lambda f: (f.audience, f.id)):
        title = flow.title if isinstance(flow.title, str) else flow.title["en"]
        typer.echo(f"{flow.audience:<13} {flow.id:<30} {title}")


@dialogues_app.command("schema")
def dialogues_schema(
    write: Annotated[bool, typer.Option(help="Rewrite the committed schema file.")] = False,
) -> None:
    """Print the JSON Schema of dialogue files (or --write it to dialogues/schema/)."""
    text = dialogue_schema_text()
    if write:
        SCHEMA_PATH.write_text(text, encoding="utf-8")
        typer.echo(f"Wrote {SCHEMA_PATH}")
    else:
        typer.echo(text, nl=False)


@app.command("chat")
def chat(
    flow_id: str,
    role: Annotated[str, typer.Option("--as", help="parent or child")] = "parent",
    name: Annotated[str, typer.Option(help="The person's first name.")] = "Sam",
    child_name: Annotated[str, typer.Option(help="The child's name (parent flows).")] = "Mia",
    practitioner: Annotated[str, typer.Option(help="The practitioner's name.")] = "Alex",
    nation: Annotated[str, typer.Option(help="|".join(NATIONS))] = "england",
    as_json: Annotated[bool, typer.Option("--json", help="Print saved answers as JSON.")] = False,
    verbose: Annotated[bool, typer.Option(help="Show saved answers as they happen.")] = False,
) -> None:
    """Try a flow in the terminal: type a button's number, its label, or free text."""
    if role not in ("parent", "child"):
        typer.echo("--as takes parent or child", err=True)
        raise typer.Exit(2)
    if nation not in NATIONS:
        typer.echo(f"--nation takes one of {', '.join(NATIONS)}", err=True)
        raise typer.Exit(2)
    library = _load()
    if flow_id not in library:
        typer.echo(f"No flow '{flow_id}'; flows are: {', '.join(sorted(library))}", err=True)
        raise typer.Exit(1)
    context = {
        "first_name": name,
        "child_name": child_name,
        "practitioner_name": practitioner,
        "family_name": "Green",
        "nation": nation,
        "role": role,
    }
    sim = Simulator(library, flow_id, context, clock=lambda: datetime.now(UTC))
    interactive = sys.stdin.isatty()
    out = sys.stderr if as_json else sys.stdout

    def show(lines: list[str]) -> None:
        for line in lines:
            print(line, file=out)

    show(transcript_lines(sim.begin(), verbose=verbose))
    while not sim.finished:
        if interactive:
            print("you: ", end="", file=out, flush=True)
        line = sys.stdin.readline()
        if not line:
            print("(input ended before the flow did; answers so far are below)", file=out)
            break
        line = line.rstrip("\n")
        if not interactive:
            print(f"you: {line}", file=out)
        show(transcript_lines(sim.send(line), verbose=verbose))
    if as_json:
        print(json.dumps(sim.answers, ensure_ascii=False, indent=2))
    else:
        print("\nSaved answers:", file=out)
        for flow, answers in sim.answers.items():
            for answer, value in answers.items():
                print(f"  {flow}.{answer}: {json.dumps(value, ensure_ascii=False)}", file=out)
    raise typer.Exit(0 if sim.finished else 1)


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision.")] = "head",
) -> None:
    """Create or migrate the tables of the database at DATABASE_URL."""
    from rpbot.storage.db import safe_url, upgrade
    from rpbot.storage.errors import StorageError

    url = load_settings().database_url
    try:
        upgrade(url, revision)
    except StorageError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(1) from exc
    typer.echo(f"Database {safe_url(url)} is at revision {revision}.")
