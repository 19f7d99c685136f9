"""Who is in the demo: practitioners, families and their members, made up from the bank.

Each family gets a nation, one or two parents, one or two children, a stage (children back
home on trial, or in care with contact), how engaged it is and how its 0-10 scale moves over
the weeks. Exactly one family is *struggling* (its scale drifts down), one goes *quiet* (no
activity in the last week) and one has a second parent who *blocks the bot* (a set of one
family neither struggles nor goes quiet).

Telegram ids come from a reserved range (``DEMO_ID_BASE``), one block per demo set, so a
second seeding of the same database gets ids of its own.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, time

from rpbot.demo.bank import Bank, seeded
from rpbot.demo.timeline import Timeline, local_at

DEMO_ID_BASE = 7_700_000_000_000
SET_STRIDE = 10_000_000
MAX_SETS = 1_000
MEMBER_OFFSET = 1_000
BLOCK_TIME = time(19, 30)  # the blocker's diary reminder is the message Telegram refuses


@dataclass(frozen=True)
class PersonSpec:
    """One family member to enrol."""

    key: int
    role: str
    name: str
    telegram_id: int
    calls: str = ""  # a parent's "Mum" or "Dad", as the children say it
    age: int = 0  # a child's age


@dataclass(frozen=True)
class Trajectory:
    """How a family's 0-10 scale moves: ``start`` in week 0, ``slope`` per week."""

    kind: str
    start: float
    slope: float

    def scale(self, week: int, noise: float) -> int:
        """The scale a parent gives in ``week`` (0-10)."""
        wobble = (1.5 if week % 2 else -1.0) if self.kind == "wobbly" else 0.0
        return max(0, min(10, round(self.start + self.slope * week + wobble + noise)))


@dataclass(frozen=True)
class FamilySpec:
    """One demo family and its part in the story."""

    index: int
    name: str
    nation: str
    practitioner: int
    stage: str
    members: tuple[PersonSpec, ...]
    trajectory: Trajectory
    engagement: float
    quiet: bool = False
    blocker: int | None = None  # the key of the member who blocks the bot
    block_at: datetime | None = None

    @property
    def parents(self) -> list[PersonSpec]:
        """The parents, first parent first."""
        return [m for m in self.members if m.role == "parent"]

    @property
    def children(self) -> list[PersonSpec]:
        """The children."""
        return [m for m in self.members if m.role == "child"]


@dataclass(frozen=True)
class PractitionerSpec:
    """One demo practitioner."""

    name: str
    telegram_id: int


@dataclass(frozen=True)
class Cast:
    """Everyone in one demo set."""

    set_number: int
    practitioners: tuple[PractitionerSpec, ...]
    families: tuple[FamilySpec, ...]


def set_of(telegram_id: int) -> int | None:
    """The demo set a Telegram id belongs to, or None for a real person."""
    offset = telegram_id - DEMO_ID_BASE
    if 0 <= offset < SET_STRIDE * MAX_SETS:
        return offset // SET_STRIDE
    return None


