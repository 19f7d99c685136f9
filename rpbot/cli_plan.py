"""``rpbot plan show|set``: a family's programme plan on the command line."""

from __future__ import annotations

from typing import Annotated

import typer

from rpbot.cli_admin import _fail, _family, _in_transaction, _member, _reminders
from rpbot.clock import SystemClock
from rpbot.config import load_settings
from rpbot.scheduling.rules import RuleError
from rpbot.services.plan_desk import week_rule_text
from rpbot.services.plans import Plans, ProgrammeError
from rpbot.storage.repos import Repos

plan_app = typer.Typer(
    help="A family's programme plan: activities per member, reminder times, module order.",
    no_args_is_help=True,
)


@plan_app.command("show")
def plan_show(
    family: Annotated[str, typer.Option(help="The family's name.")],
) -> None:
    """Print the family's plan: the week, the modules in order, each member's activities."""
    settings = load_settings()
    reminders = _reminders()
    plans = Plans(reminders.library)

    async def work(repos: Repos) -> list[str]:
        found = await _family(repos, family)
        progress = await plans.progress(repos, found, SystemClock().now())
        tailored = await repos.plans.family_plan(found.id or 0) is not None
        lines = [
            f"{found.name} family: {'tailored' if tailored else 'standard'} plan, "
            f"week {progress.week} of {progress.weeks}, "
            f"{len(progress.done)} of {progress.weeks} modules done",
            "Modules by week:",
        ]
        for week, module in enumerate(progress.modules, start=1):
            marks = (" (done)" if module in progress.done else "") + (
                " <- this week" if week == progress.week else ""
            )
            lines.append(f"  {week}. {module}{marks}")
        for member in await repos.members.in_family(found.id or 0):
            if member.telegram_user_id is None and not member.active:
                continue  # erased
            lines.append(f"{member.display_name} ({member.role}):")
            for setting in await plans.settings(repos, member):
                state = "on " if setting.enabled else "off"
                lines.append(f"  {state} {setting.flow_id:<28} {week_rule_text(setting)}")
        return lines

    try:
        typer.echo("\n".join(_in_transaction(settings, work)))
    except ProgrammeError as exc:
        raise _fail(str(exc)) from exc


@plan_app.command("set")
def plan_set(
    family: Annotated[str, typer.Option(help="The family's name.")],
    member: Annotated[str | None, typer.Option(help="A member's first name.")] = None,
    flow: Annotated[str | None, typer.Option(help="The member's flow to change.")] = None,
    on: Annotated[bool, typer.Option("--on", help="Offer the flow.")] = False,
    off: Annotated[bool, typer.Option("--off", help="Stop offering the flow.")] = False,
    time: Annotated[str | None, typer.Option(help="Reminder time, 24-hour HH:MM.")] = None,
    days: Annotated[str | None, typer.Option(help="daily, weekdays, weekends, mon,thu")] = None,
    no_reminder: Annotated[bool, typer.Option("--no-reminder", help="No reminder.")] = False,
    modules: Annotated[
        str | None, typer.Option(help="Every module in the new order, comma-separated.")
    ] = None,
) -> None:
    """Change a member's flow (--member --flow with --on/--off/--time/--days/--no-reminder)
    or the module order (--modules a,b,c)."""
    if on and off:
        raise _fail("Give --on or --off, not both.")
    if modules is None and (member is None or flow is None):
        raise _fail("Give --member and --flow (with --on, --off, --time ...), or --modules.")
    settings = load_settings()
    reminders = _reminders()
    plans = Plans(reminders.library)
    now = SystemClock().now()

    async def work(repos: Repos) -> str:
        found = await _family(repos, family)
        if modules is not None:
            order = [m.strip() for m in modules.split(",") if m.strip()]
            await plans.set_modules(repos, found, order, now)
            return f"{found.name}: modules in order: {', '.join(order)}"
        person = await _member(repos, family, member or "")
        setting = await plans.set_flow(
            repos,
            reminders,
            person,
            flow or "",
            now,
            enabled=True if on else False if off else None,
            time=time,
            days=days,
            no_reminder=no_reminder,
        )
        await repos.audit.record(now, "cli", None, "plan_flow_changed", "member", person.id)
        state = "on" if setting.enabled else "off"
        return f"{person.display_name}: {setting.flow_id} {state}, {week_rule_text(setting)}"

    try:
        typer.echo(_in_transaction(settings, work))
    except (ValueError, RuleError, ProgrammeError) as exc:
        raise _fail(f"Error: {exc}") from exc
