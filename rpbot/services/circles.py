"""Family circles: one prompt, everyone answers privately, then the round goes round.

``/circle`` (a parent, or the practitioner for one of their families) picks a prompt from
``dialogues/circle_prompts/en.yaml`` or types one, chooses everyone or some members (the order
they are chosen is the circle's turn order) and a deadline (tonight 21:00, tomorrow 21:00 or
in 3 days, in the starter's timezone). Each member is asked privately: their next typed
message is their answer (or they tap ✍️ Answer, e.g. while busy with an activity, or 🙅 Pass).
A child is then asked whether the answer may be shared with the family.

When everyone has answered, or at the deadline (the sweep claims due rounds with ``FOR UPDATE
SKIP LOCKED``, so two processes never close one twice), the round is shared with its members
in turn order: a child's answer only if they agreed, a late member shown kindly as having
passed. Questions and results wait for the end of a person's quiet hours. The practitioner
sees the round in the weekly digest.

State between the steps of ``/circle`` lives in the starter's row (``pending_json``); nothing
lives in memory.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from functools import cache
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from rpbot.dialogues import DEFAULT_DIR
from rpbot.engine.answers import visible
from rpbot.scheduling.rules import in_quiet_hours, zone
from rpbot.services.callbacks import MAX_BYTES, is_id
from rpbot.services.incoming import Incoming
from rpbot.services.outbox import Outbox, OutButton
from rpbot.services.refusals import refuse, target_id
from rpbot.storage.repos import Repos
from rpbot.storage.tables import Family, FlowRun, Member, Practitioner
from rpbot.storage.tables_circles import CircleRound, CircleTurn

log = logging.getLogger(__name__)

PROMPTS_FILE = DEFAULT_DIR / "circle_prompts" / "en.yaml"
CIRCLE = "c1"
ANSWER_MAX = 1000
DEADLINE_AT = time(21, 0)
DEADLINES = {"tonight": 0, "tomorrow": 1, "3d": 3}
DEADLINE_LABELS = {
    "tonight": "🌙 Tonight 21:00",
    "tomorrow": "📅 Tomorrow 21:00",
    "3d": "🗓 In 3 days",
}
EXPIRED = "That button has expired."
NOT_YOURS = "That isn't available here."
REFUSED = "That isn't one of your families."
CLOSED = "This circle has closed - thank you 💛"

Handled = tuple[bool, str | None]
NOT_HANDLED: Handled = (False, None)


# --- the prompts file ----------------------------------------------------------------


class CirclePrompt(BaseModel):
    """One prompt: adults' wording and (optionally) simpler words for children."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=40)
    kind: Literal["check-in", "check-out", "planning"]
    text: str = Field(min_length=1, max_length=200)
    child: str | None = Field(default=None, min_length=1, max_length=200)


class CirclePrompts(BaseModel):
    """The prompts file."""

    model_config = ConfigDict(extra="forbid")

    prompts: list[CirclePrompt] = Field(min_length=1, max_length=8)

    @field_validator("prompts")
    @classmethod
    def _unique(cls, value: list[CirclePrompt]) -> list[CirclePrompt]:
        ids = [p.id for p in value]
        twice = sorted({i for i in ids if ids.count(i) > 1})
        if twice:
            raise ValueError(f"prompt id used twice: {', '.join(twice)}")
        return value


