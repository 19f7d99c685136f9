"""Running flows for family members: the engine in front, the database behind.

Each call works inside the caller's transaction: the session row, the answers and the messages
to send (outbox) are written together, so a crash loses nothing and sends nothing twice.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from rpbot import engine
from rpbot.engine import (
    AnswerSaved,
    CloseQuestion,
    Event,
    FlowEnded,
    Input,
    InvalidAnswer,
    Library,
    SendMessage,
    Session,
    SharingChanged,
    UpdateButtons,
)
from rpbot.engine.events import Button
from rpbot.engine.text import pick_language
from rpbot.services.callbacks import answer_data
from rpbot.services.outbox import Outbox, OutButton, layout
from rpbot.storage.repos import Repos
from rpbot.storage.tables import Family, FlowRun, Member

log = logging.getLogger(__name__)

#: Called (in the same transaction) after a flow run ends, e.g. to read its answers.
EndHook = Callable[[Repos, Outbox, Member, FlowRun, FlowEnded, datetime], Awaitable[None]]


class Conversations:
    """Starts and resumes members' flows and records what the engine asks for."""

    def __init__(self, library: Library) -> None:
        self.library = library
        self.end_hooks: list[EndHook] = []

    async def context_for(self, repos: Repos, member: Member, family: Family) -> dict[str, str]:
        """The engine context for a member: names, nation, language, timezone."""
        members = await repos.members.in_family(family.id or 0)
        children = [m.display_name for m in members if m.role == "child" and m.active]
        practitioner = await repos.practitioners.by_id(family.practitioner_id)
        context = {
            "first_name": member.display_name,
            "family_name": family.name,
            "nation": family.nation,
            "role": member.role,
            "language": member.language,
            "timezone": member.timezone,
        }
        if children:
            context["child_name"] = " and ".join(children) if len(children) < 3 else "your children"
        if practitioner is not None:
            context["practitioner_name"] = practitioner.name
        return context

    async def start(
        self, repos: Repos, out: Outbox, member: Member, family: Family, flow_id: str, now: datetime
    ) -> FlowRun:
        """Start ``flow_id`` for ``member``, putting aside any flow they were in."""
        current = await repos.runs.active_for(member.id or 0, lock=True)
        if current is not None:
            await self.put_aside(repos, out, member, current, now)
        flow = self.library[flow_id]
        context = await self.context_for(repos, member, family)
        session, events = engine.start(flow, context, now, self.library)
        run = await repos.runs.create(
            member.id or 0,
            family.id or 0,
            flow.id,
            flow.version,
            session.to_json(),
            now,
            session.expires_at,
        )
        await self.apply(repos, out, member, run, session, events, now)
        return run

    async def put_aside(
        self, repos: Repos, out: Outbox, member: Member, run: FlowRun, now: datetime
    ) -> None:
        """End a run the member left for another one; answers are kept."""
        run.status = "stopped"
        run.ended_at = now
        run.updated_at = now
        await repos.runs.save(run)
        session = Session.from_json(run.session_json)
        question = await repos.outbox.question_for(run.id or 0, session.prompt)
        if question is not None:
            await out.close(question, "")
        flow = self.library.get(run.flow_id)
        title = pick_language(flow.title, member.language) if flow else "that"
        await out.send(
            member.chat_id or 0,
            f"I've put '{title}' aside - what you shared is saved.",
            member_id=member.id,
        )

    async def resume(
        self, repos: Repos, out: Outbox, member: Member, run: FlowRun, given: Input, now: datetime
    ) -> None:
        """Carry ``run`` on with one input."""
        session = Session.from_json(run.session_json)
        flow = self.library.get(session.flow_id)
        if flow is None:  # the flow was removed from the dialogues: end kindly, keep answers
            flow = self.library[next(iter(self.library))]
        session, events = engine.resume(flow, session, given, now, self.library)
        await self.apply(repos, out, member, run, session, events, now)

    async def apply(
        self,
        repos: Repos,
        out: Outbox,
        member: Member,
        run: FlowRun,
        session: Session,
        events: list[Event],
        now: datetime,
    ) -> None:
        """Record the engine's events: answers, run state and the messages to send."""
        run_id = run.id or 0
        chat_id = member.chat_id or 0
        ended: list[FlowEnded] = []
        for event in events:
            if isinstance(event, SendMessage):
                prompt = event.prompt
                rows = self._rows(run_id, prompt, event.buttons) if prompt is not None else []
                await out.send(
                    chat_id,
                    event.text,
                    rows,
                    member_id=member.id,
                    run_id=run_id if event.kind == "question" else None,
                    prompt=prompt if event.kind == "question" else None,
                )
            elif isinstance(event, UpdateButtons):
                question = await repos.outbox.question_for(run_id, event.prompt)
                if question is not None:
                    await out.edit_buttons(
                        question, self._rows(run_id, event.prompt, event.buttons)
                    )
            elif isinstance(event, CloseQuestion):
                question = await repos.outbox.question_for(run_id, event.prompt)
                if question is not None:
                    await out.close(question, event.answer)
            elif isinstance(event, AnswerSaved):
                await repos.answers.add(
                    run_id,
                    member.id or 0,
                    run.family_id,
                    event.flow_id,
                    event.step_id,
                    event.name,
                    event.ask,
                    json.dumps(event.value, ensure_ascii=False),
                    event.text,
                    event.share,
                    now,
                    flush=False,  # written in one batch with the run and the messages
                )
            elif isinstance(event, SharingChanged):
                await repos.answers.set_share(run_id, event.flow_id, event.share)
            elif isinstance(event, FlowEnded):
                run.ended_at = now
                ended.append(event)
                log.info("flow %s ended: %s %s", event.flow_id, event.status, event.reason)
            elif isinstance(event, InvalidAnswer):
                log.info("unusable answer at %s (%s)", event.step_id, event.reason)
        run.session_json = session.to_json()
        run.status = session.status
        run.updated_at = now
        run.expires_at = session.expires_at
        run.nudge_at = self._nudge_at(session, now)
        await repos.runs.save(run)
        for event in ended:
            for hook in self.end_hooks:
                await hook(repos, out, member, run, event, now)

    def _nudge_at(self, session: Session, now: datetime) -> datetime | None:
        """When this run gets its one nudge (None: never, or already nudged)."""
        flow = self.library.get(session.flow_id)
        delay = flow.nudge_delay if flow is not None else None
        if not session.active or session.nudged or delay is None:
            return None
        return now + delay

    @staticmethod
    def _rows(
        run_id: int, prompt: int | None, buttons: tuple[Button, ...]
    ) -> list[list[OutButton]]:
        answers = [
            OutButton(b.label, answer_data(run_id, prompt or 0, b.value))
            for b in buttons
            if not b.value.startswith("/")
        ]
        commands = [
            OutButton(b.label, answer_data(run_id, prompt or 0, b.value))
            for b in buttons
            if b.value.startswith("/")
        ]
        return layout(answers, commands=commands)
