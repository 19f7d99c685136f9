"""Programme plans: the standard programme from YAML, each family's tailored plan, and what
the plan drives (the member's menu, ``/learn``, their reminders, the digest's progress line).

A plan says, per member, which flows they are offered (on/off) and each flow's reminder, and
for the family the learning modules' order, one a week from when its programme started. A
family with no plan rows follows ``dialogues/programmes/standard.yaml``; a member without rows
of their own follows the standard plan for their role.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rpbot.dialogues import DEFAULT_DIR
from rpbot.digest.model import CircleLine, DigestReport, ProgrammeLine
from rpbot.engine import Library
from rpbot.engine.text import pick_language
from rpbot.scheduling.rules import Rule, RuleError, next_occurrence, parse_days, parse_time
from rpbot.services.menus import learning_buttons
from rpbot.services.outbox import OutButton
from rpbot.services.reminders import Reminders
from rpbot.storage.repos import Repos
from rpbot.storage.tables import Family, FlowRun, Member
from rpbot.storage.tables_circles import CircleRound, CircleTurn

PROGRAMMES_DIR = DEFAULT_DIR / "programmes"
STANDARD_FILE = PROGRAMMES_DIR / "standard.yaml"
WEEK = timedelta(days=7)
Role = Literal["parent", "child"]


class ProgrammeError(ValueError):
    """A programme file cannot be used; ``problems`` are 'file: place: what is wrong' lines."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("\n".join(problems))
        self.problems = problems


class ReminderPlan(BaseModel):
    """When a flow's reminder comes: days and a local time."""

    model_config = ConfigDict(extra="forbid")

    days: str = "daily"
    time: str

    @field_validator("days")
    @classmethod
    def _days(cls, value: str) -> str:
        try:
            parse_days(value)
        except RuleError as exc:
            raise ValueError(str(exc)) from None
        return value

    @field_validator("time")
    @classmethod
    def _time(cls, value: str) -> str:
        try:
            parse_time(value)
        except RuleError as exc:
            raise ValueError(str(exc)) from None
        return value


class FlowPlan(BaseModel):
    """One flow in a role's plan: offered or not, and its reminder (if any)."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    reminder: ReminderPlan | None = None


class Programme(BaseModel):
    """A programme file: its modules by week and each role's flows."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    title: str
    description: str | None = None
    weeks: list[str] = Field(min_length=1)
    flows: dict[Role, dict[str, FlowPlan]]

    @field_validator("weeks")
    @classmethod
    def _unique(cls, value: list[str]) -> list[str]:
        twice = sorted({m for m in value if value.count(m) > 1})
        if twice:
            raise ValueError(f"a module comes twice: {', '.join(twice)}; list each once")
        return value


def _place(loc: tuple[int | str, ...]) -> str:
    return ".".join(str(part) for part in loc) or "(top)"


def parse_programme(text: str, source: str, library: Library | None = None) -> Programme:
    """Read and check a programme file's text; raise ProgrammeError with every problem."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ProgrammeError([f"{source}: not valid YAML: {exc}"]) from None
    if not isinstance(data, dict):
        raise ProgrammeError([f"{source}: expected a mapping with id, title, weeks and flows"])
    try:
        programme = Programme.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            if error["type"] == "extra_forbidden":
                message = "unknown key (check the spelling; see standard.yaml for the keys)"
            problems.append(f"{source}: {_place(error['loc'])}: {message}")
        raise ProgrammeError(problems) from None
    if library is not None:
        check_against(programme, library, source)
    return programme


def check_against(programme: Programme, library: Library, source: str) -> None:
    """Every flow the programme names exists, for the right audience."""
    problems = []
    for week, module in enumerate(programme.weeks):
        if module not in library:
            problems.append(f"{source}: weeks.{week}: no flow '{module}'; see rpbot dialogues list")
        elif library[module].audience != "parent":
            problems.append(f"{source}: weeks.{week}: '{module}' is not a parent's module")
    for role, flows in programme.flows.items():
        for flow_id in flows:
            if flow_id not in library:
                problems.append(
                    f"{source}: flows.{role}.{flow_id}: no flow '{flow_id}'; "
                    "see rpbot dialogues list"
                )
            elif library[flow_id].audience != role:
                problems.append(
                    f"{source}: flows.{role}.{flow_id}: this flow is for "
                    f"{library[flow_id].audience}s, not {role}s"
                )
    if problems:
        raise ProgrammeError(problems)


def load_programme(path: Path = STANDARD_FILE, library: Library | None = None) -> Programme:
    """A programme file from disk, checked (against ``library`` when given)."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ProgrammeError([f"{path}: cannot be read ({exc.strerror})"]) from None
    return parse_programme(text, str(path), library)