def load_prompts(path: Path = PROMPTS_FILE) -> CirclePrompts:
    """Read and check a prompts file; ValueError says the file, the place and the problem."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return CirclePrompts.model_validate(data)
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot be read: {exc}") from None
    except ValidationError as exc:
        lines = [
            f"{path}: {'.'.join(str(p) for p in e['loc']) or '(top)'}: "
            + e["msg"].removeprefix("Value error, ")
            for e in exc.errors()
        ]
        raise ValueError("\n".join(lines)) from None


@cache
def default_prompts() -> CirclePrompts:
    """The shipped prompts, loaded once per process."""
    return load_prompts()


# --- buttons -------------------------------------------------------------------------


def circle_data(*parts: object) -> str:
    """Callback data for a circle button: ``c1:<action>:<args>``."""
    data = ":".join([CIRCLE, *(str(p) for p in parts)])
    if len(data.encode()) > MAX_BYTES:
        raise ValueError("callback data over 64 bytes")
    return data


def parse_circle(data: str) -> list[str] | None:
    """The action and arguments of a circle button, or None if it is not a well-formed one."""
    parts = data.split(":")
    if parts[0] != CIRCLE or len(parts) < 2 or not data.isascii():
        return None
    if any(part.isdigit() and not is_id(part) for part in parts):
        return None
    return parts[1:]


# --- who is starting a circle ----------------------------------------------------------


@dataclass
class Starter:
    """A practitioner or a parent setting up a circle."""

    kind: Literal["practitioner", "member"]
    row: Practitioner | Member
    chat: int

    @property
    def id(self) -> int:
        return self.row.id or 0

    @property
    def name(self) -> str:
        return self.row.name if isinstance(self.row, Practitioner) else self.row.display_name

    @property
    def timezone(self) -> str:
        return self.row.timezone

    def pending(self) -> dict[str, Any]:
        found = json.loads(self.row.pending_json) if self.row.pending_json else None
        return found if isinstance(found, dict) else {}

    async def set_pending(self, repos: Repos, state: dict[str, Any] | None) -> None:
        self.row.pending_json = json.dumps(state) if state is not None else None
        if isinstance(self.row, Practitioner):
            await repos.practitioners.save(self.row)
        else:
            await repos.members.save(self.row)


def local_when(when: datetime, tz: str) -> str:
    """'Tue 24 Nov at 21:00' in ``tz``."""
    at = when.astimezone(zone(tz))
    return f"{at.strftime('%a %d %b').replace(' 0', ' ')} at {at.strftime('%H:%M')}"


def deadline_for(choice: str, tz: str, now: datetime) -> datetime | None:
    """The deadline a button means (21:00 local on that day); None if it has passed."""
    days = DEADLINES.get(choice)
    if days is None:
        return None
    local = now.astimezone(zone(tz))
    at = datetime.combine(local.date() + timedelta(days=days), DEADLINE_AT, tzinfo=zone(tz))
    return at if at > now else None


def quiet_end(member: Member, now: datetime) -> datetime | None:
    """When the member's quiet hours end, if ``now`` is inside them."""
    return in_quiet_hours(now, member.timezone, member.quiet_start, member.quiet_end)


# --- the service ---------------------------------------------------------------------


