"""What each demo family does, day by day: a deterministic list of actions.

An action is one person opening one flow at one moment: by pressing *Start now* (or *Later*,
or *Not today*) on a reminder the sweep sent, by a command such as ``/diary``, by a menu
button, or through the learning menu. The planner also decides who walks away half-way
(the run is left to be nudged and then expired by the sweep), who says ``/stop``, and which
of a child's answers they choose to share.

Rules that keep the story coherent: a person does one thing at a time; after walking away
they do nothing else until the sweep has expired that run; the quiet family does nothing in
the last week; the member who blocks the bot does nothing from the day they block it.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from typing import Any

from rpbot.demo.bank import seeded
from rpbot.demo.cast import FamilySpec, PersonSpec
from rpbot.demo.timeline import TIMEZONE, Timeline, hhmm, local_at
from rpbot.scheduling.rules import DAYS, Rule, in_quiet_hours, next_occurrence, parse_days
from rpbot.services.menus import LEARNING_MODULES
from rpbot.services.reminders import DEFAULT_SCHEDULES, QUIET_HOURS, SNOOZE

ACTION_LENGTH = timedelta(minutes=25)  # room kept free after an action starts
FIRST_ACTIVITY = time(16, 45)  # on the joining day, nothing before everyone has joined
QUIET_WEEK = timedelta(days=7)
BLOCK_CALM = timedelta(hours=20)  # the blocker does nothing on the day they block the bot
WEEKLY = ("three_questions", "three_houses")
#: How often a run of these flows is left half-done, to be nudged and then expired.
ABANDON = {"day_in_the_life": 0.08, "chore_checkin": 0.06, "three_houses": 0.08}
SWEEP_MARGIN = timedelta(minutes=45)
DEFAULT_EXPIRY = timedelta(days=3)

#: Local half-hour windows (start of window) where a flow opened by hand may begin.
SLOTS = {
    "day_in_the_life": ("13:05", "20:05", "21:35"),
    "three_questions": ("20:35",),
    "incident_reflection": ("21:05", "10:05"),
    "boundaries_and_consequences": ("12:35", "20:35"),
    "learn": ("12:05", "14:05", "20:35"),
    "household_agreement": ("12:35", "20:35"),
    "chore_confirm": ("18:35",),
    "chore_checkin": ("17:35", "18:05"),
    "chore_checkin_weekend": ("10:05", "16:05"),
    "three_houses": ("11:35", "15:05"),
    "child_reflection": ("18:35", "19:05"),
    "feelings_checkin": ("16:05", "19:05"),
}


@dataclass(frozen=True)
class Action:
    """One person opening one flow (or answering one reminder) at ``at``."""

    at: datetime
    family: int
    member: int
    flow: str
    via: str  # reminder | command | menu | learn
    seq: int
    mood: str = "mixed"
    response: str = "start"  # for a reminder: start | later | skip
    due: datetime | None = None  # the reminder's due time
    scale: int | None = None
    abandon_after: int | None = None
    stop_after: int | None = None
    share_family: bool = False
    share_worker: bool = False

    @property
    def order(self) -> tuple[datetime, int, int]:
        """Sort key: time, then family, then the family's own order."""
        return (self.at, self.family, self.seq)


@dataclass
class _Person:
    """What the planner remembers about one member between days."""

    spec: PersonSpec
    booked: list[tuple[datetime, datetime]] = field(default_factory=list)
    shares: int = 0
    module: int = 0


def mood_of(scale: int) -> str:
    """The family's general mood for a week with this 0-10 scale."""
    return "good" if scale >= 7 else "hard" if scale <= 3 else "mixed"


def reminder_time(role: str, flow: str) -> tuple[tuple[str, ...], time] | None:
    """(days, local time) of a role's default reminder for ``flow``, if it has one."""
    for flow_id, days, at in DEFAULT_SCHEDULES.get(role, ()):
        if flow_id == flow:
            return parse_days(days), hhmm(at)
    return None