@cache
def standard_programme() -> Programme:
    """The shipped standard programme, loaded once per process."""
    return load_programme()


@dataclass(frozen=True)
class FlowSetting:
    """One member's effective setting for one flow."""

    flow_id: str
    enabled: bool
    days: str | None
    time: str | None
    tailored: bool

    @property
    def rule(self) -> Rule | None:
        """The reminder rule, or None when the flow has no reminder."""
        return Rule.parse(self.days or "", self.time) if self.time else None


@dataclass(frozen=True)
class Progress:
    """Where a family is in its programme."""

    week: int  # 1-based; capped at the number of modules
    weeks: int
    modules: tuple[str, ...]  # in order
    done: frozenset[str]
    started_at: datetime

    @property
    def current(self) -> str | None:
        """This week's module."""
        return self.modules[self.week - 1] if self.modules else None


class Plans:
    """Reads a family's effective plan and applies changes to it."""

    def __init__(self, library: Library, programme: Programme | None = None) -> None:
        self.library = library
        self._programme = programme

    @property
    def programme(self) -> Programme:
        """The standard programme these plans start from."""
        if self._programme is None:
            self._programme = standard_programme()
        return self._programme

    # --- reading ------------------------------------------------------------------

    def flow_ids(self, role: str) -> list[str]:
        """Flows a member of this role can be offered or not (parents: modules too)."""
        flows = [f for f in self.programme.flows.get("child" if role == "child" else "parent", {})]
        if role == "parent":
            flows += [m for m in self.programme.weeks if m not in flows]
        return [f for f in flows if f in self.library]

    def standard_setting(self, role: str, flow_id: str) -> FlowSetting:
        """The standard plan's setting for a role and flow."""
        plan = self.programme.flows.get("child" if role == "child" else "parent", {}).get(flow_id)
        if plan is None:
            return FlowSetting(flow_id, True, None, None, tailored=False)
        reminder = plan.reminder
        days = Rule.parse(reminder.days, reminder.time).days_text if reminder else None
        return FlowSetting(
            flow_id, plan.enabled, days, reminder.time if reminder else None, tailored=False
        )

    async def settings(self, repos: Repos, member: Member) -> list[FlowSetting]:
        """A member's effective settings for every flow of their plan, in plan order."""
        rows = {r.flow_id: r for r in await repos.plans.flows(member.family_id, member.id or 0)}
        out = []
        for flow_id in self.flow_ids(member.role):
            row = rows.get(flow_id)
            if row is None:
                out.append(self.standard_setting(member.role, flow_id))
            else:
                out.append(FlowSetting(flow_id, row.enabled, row.days, row.time_of_day, True))
        return out

    async def setting(self, repos: Repos, member: Member, flow_id: str) -> FlowSetting | None:
        """A member's effective setting for one flow (None: not part of the plan)."""
        return next((s for s in await self.settings(repos, member) if s.flow_id == flow_id), None)

    async def disabled(self, repos: Repos, member: Member) -> frozenset[str]:
        """Flows switched off for this member."""
        rows = await repos.plans.flows(member.family_id, member.id or 0)
        off = {r.flow_id for r in rows if not r.enabled}
        tailored = {r.flow_id for r in rows}
        for flow_id in self.flow_ids(member.role):
            if flow_id not in tailored and not self.standard_setting(member.role, flow_id).enabled:
                off.add(flow_id)
        return frozenset(off)

    async def modules(self, repos: Repos, family_id: int) -> list[str]:
        """The family's learning modules, week 1 first (tailored, else standard)."""
        tailored = await repos.plans.modules(family_id)
        order = tailored or list(self.programme.weeks)
        return [m for m in order if m in self.library]

    async def progress(
        self, repos: Repos, family: Family, now: datetime, runs: list[FlowRun] | None = None
    ) -> Progress:
        """Week N of M and the modules done (``runs``: the family's runs, if already read)."""
        plan = await repos.plans.family_plan(family.id or 0)
        started = plan.started_at if plan is not None else family.created_at
        modules = await self.modules(repos, family.id or 0)
        if runs is None:
            finished = await repos.plans.completed_flows(family.id or 0, modules)
        else:
            finished = {r.flow_id for r in runs if r.status == "completed"}
        done = frozenset(m for m in modules if m in finished)
        week = max(1, min(len(modules), (now - started) // WEEK + 1)) if modules else 0
        return Progress(week, len(modules), tuple(modules), done, started)

    async def learn_menu(
        self, repos: Repos, member: Member, family: Family, now: datetime
    ) -> tuple[str, list[list[OutButton]]]:
        """The /learn menu: the plan's modules in order, this week's first and marked, the
        ones switched off for this member left out."""
        progress = await self.progress(repos, family, now)
        off = await self.disabled(repos, member)
        modules = [m for m in progress.modules if m not in off]
        current = progress.current if progress.current in modules else None
        text = "Pick a short module - each takes a few minutes:"
        if current is not None:
            text = (
                f"Week {progress.week} of your programme ⭐ This week's module is first. "
                "Each takes a few minutes:"
            )
        return text, learning_buttons(self.library, member.language, modules, current)

    def title(self, flow_id: str, language: str = "en") -> str:
        """A flow's title."""
        flow = self.library.get(flow_id)
        return pick_language(flow.title, language) if flow is not None else flow_id

    # --- changing -----------------------------------------------------------------

    async def set_flow(
        self,
        repos: Repos,
        reminders: Reminders,
        member: Member,
        flow_id: str,
        now: datetime,
        *,
        enabled: bool | None = None,
        time: str | None = None,
        days: str | None = None,
        no_reminder: bool = False,
    ) -> FlowSetting:
        """Change one member's flow (on/off, reminder time and days) and apply it to their
        schedules. Raises ValueError for a flow outside their plan or a bad time/days."""
        current = await self.setting(repos, member, flow_id)
        if current is None:
            allowed = ", ".join(self.flow_ids(member.role))
            raise ValueError(f"'{flow_id}' is not in a {member.role}'s plan; choose from {allowed}")
        new_time, new_days = current.time, current.days
        if no_reminder:
            new_time, new_days = None, None
        if time is not None:
            new_time = Rule.parse("", time).time_text
        if days is not None:
            new_days = Rule.parse(days, "00:00").days_text
        if new_time is not None and new_days is None:
            new_days = ""
        family = await repos.families.by_id(member.family_id)
        if family is not None:
            await repos.plans.ensure(family.id or 0, family.created_at, now)
        row = await repos.plans.set_flow(
            member.family_id,
            member.id or 0,
            flow_id,
            enabled=current.enabled if enabled is None else enabled,
            days=new_days if new_time is not None else None,
            time_of_day=new_time,
            now=now,
        )
        setting = FlowSetting(flow_id, row.enabled, row.days, row.time_of_day, True)
        await self.apply(repos, reminders, member, setting, now)
        return setting

    async def apply(
        self,
        repos: Repos,
        reminders: Reminders,
        member: Member,
        setting: FlowSetting,
        now: datetime,
    ) -> None:
        """Make a member's schedules for one flow follow the plan: a disabled flow's schedules
        go; an enabled one with a reminder gets the plan's days and time (one schedule)."""
        schedules = [s for s in await repos.schedules.for_member(member.id or 0)]
        mine = [s for s in schedules if s.flow_id == setting.flow_id]
        rule = setting.rule
        if not setting.enabled:
            for schedule in mine:
                await reminders.remove(repos, schedule, now)
            return
        if rule is None:
            return  # offered without a reminder: schedules added by hand are left alone
        if not mine:
            await reminders.add(repos, member, setting.flow_id, rule, now, "plan")
            return
        first = mine[0]
        if (first.days, first.time_of_day) != (rule.days_text, rule.time_text):
            await reminders.reschedule(repos, member, first, rule, now)
        if first.paused_until is not None:
            await reminders.resume(repos, member, first, now)

    async def move_module(
        self, repos: Repos, family: Family, flow_id: str, step: int, now: datetime
    ) -> list[str]:
        """Move a module ``step`` weeks earlier (-1) or later (+1); return the new order."""
        order = await self.modules(repos, family.id or 0)
        if flow_id not in order:
            raise ValueError(f"'{flow_id}' is not one of the family's modules")
        index = order.index(flow_id)
        target = max(0, min(len(order) - 1, index + step))
        order.insert(target, order.pop(index))
        await self.set_modules(repos, family, order, now)
        return order

    async def set_modules(
        self, repos: Repos, family: Family, order: list[str], now: datetime
    ) -> None:
        """Replace the module order (each module of the programme once, any order)."""
        known = set(self.programme.weeks)
        unknown = [m for m in order if m not in known or m not in self.library]
        if unknown:
            raise ValueError(
                f"not a module of the programme: {', '.join(unknown)}; "
                f"modules are {', '.join(self.programme.weeks)}"
            )
        if len(set(order)) != len(order):
            raise ValueError("a module is listed twice; list each once")
        plan = await repos.plans.ensure(family.id or 0, family.created_at, now)
        await repos.plans.set_modules(family.id or 0, order)
        await repos.plans.touch(plan, now)

    async def restart(self, repos: Repos, family: Family, start: datetime, now: datetime) -> None:
        """Say when the family's programme (week 1) starts."""
        plan = await repos.plans.ensure(family.id or 0, start, now)
        plan.started_at = start
        await repos.plans.touch(plan, now)


def next_time(setting: FlowSetting, member: Member, now: datetime) -> datetime | None:
    """When the flow's next reminder would come (None: no reminder or off)."""
    rule = setting.rule
    if rule is None or not setting.enabled:
        return None
    return next_occurrence(rule, member.timezone, now)


def circle_line(
    circle: CircleRound, turns: list[CircleTurn], members: dict[int, Member]
) -> CircleLine:
    """A circle as the practitioner sees it: adults' answers and children's shared ones
    quoted (once the round is closed), a child's private answer only noted."""
    closed = circle.status == "closed"
    shown: list[tuple[str, str | None, str]] = []
    for turn in turns:
        member = members.get(turn.member_id)
        name = member.display_name if member is not None else "someone"
        child = member is not None and member.role == "child"
        if turn.status == "answered":
            if child and turn.share_ok is not True and (closed or turn.share_ok is False):
                shown.append((name, None, "private"))
            else:
                shown.append((name, turn.answer if closed else None, "answered"))
        elif turn.status in ("waiting", "asked") and not closed:
            shown.append((name, None, "waiting"))
        else:
            shown.append((name, None, "passed"))
    return CircleLine(circle.created_at, circle.prompt, circle.starter_name, closed, tuple(shown))


async def with_programme(
    repos: Repos, plans: Plans, report: DigestReport, start: datetime, end: datetime
) -> DigestReport:
    """The report with each family's programme line and the period's circles."""
    ids = [f.family_id for f in report.families]
    rounds = await repos.circles.for_families(ids, start, end)
    families = []
    for digest in report.families:
        family = await repos.families.by_id(digest.family_id)
        if family is None:
            families.append(digest)
            continue
        progress = await plans.progress(repos, family, end)
        tailored = await repos.plans.family_plan(digest.family_id) is not None
        members = {m.id or 0: m for m in await repos.members.in_family(digest.family_id)}
        circles = tuple(
            circle_line(circle, turns, members)
            for circle, turns in rounds
            if circle.family_id == digest.family_id
        )
        line = ProgrammeLine(
            progress.week,
            progress.weeks,
            len(progress.done),
            plans.title(progress.current) if progress.current else None,
            tailored,
        )
        families.append(replace(digest, circles=circles, programme=line))
    return replace(report, families=tuple(families))