class Circles:
    """Sets up circle rounds, takes answers, closes and shares rounds."""

    def __init__(self, prompts: CirclePrompts | None = None) -> None:
        self._prompts = prompts

    @property
    def prompts(self) -> list[CirclePrompt]:
        """The prompts offered by /circle."""
        if self._prompts is None:
            self._prompts = default_prompts()
        return self._prompts.prompts

    # --- entry points ------------------------------------------------------------

    async def practitioner(
        self,
        repos: Repos,
        out: Outbox,
        practitioner: Practitioner,
        incoming: Incoming,
        now: datetime,
    ) -> Handled:
        """Handle a practitioner's /circle, circle button or typed prompt (else not handled)."""
        starter = Starter("practitioner", practitioner, incoming.chat_id)
        if incoming.kind == "command" and incoming.command == "circle":
            await starter.set_pending(repos, None)
            families = await repos.families.for_practitioner(practitioner.id or 0)
            if not families:
                await out.send(starter.chat, "You have no families yet. Add one with /newfamily.")
            else:
                rows = [[OutButton(f.name, circle_data("f", f.id))] for f in families]
                await out.send(starter.chat, "Start a circle with which family?", rows)
            return True, None
        if incoming.kind == "button":
            parts = parse_circle(incoming.data or "")
            if parts is None:
                return NOT_HANDLED
            return True, await self._setup_button(repos, out, starter, parts, incoming, now)
        if incoming.kind == "text" and starter.pending().get("action") == "circle_prompt":
            await self._typed_prompt(repos, out, starter, incoming.text or "")
            return True, None
        return NOT_HANDLED

    async def member(
        self,
        repos: Repos,
        out: Outbox,
        member: Member,
        family: Family,
        run: FlowRun | None,
        incoming: Incoming,
        now: datetime,
    ) -> Handled:
        """Handle a member's /circle, circle button, typed prompt or circle answer."""
        chat = member.chat_id or incoming.chat_id
        starter = Starter("member", member, chat)
        if incoming.kind == "command" and incoming.command == "circle":
            if member.role != "parent":
                return NOT_HANDLED  # children answer circles; they do not start them
            await starter.set_pending(repos, None)
            await self._choose_prompt(out, starter, family)
            return True, None
        if incoming.kind == "button":
            parts = parse_circle(incoming.data or "")
            if parts is None:
                return NOT_HANDLED
            action, args = parts[0], parts[1:]
            if action in ("a", "p", "s"):
                return True, await self._turn_button(repos, out, member, action, args, now)
            if member.role != "parent":
                await refuse(repos, now, "member", member.id, "circle")
                return True, NOT_YOURS
            return True, await self._setup_button(repos, out, starter, parts, incoming, now)
        if incoming.kind != "text":
            return NOT_HANDLED
        text = incoming.text or ""
        pending = starter.pending()
        if pending.get("action") == "circle_prompt":
            await self._typed_prompt(repos, out, starter, text)
            return True, None
        if pending.get("action") == "circle_answer":
            await starter.set_pending(repos, None)
            turn = await repos.circles.turn(int(pending.get("turn", 0)))
            if turn is not None and turn.member_id == member.id:
                await self._answer(repos, out, member, turn, text, now)
                return True, None
        if run is None:
            turn = await repos.circles.open_turn_for(member.id or 0)
            if turn is not None:
                await self._answer(repos, out, member, turn, text, now)
                return True, None
        return NOT_HANDLED

    # --- setting a round up ------------------------------------------------------

    async def _choose_prompt(self, out: Outbox, starter: Starter, family: Family) -> None:
        rows = [
            [OutButton(p.text[:60], circle_data("q", family.id, i))]
            for i, p in enumerate(self.prompts)
        ]
        rows.append([OutButton("✏️ My own question", circle_data("q", family.id, "own"))])
        await out.send(
            starter.chat,
            "⭕ A circle: everyone answers the same question, then sees each other's answers, "
            "going round in turn. Which question?",
            rows,
        )

    async def _own_family(
        self, repos: Repos, starter: Starter, raw: str, now: datetime
    ) -> Family | None:
        family = await repos.families.by_id(int(raw)) if is_id(raw) else None
        row = starter.row
        if isinstance(row, Practitioner):
            mine = family is not None and family.practitioner_id == row.id
        else:
            mine = family is not None and family.id == row.family_id and row.role == "parent"
        if not mine:
            await refuse(repos, now, starter.kind, starter.id, "family", target_id(raw))
            return None
        return family

    async def _members(self, repos: Repos, family: Family) -> list[Member]:
        members = await repos.members.in_family(family.id or 0)
        return [m for m in members if m.active and m.chat_id is not None]

    async def _setup_button(
        self,
        repos: Repos,
        out: Outbox,
        starter: Starter,
        parts: list[str],
        incoming: Incoming,
        now: datetime,
    ) -> str | None:
        action, args = parts[0], parts[1:]
        if action not in ("f", "q", "m", "all", "ok", "d") or not args:
            return EXPIRED
        family = await self._own_family(repos, starter, args[0], now)
        if family is None:
            return REFUSED if starter.kind == "practitioner" else NOT_YOURS
        pending = starter.pending()
        same = pending.get("action") == "circle_setup" and pending.get("family") == family.id
        if action == "f" and starter.kind == "practitioner":
            await self._choose_prompt(out, starter, family)
            return None
        if action == "q" and len(args) > 1:
            if args[1] == "own":
                await starter.set_pending(repos, {"action": "circle_prompt", "family": family.id})
                await out.send(starter.chat, "Type the question for the circle (one line):")
                return None
            if not is_id(args[1]) or int(args[1]) >= len(self.prompts):
                return EXPIRED
            chosen = self.prompts[int(args[1])]
            state: dict[str, Any] = {
                "action": "circle_setup",
                "family": family.id,
                "prompt": chosen.text,
                "child_prompt": chosen.child,
                "prompt_id": chosen.id,
                "members": [],
            }
            await starter.set_pending(repos, state)
            await self._choose_members(repos, out, starter, family, state)
            return None
        if not same:
            return EXPIRED
        members = await self._members(repos, family)
        if action == "m" and len(args) > 1 and is_id(args[1]):
            wanted = int(args[1])
            if wanted not in {m.id for m in members}:
                await refuse(repos, now, starter.kind, starter.id, "member", wanted)
                return NOT_YOURS
            chosen_ids: list[int] = list(pending.get("members", []))
            if wanted in chosen_ids:
                chosen_ids.remove(wanted)
            else:
                chosen_ids.append(wanted)
            pending["members"] = chosen_ids
            await starter.set_pending(repos, pending)
            if incoming.message_id is not None:
                await out.drop_buttons(starter.chat, incoming.message_id)
            await self._choose_members(repos, out, starter, family, pending)
            return None
        if action in ("all", "ok"):
            if action == "all":
                pending["members"] = [m.id for m in members]
            pending["members"] = [
                i for i in pending.get("members", []) if i in {m.id for m in members}
            ]
            if not pending["members"]:
                return "Choose at least one person first."
            await starter.set_pending(repos, pending)
            if incoming.message_id is not None:
                await out.drop_buttons(starter.chat, incoming.message_id)
            rows = [
                [OutButton(label, circle_data("d", family.id, key))]
                for key, label in DEADLINE_LABELS.items()
                if deadline_for(key, starter.timezone, now) is not None
            ]
            await out.send(starter.chat, "When should everyone have answered by?", rows)
            return None
        if action == "d" and len(args) > 1:
            deadline = deadline_for(args[1], starter.timezone, now)
            if deadline is None or not pending.get("members"):
                return EXPIRED
            await starter.set_pending(repos, None)
            if incoming.message_id is not None:
                await out.drop_buttons(starter.chat, incoming.message_id)
            by_id = {m.id: m for m in members}
            people = [by_id[i] for i in pending["members"] if i in by_id]
            await self.start(repos, out, starter, family, pending, people, deadline, now)
            return None
        return EXPIRED

    async def _typed_prompt(self, repos: Repos, out: Outbox, starter: Starter, text: str) -> None:
        pending = starter.pending()
        prompt = " ".join(visible(text).split())
        if not prompt or len(prompt) > 200:
            await out.send(starter.chat, "Please type a question of 1-200 characters (or /menu).")
            return
        family = await repos.families.by_id(int(pending.get("family", 0)))
        if family is None:
            await starter.set_pending(repos, None)
            await out.send(starter.chat, EXPIRED)
            return
        state: dict[str, Any] = {
            "action": "circle_setup",
            "family": family.id,
            "prompt": prompt,
            "child_prompt": None,
            "prompt_id": None,
            "members": [],
        }
        await starter.set_pending(repos, state)
        await self._choose_members(repos, out, starter, family, state)

    async def _choose_members(
        self, repos: Repos, out: Outbox, starter: Starter, family: Family, state: dict[str, Any]
    ) -> None:
        members = await self._members(repos, family)
        if not members:
            await starter.set_pending(repos, None)
            await out.send(starter.chat, f"Nobody in the {family.name} family has joined yet.")
            return
        chosen: list[int] = list(state.get("members", []))
        names = {m.id: m.display_name for m in members}
        rows = [[OutButton("👪 Everyone", circle_data("all", family.id))]]
        for m in members:
            mark = f"✅ {chosen.index(m.id) + 1}." if m.id in chosen else "➕"
            rows.append([OutButton(f"{mark} {m.display_name}", circle_data("m", family.id, m.id))])
        if chosen:
            rows.append([OutButton("✔️ Done", circle_data("ok", family.id))])
        order = ", ".join(f"{i}. {names[c]}" for i, c in enumerate(chosen, 1) if c in names)
        text = (
            f"⭕ “{state.get('prompt')}”\n\nWho is in this circle? Tap Everyone, or tap people in "
            "the order the circle should go round." + (f"\n\nSo far: {order}" if order else "")
        )
        await out.send(starter.chat, text, rows)

    # --- starting, answering, closing --------------------------------------------

    async def start(
        self,
        repos: Repos,
        out: Outbox,
        starter: Starter,
        family: Family,
        state: dict[str, Any],
        people: list[Member],
        deadline: datetime,
        now: datetime,
    ) -> CircleRound:
        """Record the round and ask each member (now, or when their quiet hours end)."""
        circle = await repos.circles.create(
            family.id or 0,
            starter.kind,
            starter.id,
            starter.name,
            str(state.get("prompt")),
            deadline,
            now,
            prompt_id=state.get("prompt_id"),
            child_prompt=state.get("child_prompt"),
        )
        for position, member in enumerate(people, start=1):
            later = quiet_end(member, now)
            turn = await repos.circles.add_turn(
                circle.id or 0, member.id or 0, position, later or now
            )
            if later is None:
                await self._ask(repos, out, circle, turn, member, now)
        await repos.audit.record(
            now, starter.kind, starter.id, "circle_started", "circle", circle.id, f"{len(people)}"
        )
        names = ", ".join(m.display_name for m in people)
        await out.send(
            starter.chat,
            f"⭕ The circle has started: {names}.\n"
            f"Answers by {local_when(deadline, starter.timezone)}. Everyone sees the answers, "
            "in that order, when all have answered or at the "
            "deadline."
            + (" You'll see it in your digest." if starter.kind == "practitioner" else ""),
        )
        return circle

    async def _ask(
        self,
        repos: Repos,
        out: Outbox,
        circle: CircleRound,
        turn: CircleTurn,
        member: Member,
        now: datetime,
    ) -> None:
        busy = await repos.runs.active_for(member.id or 0) is not None
        when = local_when(circle.deadline_at, member.timezone)
        if member.role == "child":
            prompt = circle.child_prompt or circle.prompt
            text = (
                f"⭕ Circle time, {member.display_name}!\n\n“{prompt}”\n\n"
                + ("Tap ✍️ Answer when you're ready. " if busy else "Type your answer here. ")
                + f"It's fine to pass 🙂 Everyone sees the answers after {when}, or sooner "
                "if everyone has answered."
            )
        else:
            text = (
                f"⭕ A family circle from {circle.starter_name}\n\n“{circle.prompt}”\n\n"
                "Everyone in the circle answers this question in their own words. The answers "
                f"are shared with the circle when all have answered, or on {when}. "
                + (
                    "When you're ready, tap ✍️ Answer."
                    if busy
                    else "Just type your answer here, or tap 🙅 Pass."
                )
            )
        rows = [
            [
                OutButton("✍️ Answer", circle_data("a", turn.id)),
                OutButton("🙅 Pass", circle_data("p", turn.id)),
            ]
        ]
        await out.send(member.chat_id or 0, text, rows, member_id=member.id)
        turn.status, turn.asked_at = "asked", now
        await repos.circles.save(turn)

    async def _turn_button(
        self, repos: Repos, out: Outbox, member: Member, action: str, args: list[str], now: datetime
    ) -> str | None:
        turn = await repos.circles.turn(int(args[0])) if args and is_id(args[0]) else None
        if turn is None or turn.member_id != member.id:
            if turn is not None:
                await refuse(repos, now, "member", member.id, "circle", turn.round_id)
            return NOT_YOURS
        circle = await repos.circles.by_id(turn.round_id, lock=True)
        turn = await repos.circles.turn(turn.id or 0)
        if circle is None or turn is None or circle.status != "open":
            return CLOSED
        chat = member.chat_id or 0
        if action == "a":
            if turn.status != "asked":
                return "You've already answered - thank you 🌟"
            await Starter("member", member, chat).set_pending(
                repos, {"action": "circle_answer", "turn": turn.id}
            )
            prompt = circle.child_prompt if member.role == "child" and circle.child_prompt else None
            await out.send(
                chat,
                f"Type your answer to “{prompt or circle.prompt}”:",
                member_id=member.id,
            )
            return None
        if action == "p":
            if turn.status != "asked":
                return "You've already answered - thank you 🌟"
            turn.status, turn.answered_at = "passed", now
            await repos.circles.save(turn)
            await out.send(chat, "That's fine - you've passed this time 💛", member_id=member.id)
            await self._maybe_close(repos, out, circle, now)
            return None
        if action == "s" and len(args) > 1 and args[1] in ("y", "n") and member.role == "child":
            if turn.status != "answered" or turn.share_ok is not None:
                return "You've chosen already 🙂"
            turn.share_ok = args[1] == "y"
            await repos.circles.save(turn)
            reply = (
                "Thank you! Your family will see your answer 👍"
                if turn.share_ok
                else "Okay, your answer stays private 🔒"
            )
            await out.send(chat, reply, member_id=member.id)
            await self._maybe_close(repos, out, circle, now)
            return None
        return EXPIRED

    async def _answer(
        self, repos: Repos, out: Outbox, member: Member, turn: CircleTurn, text: str, now: datetime
    ) -> None:
        chat = member.chat_id or 0
        circle = await repos.circles.by_id(turn.round_id, lock=True)
        fresh = await repos.circles.turn(turn.id or 0)
        if circle is None or fresh is None or circle.status != "open" or fresh.status != "asked":
            await out.send(chat, CLOSED, member_id=member.id)
            return
        answer = " ".join(visible(text).split())
        if not answer:
            await out.send(chat, "Type a few words, or tap 🙅 Pass.", member_id=member.id)
            return
        fresh.answer = answer[:ANSWER_MAX]
        fresh.status, fresh.answered_at = "answered", now
        await repos.circles.save(fresh)
        if member.role == "child":
            rows = [
                [
                    OutButton("👍 Yes, share it", circle_data("s", fresh.id, "y")),
                    OutButton("🔒 Keep it private", circle_data("s", fresh.id, "n")),
                ]
            ]
            await out.send(
                chat,
                f"Thank you, {member.display_name} 🌟 Can I share your answer with your family?",
                rows,
                member_id=member.id,
            )
            return
        await out.send(
            chat,
            "Thank you 🌟 Your answer is saved. I'll share everyone's answers when the circle "
            "closes.",
            member_id=member.id,
        )
        await self._maybe_close(repos, out, circle, now)

    async def _maybe_close(
        self, repos: Repos, out: Outbox, circle: CircleRound, now: datetime
    ) -> None:
        """Close the round if every turn is done (a child's with their sharing choice)."""
        turns = await repos.circles.turns(circle.id or 0)
        members = await repos.members.by_ids(t.member_id for t in turns)
        for turn in turns:
            member = members.get(turn.member_id)
            if turn.status in ("waiting", "asked"):
                return
            child = member is not None and member.role == "child"
            if turn.status == "answered" and child and turn.share_ok is None:
                return
        await self.close(repos, out, circle, now, "all_answered")

    async def close(
        self, repos: Repos, out: Outbox, circle: CircleRound, now: datetime, reason: str
    ) -> None:
        """Close a round (the caller holds its row) and share it with every member in it."""
        circle.status, circle.closed_at, circle.close_reason = "closed", now, reason
        await repos.circles.save(circle)
        turns = await repos.circles.turns(circle.id or 0)
        members = await repos.members.by_ids(t.member_id for t in turns)
        for turn in turns:
            if turn.status in ("waiting", "asked"):
                turn.status = "late"
            member = members.get(turn.member_id)
            if member is None or not member.active or member.chat_id is None:
                turn.notify_at = turn.notified_at = now  # nobody to tell
            else:
                later = quiet_end(member, now)
                turn.notify_at = later or now
                if later is None:
                    await self._share(out, circle, turns, members, member)
                    turn.notified_at = now
            await repos.circles.save(turn)
        log.info("circle %s closed (%s)", circle.id, reason)

    async def _share(
        self,
        out: Outbox,
        circle: CircleRound,
        turns: list[CircleTurn],
        members: dict[int, Member],
        reader: Member,
    ) -> None:
        await out.send(
            reader.chat_id or 0, round_text(circle, turns, members, reader), member_id=reader.id
        )

    # --- the sweep -------------------------------------------------------------

    async def sweep(self, repos: Repos, out: Outbox, now: datetime, *, limit: int = 500) -> int:
        """Close rounds whose deadline has come; send questions and results held back by
        quiet hours. Returns the most rows one claim took (== ``limit``: sweep again)."""
        rounds = await repos.circles.due_rounds(now, limit)
        for due in rounds:
            await self.close(repos, out, due, now, "deadline")
        turns = await repos.circles.due_turns(now, limit)
        for turn in turns:
            circle = await repos.circles.by_id(turn.round_id)
            member = await repos.members.by_id(turn.member_id)
            if circle is None or member is None or not member.active or member.chat_id is None:
                turn.notified_at = now
                if turn.status == "waiting":
                    turn.status = "late" if circle is None or circle.status != "open" else "passed"
                await repos.circles.save(turn)
                continue
            later = quiet_end(member, now)
            if later is not None:  # still quiet (e.g. a timezone change): try again then
                if turn.status == "waiting":
                    turn.ask_at = later
                else:
                    turn.notify_at = later
                await repos.circles.save(turn)
                continue
            if turn.status == "waiting":
                await self._ask(repos, out, circle, turn, member, now)
                continue
            everyone = await repos.circles.turns(circle.id or 0)
            people = await repos.members.by_ids(t.member_id for t in everyone)
            await self._share(out, circle, everyone, people, member)
            turn.notified_at = now
            await repos.circles.save(turn)
        return max(len(rounds), len(turns))


def round_text(
    circle: CircleRound, turns: list[CircleTurn], members: dict[int, Member], reader: Member
) -> str:
    """The shared round as one message, in turn order, for ``reader``."""
    child_reader = reader.role == "child"
    prompt = circle.child_prompt if child_reader and circle.child_prompt else circle.prompt
    lines = [
        "⭕ Here's what everyone said:" if child_reader else "⭕ The family circle is complete",
        f"“{prompt}”",
        "",
    ]
    for index, turn in enumerate(turns, start=1):
        member = members.get(turn.member_id)
        name = member.display_name if member is not None else "Someone"
        lines.append(f"{index}. {turn_line(turn, member, name)}")
    lines += [
        "",
        "Thank you for joining in! 🌟"
        if child_reader
        else "Thank you for taking part 🌟 If you talk about it together, take turns and listen.",
    ]
    return "\n".join(lines)


def turn_line(turn: CircleTurn, member: Member | None, name: str) -> str:
    """One person's place in the shared round."""
    if turn.status == "answered" and turn.answer:
        if member is not None and member.role == "child" and turn.share_ok is not True:
            return f"{name} kept their answer private 🔒"
        return f"{name}: “{turn.answer}”"
    return f"{name} passed this time 💛"