class _Caster:
    """Makes up one demo set from the bank with one random stream."""

    def __init__(self, bank: Bank, seed: int, set_number: int) -> None:
        self.bank = bank
        self.rng = seeded(seed, "cast")
        self.base = DEMO_ID_BASE + set_number * SET_STRIDE
        self.next_member_id = self.base + MEMBER_OFFSET
        self.used_names: set[str] = set()
        self.used_first_names: set[str] = set()

    def practitioners(self, count: int) -> tuple[PractitionerSpec, ...]:
        names = self.bank.practitioners
        return tuple(
            PractitionerSpec(
                names[n % len(names)] + (f" ({n // len(names) + 1})" if n >= len(names) else ""),
                self.base + n + 1,
            )
            for n in range(count)
        )

    def family_name(self, nation: str) -> str:
        pool = self.bank.surnames.get(nation) or self.bank.surnames["england"]
        free = [n for n in pool if n not in self.used_names]
        name = self.rng.choice(free) if free else ""
        while not name or name in self.used_names:
            first, second = self.rng.sample(pool, 2)
            name = f"{first}-{second}"
            if len(self.used_names) > len(pool) ** 2 // 2:
                name = f"{first}-{second} {len(self.used_names)}"
        self.used_names.add(name)
        return name

    def person(self, key: int, role: str, name: str, calls: str = "", age: int = 0) -> PersonSpec:
        self.next_member_id += 1
        return PersonSpec(key, role, name, self.next_member_id, calls, age)

    def parents(self, count: int) -> list[PersonSpec]:
        names = self.bank.first_names
        first_calls = "Mum" if self.rng.random() < 0.75 else "Dad"
        calls = [first_calls]
        if count == 2:
            other = "Dad" if first_calls == "Mum" else "Mum"
            calls.append(other if self.rng.random() < 0.85 else first_calls)
        chosen: list[str] = []
        for who in calls:
            pool = [n for n in names["mums" if who == "Mum" else "dads"] if n not in chosen]
            chosen.append(self.first_name(pool))
        return [
            self.person(k, "parent", n, c)
            for k, (n, c) in enumerate(zip(chosen, calls, strict=True))
        ]

    def first_name(self, pool: list[str]) -> str:
        """A name from ``pool``, preferring one nobody in the set has yet."""
        fresh = [n for n in pool if n not in self.used_first_names]
        name = self.rng.choice(fresh or pool)
        self.used_first_names.add(name)
        return name

    def children(self, count: int, first_key: int) -> list[PersonSpec]:
        names: list[str] = []
        for _ in range(count):
            pool = [n for n in self.bank.first_names["children"] if n not in names]
            names.append(self.first_name(pool))
        return [
            self.person(first_key + n, "child", name, age=self.rng.randint(7, 15))
            for n, name in enumerate(names)
        ]

    def trajectory(self, struggling: bool) -> Trajectory:
        rng = self.rng
        if struggling:
            return Trajectory("struggling", rng.uniform(5.0, 6.5), rng.uniform(-1.3, -0.8))
        kind = rng.choices(("improving", "steady", "wobbly"), (5, 3, 2))[0]
        if kind == "improving":
            return Trajectory(kind, rng.uniform(2.5, 4.5), rng.uniform(0.7, 1.3))
        if kind == "steady":
            return Trajectory(kind, rng.uniform(5.0, 7.0), rng.uniform(-0.25, 0.25))
        return Trajectory(kind, rng.uniform(4.0, 6.0), 0.0)

    def family(self, index: int, practitioner: int, roles: dict[str, int]) -> FamilySpec:
        rng = self.rng
        nations = list(self.bank.nations)
        nation = rng.choices(nations, [self.bank.nations[n] for n in nations])[0]
        blocks = roles["blocker"] == index
        parents = self.parents(2 if blocks or rng.random() < 0.4 else 1)
        children = self.children(2 if rng.random() < 0.45 else 1, len(parents))
        struggling = roles["struggling"] == index
        return FamilySpec(
            index=index,
            name=self.family_name(nation),
            nation=nation,
            practitioner=practitioner,
            stage="home" if rng.random() < 0.45 else "contact",
            members=tuple(parents + children),
            trajectory=self.trajectory(struggling),
            engagement=rng.uniform(0.35, 0.5) if struggling else rng.uniform(0.5, 0.95),
            quiet=roles["quiet"] == index,
            blocker=parents[-1].key if blocks else None,
        )


def story_roles(rng: random.Random, families: int) -> dict[str, int]:
    """Which family goes quiet, which struggles and which has a member who blocks the bot.

    Three or more families: three different ones. Two: the one that struggles also has the
    blocker. One (e.g. the sandbox's): it neither goes quiet nor struggles, and -1 says so.
    """
    order = list(range(families))
    rng.shuffle(order)
    if families == 1:
        return {"quiet": -1, "struggling": -1, "blocker": order[0]}
    return {
        "quiet": order[0],
        "struggling": order[1],
        "blocker": order[2] if families > 2 else order[1],
    }


def block_time(timeline: Timeline) -> datetime:
    """When the blocker blocks the bot: a diary reminder about ten days before the end."""
    days = timeline.days
    day = days[max(1, len(days) - 11)] if len(days) > 1 else days[0]
    return local_at(day, BLOCK_TIME)


def make_cast(
    bank: Bank, *, seed: int, families: int, practitioners: int, set_number: int, timeline: Timeline
) -> Cast:
    """The practitioners and families of one demo set (the same seed gives the same cast)."""
    caster = _Caster(bank, seed, set_number)
    roles = story_roles(caster.rng, families)
    blocked_at = block_time(timeline)
    specs = []
    for index in range(families):
        spec = caster.family(index, index % practitioners, roles)
        if spec.blocker is not None:
            spec = replace(spec, block_at=blocked_at)
        specs.append(spec)
    return Cast(set_number, caster.practitioners(practitioners), tuple(specs))
