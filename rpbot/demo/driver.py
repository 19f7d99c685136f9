"""Carrying out planned actions through the family desk, as the bot does for a real person.

Every input is an :class:`~rpbot.services.incoming.Incoming` handed to
:meth:`FamilyDesk.handle` inside the caller's transaction: reminder buttons, commands, menu
buttons, answer buttons (with the real ``a1:run:prompt:value`` data, checked against the
session) and typed text. The desk and the conversations service save the answers and record
the messages in the outbox; :class:`OutboxLog` remembers those rows so they can be marked as
already handled (see :func:`mark_handled`).
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from rpbot.demo.answerer import Answerer, Persona, Reply
from rpbot.demo.bank import Bank, Fill, seeded
from rpbot.demo.cast import FamilySpec, PersonSpec
from rpbot.demo.plan import Action
from rpbot.engine import Library, Session
from rpbot.engine.model import AskStep
from rpbot.services.callbacks import answer_data, menu_data
from rpbot.services.family_desk import MOVED_ON, NOT_AVAILABLE, FamilyDesk
from rpbot.services.incoming import Incoming
from rpbot.services.menus import LEARN, menu_for
from rpbot.services.outbox import Outbox
from rpbot.services.reminders import WAIT_RECHECK, reminder_data
from rpbot.storage.repos import Repos
from rpbot.storage.tables import Family, FlowRun, Member, OutboxMessage, Reminder

MAX_QUESTIONS = 60  # a flow longer than this is a bug in the demo, not a person
REFUSED = (MOVED_ON, NOT_AVAILABLE, "That reminder has already been answered.")
BLOCKED = "blocked by the user"


@dataclass
class Counts:
    """What the demo did, for the summary (never any answer text)."""

    inputs: int = 0
    flows_started: int = 0
    abandoned: int = 0
    stopped: int = 0
    truncated: int = 0
    reminders_started: int = 0
    reminders_snoozed: int = 0
    reminders_declined: int = 0
    reminders_missing: int = 0
    refused: int = 0
    outbox_handled: int = 0
    sweeps: int = 0
    reminders_sent: int = 0
    reminders_skipped: int = 0
    nudged: int = 0
    expired: int = 0
    blocked: int = 0


@dataclass
class OutboxLog:
    """Outboxes made during one transaction, one per simulated instant."""

    repos: Repos
    outboxes: list[Outbox] = field(default_factory=list)

    def at(self, now: datetime) -> Outbox:
        """An outbox whose rows are dated ``now``."""
        out = Outbox(self.repos, now)
        self.outboxes.append(out)
        return out

    @property
    def rows(self) -> list[OutboxMessage]:
        """Every row recorded so far."""
        return [row for out in self.outboxes for row in out.rows]


async def mark_handled(repos: Repos, rows: list[OutboxMessage], skip: set[int]) -> int:
    """Mark historic outbox rows as sent (at their own time), as the sender does after a send.

    A bot started on the demo database then has nothing of the past left to send. Rows the
    sender would also scrub (``secret``) are scrubbed. Return how many were marked.
    """
    marked = 0
    await repos.session.flush()  # rows queued in this transaction get their ids
    for row in rows:
        if row.id is None or row.id in skip:
            continue
        scrub = json.loads(row.payload_json).get("secret") is True
        await repos.outbox.mark_sent(row.id, None, row.created_at, scrub=scrub)
        marked += 1
    return marked


async def block(repos: Repos, member: Member, now: datetime) -> set[int]:
    """The member blocked the bot: what the outbox sender does on a 403 (Forbidden).

    Their pending messages fail, the member becomes inactive (reminders stop) and the audit
    log says so. Return the ids of the rows marked failed.
    """
    failed: set[int] = set()
    for pending in await repos.outbox.pending(member.chat_id, limit=1000):
        await repos.outbox.mark_failed(pending.id or 0, BLOCKED, now)
        failed.add(pending.id or 0)
    if member.active:
        member.active = False
        await repos.members.save(member)
        await repos.audit.record(now, "system", None, "member_blocked_bot", "member", member.id)
    return failed


def think_time(rng: random.Random, reply: Reply) -> timedelta:
    """How long a person takes over one input."""
    kind, value = reply
    if kind == "text":
        return timedelta(seconds=rng.randint(15, 40) + len(value))
    return timedelta(seconds=rng.randint(3, 14))


class Driver:
    """Performs actions for the members of one family inside one transaction."""

    def __init__(
        self, desk: FamilyDesk, library: Library, bank: Bank, seed: int, end: datetime
    ) -> None:
        self.desk = desk
        self.library = library
        self.bank = bank
        self.seed = seed
        self.end = end
        self.counts = Counts()
        #: When runs left open (walked away from, or cut off by the end) fall due a nudge or
        #: expiry: the simulation sweeps at those instants too.
        self.follow_ups: set[datetime] = set()

    async def perform(
        self,
        log: OutboxLog,
        family: Family,
        members: dict[int, Member],
        spec: FamilySpec,
        action: Action,
    ) -> None:
        """Carry out one action: open the flow, then answer question by question."""
        member = members.get(spec.members[action.member].telegram_id)
        if member is None or not member.active:
            return
        act = _Act(self, log, family, member, spec, action)
        await act.run()


class _Act:
    """One action in progress: its clock, its random stream and its run."""

    def __init__(
        self,
        driver: Driver,
        log: OutboxLog,
        family: Family,
        member: Member,
        spec: FamilySpec,
        action: Action,
    ) -> None:
        self.d = driver
        self.log = log
        self.family = family
        self.member = member
        self.spec = spec
        self.action = action
        self.now = action.at
        self.rng = seeded(driver.seed, "act", spec.index, action.seq)
        self.answerer = Answerer(driver.bank, self.rng, self._persona())

    def _persona(self) -> Persona:
        person = self.spec.members[self.action.member]
        child = self._about_child(person)
        return Persona(
            mood=self.action.mood,
            fill=fill_for(self.spec, person, child),
            scale=self.action.scale,
            share_family=self.action.share_family,
            share_worker=self.action.share_worker,
            child_age=child.age if child is not None else 0,
        )

    def _about_child(self, person: PersonSpec) -> PersonSpec | None:
        children = [c for c in self.spec.children if c.key != person.key]
        return self.rng.choice(children) if children else None

    async def run(self) -> None:
        """Open the flow (reminder, command, menu or learning menu), then answer it."""
        action = self.action
        if action.via == "reminder":
            opened = await self._reminder()
        else:
            opened = await self._open(action.via)
        if not opened:
            return
        run = await self.repos.runs.active_for(self.member.id or 0)
        if run is None or run.flow_id != action.flow:
            return
        self.d.counts.flows_started += 1
        await self._answer(run)

    @property
    def repos(self) -> Repos:
        return self.log.repos

    async def _send(self, incoming: Incoming) -> bool:
        """One input through the family desk; False once past the end of the demo."""
        if self.now > self.d.end:
            return False
        out = self.log.at(self.now)
        notice = await self.d.desk.handle(
            self.repos, out, self.member, self.family, incoming, self.now
        )
        self.d.counts.inputs += 1
        if notice in REFUSED:
            self.d.counts.refused += 1
        return True

    def _button(self, data: str) -> Incoming:
        user = self.member.telegram_user_id or 0
        return Incoming(user_id=user, chat_id=self.member.chat_id or user, kind="button", data=data)

    def _text(self, text: str) -> Incoming:
        user = self.member.telegram_user_id or 0
        return Incoming(user_id=user, chat_id=self.member.chat_id or user, kind="text", text=text)

    def _command(self, command: str) -> Incoming:
        user = self.member.telegram_user_id or 0
        chat = self.member.chat_id or user
        return Incoming(user_id=user, chat_id=chat, kind="command", command=command)

    async def _reminder(self) -> bool:
        """Press a button on the reminder the sweep sent; open by command if there is none."""
        action = self.action
        reminder = await self._sent_reminder()
        if reminder is None:
            self.d.counts.reminders_missing += 1
            return action.response == "start" and await self._open("command")
        data = reminder_data(reminder.id or 0, action.response)
        if not await self._send(self._button(data)):
            return False
        counts = self.d.counts
        if action.response == "later":
            counts.reminders_snoozed += 1
        elif action.response == "skip":
            counts.reminders_declined += 1
        else:
            counts.reminders_started += 1
        return action.response == "start"

    async def _sent_reminder(self) -> Reminder | None:
        due = self.action.due or self.action.at
        found = await self.repos.reminders.for_member(
            self.member.id or 0, since=due - timedelta(minutes=1)
        )
        for reminder in found:
            if reminder.flow_id == self.action.flow and reminder.status == "sent":
                return reminder
        return None

    async def _open(self, via: str) -> bool:
        """Open the flow by command, menu button, or the learning menu."""
        flow = self.action.flow
        if via == "learn":
            if not await self._send(self._button(menu_data(LEARN))):
                return False
            self._tick(("button", LEARN))
            return await self._send(self._button(menu_data(flow)))
        command = next((i.command for i in menu_for(self.member.role) if i.target == flow), None)
        if via == "command" and command is not None:
            return await self._send(self._command(command))
        return await self._send(self._button(menu_data(flow)))

    def _tick(self, reply: Reply) -> None:
        self.now += think_time(self.rng, reply)

    async def _answer(self, run: FlowRun) -> None:
        """Answer question after question until the flow ends or the person walks away."""
        action, counts = self.action, self.d.counts
        for answered in range(MAX_QUESTIONS):
            if run.status != "active":
                return
            if action.abandon_after is not None and answered >= action.abandon_after:
                counts.abandoned += 1
                self._left_open(run)
                return
            if action.stop_after is not None and answered >= action.stop_after:
                self._tick(("button", "/stop"))
                if await self._send(self._command("stop")):
                    counts.stopped += 1
                return
            if not await self._answer_one(run):
                counts.truncated += 1
                self._left_open(run)
                return

    def _left_open(self, run: FlowRun) -> None:
        """Remember when the sweep has work to do for a run left open."""
        due = [run.nudge_at, run.expires_at, run.expires_at + WAIT_RECHECK]
        self.d.follow_ups |= {t for t in due if t is not None}

    async def _answer_one(self, run: FlowRun) -> bool:
        session = Session.from_json(run.session_json)
        flow = self.d.library[session.frame.flow_id]
        step = flow.steps[session.frame.step]
        if not isinstance(step, AskStep):
            return False
        for kind, value in self.answerer.replies(flow.id, step):
            self._tick((kind, value))
            if kind == "button":
                incoming = self._button(answer_data(run.id or 0, session.prompt, value))
            else:
                incoming = self._text(value)
            if not await self._send(incoming):
                return False
        return True


def fill_for(spec: FamilySpec, person: PersonSpec, child: PersonSpec | None) -> Fill:
    """What this person's answers may mention (names of the family, as they would say them)."""
    values: dict[str, str] = {}
    parents = spec.parents
    if person.role == "parent":
        if child is not None:
            values["child"] = child.name
        partner = [p for p in parents if p.key != person.key]
        if partner:
            values["partner"] = partner[0].name
    else:
        if parents:
            values["grown_up"] = parents[0].calls
        if child is not None:
            values["sibling"] = child.name
        if spec.stage == "contact":
            values["carer"] = "my foster carer"
    return Fill(values, spec.stage)