class FamilyPlanner:
    """Plans every action of one family over the timeline."""

    def __init__(
        self,
        spec: FamilySpec,
        timeline: Timeline,
        seed: int,
        expiries: Mapping[str, timedelta] | None = None,
    ) -> None:
        self.spec = spec
        self.expiries = expiries or {}
        self.timeline = timeline
        self.rng = seeded(seed, "plan", spec.index)
        self.people = {m.key: _Person(m) for m in spec.members}
        self.actions: list[Action] = []
        self.snoozes: set[datetime] = set()
        self.start = local_at(timeline.first_day, FIRST_ACTIVITY)
        self.quiet_from = timeline.end - QUIET_WEEK if spec.quiet else None

    # --- the whole plan ----------------------------------------------------------------

    def plan(self) -> list[Action]:
        """Every action of the family, in time order."""
        for week, days in weeks_of(self.timeline):
            self._week(week, days)
        return sorted(self.actions, key=lambda a: a.order)

    def _week(self, week: int, days: list[date]) -> None:
        scale = self.spec.trajectory.scale(week, self.rng.uniform(-0.6, 0.6))
        mood = mood_of(scale)
        parents, children = self.spec.parents, self.spec.children
        for n, parent in enumerate(parents):
            self._parent_week(self.people[parent.key], n == 0, week, days, scale, mood)
        chore_days: list[date] = []
        for child in children:
            chore_days += self._child_week(self.people[child.key], days, mood)
        if parents and chore_days:
            self._chore_praise(self.people[parents[0].key], sorted(set(chore_days)), mood)

    # --- parents -----------------------------------------------------------------------

    def _parent_week(
        self, person: _Person, first: bool, week: int, days: list[date], scale: int, mood: str
    ) -> None:
        rng = self.rng
        if first or rng.random() < 0.5:
            own = scale if first else max(0, min(10, scale + rng.choice((-1, 0, 1))))
            self._weekly(person, "three_questions", days, mood, scale=own)
        wanted = round(2 + self.spec.engagement * 3 + rng.uniform(-1, 1))
        diaries = max(2, min(5, wanted)) if first else rng.randint(1, 3)
        diary_days = set(rng.sample(days, min(diaries, len(days))))
        for day in days:
            self._daily(person, "day_in_the_life", day, day in diary_days, self._day_mood(mood))
        self._extras(person, first, week, days, mood)

    def _extras(self, person: _Person, first: bool, week: int, days: list[date], mood: str) -> None:
        """Reflections, boundaries, the household agreement, the law and learning modules."""
        rng = self.rng
        hard = 0.35 if mood == "hard" else 0.0
        if rng.random() < 0.25 + hard:
            self._by_hand(person, "incident_reflection", rng.choice(days), mood)
        if rng.random() < 0.2:
            self._by_hand(person, "boundaries_and_consequences", rng.choice(days), mood)
        if first and week < 2 and rng.random() < 0.3:
            self._by_hand(person, "household_agreement", rng.choice(days), mood)
        if first and rng.random() < 0.1:  # the law of their own nation, from the menu
            self._by_hand(person, "physical_punishment_law", rng.choice(days), mood, slot="learn")
        modules = rng.choices((0, 1, 2), (1, 3, 1 + 2 * self.spec.engagement))[0]
        for day in sorted(rng.sample(days, min(len(days), modules if first else modules // 2))):
            flow = LEARNING_MODULES[person.module % len(LEARNING_MODULES)]
            if self._by_hand(person, flow, day, mood, slot="learn", via="learn"):
                person.module += 1

    def _chore_praise(self, person: _Person, chore_days: list[date], mood: str) -> None:
        for day in self.rng.sample(chore_days, min(len(chore_days), self.rng.randint(0, 2))):
            self._by_hand(person, "chore_confirm", day, mood, via="menu")

    # --- children ----------------------------------------------------------------------

    def _child_week(self, person: _Person, days: list[date], mood: str) -> list[date]:
        rng = self.rng
        self._weekly(person, "three_houses", days, mood)
        lower = 3 if self.spec.engagement < 0.55 else 4
        chore_days = set(rng.sample(days, min(len(days), rng.randint(lower, 6))))
        for day in days:
            self._daily(person, "chore_checkin", day, day in chore_days, self._day_mood(mood))
        if rng.random() < (0.55 if mood == "hard" else 0.3):
            self._by_hand(person, "child_reflection", rng.choice(days), mood)
        if rng.random() < 0.3:
            self._by_hand(person, "feelings_checkin", rng.choice(days), mood)
        return sorted(chore_days)

    # --- kinds of action ---------------------------------------------------------------

    def _weekly(
        self, person: _Person, flow: str, days: list[date], mood: str, scale: int | None = None
    ) -> None:
        """A weekly flow: usually from its reminder, otherwise by hand the same day."""
        timing = reminder_time(person.spec.role, flow)
        if timing is None:
            return
        rule_days, at = timing
        for day in days:
            if rule_days and DAYS[day.weekday()] not in rule_days:
                continue
            due = local_at(day, at)
            if self.rng.random() < 0.8:
                self._from_reminder(person, flow, due, mood, scale=scale)
            else:
                self._by_hand(person, flow, day, mood, scale=scale, after=due)

    def _daily(self, person: _Person, flow: str, day: date, does_it: bool, mood: str) -> None:
        """A daily flow with a reminder: done from it, done by hand, declined or ignored."""
        timing = reminder_time(person.spec.role, flow)
        if timing is None:
            return
        due = local_at(day, timing[1])
        rng = self.rng
        if not does_it:
            if rng.random() < 0.15:
                self._from_reminder(person, flow, due, mood, response="skip")
            return  # otherwise the reminder is ignored
        if rng.random() < 0.65:
            response = "later" if rng.random() < 0.12 else "start"
            self._from_reminder(person, flow, due, mood, response=response)
        else:
            weekend = day.weekday() >= 5 and f"{flow}_weekend" in SLOTS
            self._by_hand(person, flow, day, mood, slot=f"{flow}_weekend" if weekend else flow)

    def _from_reminder(
        self,
        person: _Person,
        flow: str,
        due: datetime,
        mood: str,
        *,
        response: str = "start",
        scale: int | None = None,
    ) -> None:
        """Answer the reminder due at ``due`` a few minutes after it arrives (after *Later*,
        start it once it comes back an hour on)."""
        at = due + timedelta(minutes=self.rng.randint(2, 20), seconds=self.rng.randint(0, 59))
        if not self._book(person, at):
            return
        action = self._action(person, flow, at, "reminder", mood, response=response, due=due)
        self._add(person, action, scale)
        if response == "later":
            self.snoozes.add(at + SNOOZE)
            later = at + SNOOZE + timedelta(minutes=self.rng.randint(2, 9))
            if self._book(person, later):
                follow = self._action(person, flow, later, "reminder", mood, due=due)
                self._add(person, follow, scale)

    def _by_hand(
        self,
        person: _Person,
        flow: str,
        day: date,
        mood: str,
        *,
        slot: str | None = None,
        via: str | None = None,
        scale: int | None = None,
        after: datetime | None = None,
    ) -> bool:
        """Open a flow without a reminder, in the first free slot of the day (random order)."""
        rng = self.rng
        for start in rng.sample(SLOTS[slot or flow], len(SLOTS[slot or flow])):
            at = local_at(day, hhmm(start)) + timedelta(
                minutes=rng.randint(0, 11), seconds=rng.randint(0, 59)
            )
            if (after is None or at > after) and self._book(person, at):
                how = via or rng.choice(("command", "menu"))
                self._add(person, self._action(person, flow, at, how, mood), scale)
                return True
        return False

    # --- helpers -----------------------------------------------------------------------

    def _action(
        self, person: _Person, flow: str, at: datetime, via: str, mood: str, **kw: Any
    ) -> Action:
        """A new action of this family, numbered in planning order."""
        base = Action(at, self.spec.index, person.spec.key, flow, via, len(self.actions), mood)
        return replace(base, **kw)

    def _add(self, person: _Person, action: Action, scale: int | None) -> None:
        """Add an action, deciding whether it is left half-done and what a child shares."""
        changes: dict[str, Any] = {"scale": scale}
        if person.spec.role == "child" and action.flow in (
            "three_houses",
            "child_reflection",
            "feelings_checkin",
        ):
            person.shares += 1
            changes["share_family"] = (person.shares + person.spec.key + self.spec.index) % 2 == 0
            changes["share_worker"] = self.rng.random() < 0.5
        if action.response == "start":
            changes.update(self._ending(person, action))
        self.actions.append(replace(action, **changes))

    def _ending(self, person: _Person, action: Action) -> dict[str, Any]:
        """Whether this run is abandoned (left to expire) or stopped half-way."""
        rng = self.rng
        if rng.random() < ABANDON.get(action.flow, 0.0):
            cleared = self._cleared(person, action)
            if self._may_abandon(person, action.at, cleared):
                self._extend(person, action.at, cleared)
                return {"abandon_after": rng.randint(1, 3)}
        if action.flow in ("day_in_the_life", *LEARNING_MODULES) and rng.random() < 0.04:
            return {"stop_after": rng.randint(1, 3)}
        return {}

    def _may_abandon(self, person: _Person, at: datetime, cleared: datetime) -> bool:
        """Only if the run expires before the person's next weekly flow, before the family
        goes quiet or the member blocks the bot, before the end of the demo (nothing is left
        in progress), and clear of anything already planned."""
        limits = [self._next_weekly(person, at), self.timeline.end]
        if self.quiet_from is not None:
            limits.append(self.quiet_from)
        if self.spec.blocker == person.spec.key and self.spec.block_at is not None:
            limits.append(self.spec.block_at - BLOCK_CALM)
        if any(limit is not None and cleared >= limit for limit in limits):
            return False
        return not any(start < cleared and at < end for start, end in person.booked if start != at)

    def _next_weekly(self, person: _Person, after: datetime) -> datetime | None:
        """The next due time of the person's weekly reminder (check-in, three houses)."""
        for flow_id, days, at in DEFAULT_SCHEDULES.get(person.spec.role, ()):
            if days and flow_id in WEEKLY:
                return next_occurrence(Rule.parse(days, at), TIMEZONE, after)
        return None

    def _cleared(self, person: _Person, action: Action) -> datetime:
        """When the sweep will have expired this run (after quiet hours), plus a margin."""
        expires = action.at + self.expiries.get(action.flow, DEFAULT_EXPIRY)
        quiet = QUIET_HOURS.get(person.spec.role, QUIET_HOURS["parent"])
        return (in_quiet_hours(expires, TIMEZONE, *quiet) or expires) + SWEEP_MARGIN

    def _extend(self, person: _Person, at: datetime, until: datetime) -> None:
        """Keep the person free of other actions until an abandoned run has expired."""
        person.booked = [(s, e) for s, e in person.booked if s != at] + [(at, until)]

    def _book(self, person: _Person, at: datetime) -> bool:
        """Reserve time for an action, unless the person cannot or would not act then."""
        if at < self.start or at > self.timeline.end:
            return False
        if self.quiet_from is not None and at >= self.quiet_from:
            return False
        blocks = self.spec.blocker == person.spec.key and self.spec.block_at is not None
        if blocks and at >= (self.spec.block_at or at) - BLOCK_CALM:
            return False
        until = at + ACTION_LENGTH
        if until > self.timeline.end:  # everything started is over by the end
            return False
        if any(start < until and at < end for start, end in person.booked):
            return False
        person.booked.append((at, until))
        return True

    def _day_mood(self, mood: str) -> str:
        """A day's mood: usually the week's, sometimes a better or worse day."""
        table = {"good": (6, 3, 1), "mixed": (2.5, 5, 2.5), "hard": (1, 3, 6)}
        return self.rng.choices(("good", "mixed", "hard"), table[mood])[0]


def plan_families(
    families: tuple[FamilySpec, ...],
    timeline: Timeline,
    seed: int,
    expiries: Mapping[str, timedelta] | None = None,
) -> tuple[list[Action], set[datetime]]:
    """Every family's actions in global order, and the extra sweep times (snoozed reminders).

    ``expiries`` (flow id -> ``expires_after``) says how long a run left half-done stays open.
    """
    actions: list[Action] = []
    snoozes: set[datetime] = set()
    for spec in families:
        planner = FamilyPlanner(spec, timeline, seed, expiries)
        actions += planner.plan()
        snoozes |= planner.snoozes
    actions.sort(key=lambda a: a.order)
    return actions, snoozes


def daily_sweep_times() -> set[time]:
    """Local times the sweep must run each day: default reminders and the ends of quiet hours."""
    times = {hhmm(at) for defaults in DEFAULT_SCHEDULES.values() for _, _, at in defaults}
    return times | {hhmm(end) for _, end in QUIET_HOURS.values()}


def weeks_of(timeline: Timeline) -> Iterator[tuple[int, list[date]]]:
    """The timeline's days grouped by programme week."""
    by_week: dict[int, list[date]] = {}
    for day in timeline.days:
        by_week.setdefault(timeline.week_of(day), []).append(day)
    yield from sorted(by_week.items())
