"""Running flows: ``start`` a session, ``resume`` it with one input, get events back.

Pure and synchronous. The caller does all I/O: it stores the returned session and carries out
the events (send messages, save answers). Bad answers are re-prompts, never exceptions.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from rpbot.engine.answers import Parsed, Unusable, parse_answer, visible
from rpbot.engine.conditions import choose_next, first_match
from rpbot.engine.events import (
    DONE_VALUE,
    SKIP_VALUE,
    STOP_VALUE,
    AnswerSaved,
    Button,
    CloseQuestion,
    Event,
    FlowEnded,
    InvalidAnswer,
    Nudged,
    SendMessage,
    SharingChanged,
    UpdateButtons,
)
from rpbot.engine.inputs import (
    ButtonInput,
    CommandInput,
    Expired,
    Input,
    MediaInput,
    NudgeDue,
    TextInput,
)
from rpbot.engine.library import Library
from rpbot.engine.model import AskStep, BranchStep, CallStep, EndStep, Flow, SayStep, ShareLevel
from rpbot.engine.phrases import phrase
from rpbot.engine.render import Renderer
from rpbot.engine.session import Frame, Session

#: Steps run without input before the engine gives up (a say/branch loop in a flow).
MAX_STEPS_PER_INPUT = 500


def start(
    flow: Flow, context: Mapping[str, str], now: datetime, library: Library | None = None
) -> tuple[Session, list[Event]]:
    """Begin ``flow`` for a person described by ``context``; return the session and events.

    ``library`` supplies sub-flows and facts (law, helplines); without it only ``flow`` is
    known. ``now`` must be timezone-aware.
    """
    _check_aware(now)
    session = Session(
        flow_id=flow.id,
        flow_version=flow.version,
        stack=[Frame(flow_id=flow.id, flow_version=flow.version, step=flow.start)],
        context=dict(context),
        started_at=now,
        updated_at=now,
        expires_at=now + flow.expiry,
    )
    run = _Run(session, _library_for(flow, library), now)
    run.advance()
    return run.session, run.events


def resume(
    flow: Flow, session: Session, given: Input, now: datetime, library: Library | None = None
) -> tuple[Session, list[Event]]:
    """Carry ``session`` (a run of ``flow``) on with one input; return the new session and events.

    The given session is not changed. A person's input always gets at least one event back.
    """
    _check_aware(now)
    run = _Run(_copy(session), _library_for(flow, library), now)
    run.handle(given)
    return run.session, run.events


def _check_aware(now: datetime) -> None:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be timezone-aware (use datetime.now(UTC))")


def _library_for(flow: Flow, library: Library | None) -> Library:
    if library is None:
        return Library(flows={flow.id: flow}, facts=None)
    if flow.id not in library.flows:
        return Library(flows={**library.flows, flow.id: flow}, facts=library.facts)
    return library


def _copy(session: Session) -> Session:
    # Frames and history entries are never mutated, so copying the containers is enough.
    return session.model_copy(
        update={
            "stack": list(session.stack),
            "answers": {k: dict(v) for k, v in session.answers.items()},
            "share_overrides": dict(session.share_overrides),
            "history": list(session.history),
            "selection": list(session.selection),
        }
    )


class _Run:
    """One call of start/resume: the working session and the events produced so far."""

    def __init__(self, session: Session, library: Library, now: datetime) -> None:
        self.session = session
        self.library = library
        self.now = now
        self.events: list[Event] = []
        self.audience = library[session.flow_id].audience if session.flow_id in library else ""
        self.language = session.context.get("language", "en")
        self.summary: str | None = None

    # --- helpers ---------------------------------------------------------------------

    def say(self, key: str, kind: str = "info", **values: object) -> None:
        text = phrase(key, self.audience, self.language, **values)
        self.events.append(SendMessage(text=text, kind=kind))  # type: ignore[arg-type]

    def flow(self, frame: Frame | None = None) -> Flow:
        return self.library[(frame or self.session.frame).flow_id]

    def renderer(self, frame: Frame | None = None) -> Renderer:
        flow = self.flow(frame)
        return Renderer(
            flow=flow,
            context=self.session.context,
            answers=self.session.answers.get(flow.id, {}),
            facts=self.library.facts,
            language=self.language,
        )

    def current_ask(self) -> AskStep | None:
        step = self.flow().steps.get(self.session.frame.step)
        return step if isinstance(step, AskStep) else None

    def move(self, step_id: str) -> None:
        frame = self.session.frame
        self.session.stack[-1] = Frame(
            flow_id=frame.flow_id, flow_version=frame.flow_version, step=step_id
        )

    # --- entry points ----------------------------------------------------------------

    def handle(self, given: Input) -> None:
        session = self.session
        user_input = not isinstance(given, NudgeDue | Expired)
        if not session.active:
            if user_input:
                self.say("not_active")
            return
        if isinstance(given, Expired) or self.now >= session.expires_at:
            self.finish("expired", "expired", message="expired")
            return
        if not self._flows_still_fit():
            self.finish("stopped", "flow_changed", message="flow_changed")
            return
        if isinstance(given, NudgeDue):
            self.nudge()
            return
        session.updated_at = self.now
        if isinstance(given, ButtonInput):
            if given.prompt is not None and given.prompt != session.prompt:
                self.say("moved_on")
                return
            command = {SKIP_VALUE: "skip", STOP_VALUE: "stop"}.get(given.value)
            if command is not None:
                given = CommandInput(command)  # type: ignore[arg-type]
            elif given.value == DONE_VALUE:
                self.finish_selection()
                return
        if isinstance(given, CommandInput):
            self.command(given.command)
            return
        self.answer(given)

    def _flows_still_fit(self) -> bool:
        """Whether every frame still points at a step of the right kind (flows may change)."""
        last = len(self.session.stack) - 1
        for index, frame in enumerate(self.session.stack):
            flow = self.library.flows.get(frame.flow_id)
            step = flow.steps.get(frame.step) if flow is not None else None
            wanted = AskStep if index == last else CallStep
            if not isinstance(step, wanted):
                return False
        return True

    # --- moving through steps --------------------------------------------------------

    def advance(self, step_id: str | None = None) -> None:
        """Run steps from ``step_id`` (default: the current one) until a question or the end."""
        if step_id is not None:
            self.move(step_id)
        for _ in range(MAX_STEPS_PER_INPUT):
            flow = self.flow()
            step = flow.steps[self.session.frame.step]
            if isinstance(step, AskStep):
                self.ask(step)
                return
            if isinstance(step, SayStep):
                self.events.append(SendMessage(self.renderer().render(step.say), kind="say"))
                target = choose_next(step.next, self.condition_values())
            elif isinstance(step, BranchStep):
                target = first_match(step.branch, self.condition_values())
            elif isinstance(step, CallStep):
                sub = self.library[step.call]
                self.session.stack.append(
                    Frame(flow_id=sub.id, flow_version=sub.version, step=sub.start)
                )
                self.session.answers.setdefault(sub.id, {})
                continue
            else:
                self.end_step(step)
                target = None
            if target is None:
                if not self.return_from_flow():
                    return
                continue
            self.move(target)
        self.finish("stopped", "loop", message="stopped")

    def condition_values(self) -> tuple[Mapping[str, object], Mapping[str, str]]:
        answers = self.session.answers.get(self.session.frame.flow_id, {})
        context = {**self.session.context, "audience": self.audience}
        return answers, context

    def end_step(self, step: EndStep) -> None:
        renderer = self.renderer()
        if step.text is not None:
            self.events.append(SendMessage(renderer.render(step.text), kind="end"))
        if step.summary is not None:
            summary = renderer.render(step.summary)
            self.events.append(SendMessage(summary, kind="summary"))
            if len(self.session.stack) == 1:
                self.summary = summary

    def return_from_flow(self) -> bool:
        """The current flow is done: pop it. Return True if a calling flow carries on."""
        if len(self.session.stack) == 1:
            self.finish("completed", "", message=None)
            return False
        self.session.stack.pop()
        caller = self.flow().steps[self.session.frame.step]
        assert isinstance(caller, CallStep)
        target = choose_next(caller.next, self.condition_values())
        if target is None:
            return self.return_from_flow()
        self.move(target)
        return True

    def finish(self, status: str, reason: str, message: str | None) -> None:
        if message is not None:
            self.say(message, kind="end")
        self.session.status = status  # type: ignore[assignment]
        self.session.updated_at = self.now
        self.events.append(
            FlowEnded(
                flow_id=self.session.flow_id,
                status=status,  # type: ignore[arg-type]
                reason=reason,
                summary=self.summary,
                answers=dict(self.session.answers.get(self.session.flow_id, {})),
            )
        )

    # --- questions -------------------------------------------------------------------

    def ask(self, step: AskStep, *, remember: bool = True) -> None:
        session = self.session
        session.prompt += 1
        session.retries = 0
        session.way_out_offered = False
        session.selection = []
        if remember:
            session.history.append(list(session.stack))
        renderer = self.renderer()
        text = renderer.render(step.text)
        if step.why is not None:
            text = f"{text}\n\n{renderer.render(step.why)}"
        self.events.append(
            SendMessage(
                text=text,
                kind="question",
                buttons=self.buttons(step),
                prompt=session.prompt,
                ask=step.ask,
            )
        )

    def buttons(self, step: AskStep) -> tuple[Button, ...]:
        renderer = self.renderer()
        selected = set(self.session.selection)
        buttons: list[Button] = []
        if step.ask in ("choice", "multi"):
            for option in step.choices():
                label = renderer.render(option.label)
                ticked = step.ask == "multi" and option.value in selected
                buttons.append(Button(option.value, f"✅ {label}" if ticked else label, ticked))
            if step.ask == "multi":
                buttons.append(Button(DONE_VALUE, phrase("done_button", self.audience)))
        elif step.ask == "yes_no":
            yes = (
                renderer.render(step.yes_label) if step.yes_label else phrase("yes", self.audience)
            )
            no = renderer.render(step.no_label) if step.no_label else phrase("no", self.audience)
            buttons += [Button("yes", yes), Button("no", no)]
        elif step.ask == "scale":
            low, high = int(step.min or 0), int(step.max or 0)
            for value in range(low, high + 1):
                point = (step.labels or {}).get(value)
                shown = f"{renderer.render(point)} {value}" if point is not None else str(value)
                buttons.append(Button(str(value), shown))
        if step.optional:
            buttons.append(Button(SKIP_VALUE, phrase("skip_button", self.audience)))
        return tuple(buttons)

    def answer(self, given: TextInput | ButtonInput | MediaInput) -> None:
        step = self.current_ask()
        if step is None:  # pragma: no cover - an active session always waits at a question
            self.say("not_active")
            return
        if step.ask == "multi" and isinstance(given, ButtonInput):
            self.toggle(step, given.value)
            return
        timezone = self.session.context.get("timezone", "Europe/London")
        result = parse_answer(step, given, self.language, self.now, timezone)
        if isinstance(result, Unusable):
            self.invalid(step, result.reason)
            return
        self.save(step, result)

    def save(self, step: AskStep, result: Parsed) -> None:
        session = self.session
        frame = session.frame
        flow = self.flow()
        session.answers.setdefault(flow.id, {})[step.answer_name] = result.value
        shown = result.display
        if result.value is not None and step.ask in ("choice", "multi", "yes_no"):
            shown = self.renderer().show_answer(step.answer_name)  # labels with variables filled
        self.events.append(CloseQuestion(prompt=session.prompt, answer=shown))
        self.events.append(
            AnswerSaved(
                flow_id=flow.id,
                step_id=frame.step,
                name=step.answer_name,
                ask=step.ask,
                value=result.value,
                share=self.share_level(flow, step),
                text=result.text,
            )
        )
        if step.share_answers is not None and result.value is True:
            session.share_overrides[flow.id] = step.share_answers
            self.events.append(SharingChanged(flow_id=flow.id, share=step.share_answers))
        self.advance_after(step)

    def share_level(self, flow: Flow, step: AskStep) -> ShareLevel:
        return self.session.share_overrides.get(flow.id) or step.share or flow.share

    def advance_after(self, step: AskStep) -> None:
        target = choose_next(step.next, self.condition_values())
        if target is None:
            if not self.return_from_flow():
                return
            self.advance()
            return
        self.advance(target)

    def skip(self, step: AskStep, *, automatic: bool = False) -> None:
        if automatic:
            self.say("auto_skip")
        self.save(step, Parsed(None, phrase("skipped_shown", self.audience)))

    def toggle(self, step: AskStep, value: str) -> None:
        values = [o.value for o in step.choices()]
        if value not in values:
            self.invalid(step, "unknown_button")
            return
        selection = self.session.selection
        if value in selection:
            selection.remove(value)
        else:
            selection.append(value)
        self.events.append(UpdateButtons(prompt=self.session.prompt, buttons=self.buttons(step)))

    def finish_selection(self) -> None:
        step = self.current_ask()
        if step is None or step.ask != "multi":
            self.invalid_current("unknown_button")
            return
        if not self.session.selection:
            if step.optional:
                self.skip(step)
            else:
                self.invalid(step, "nothing_selected")
            return
        order = [o.value for o in step.choices() if o.value in self.session.selection]
        self.save(step, Parsed(order, ""))  # save() shows the labels

    def invalid_current(self, reason: str) -> None:
        step = self.current_ask()
        if step is not None:
            self.invalid(step, reason)

    def invalid(self, step: AskStep, reason: str) -> None:
        session = self.session
        session.retries += 1
        self.events.append(
            InvalidAnswer(step_id=session.frame.step, attempt=session.retries, reason=reason)
        )
        if session.retries <= step.retries:
            self.events.append(SendMessage(self.reprompt(step, reason), kind="reprompt"))
            return
        if step.optional:
            self.skip(step, automatic=True)
            return
        if not session.way_out_offered:
            session.way_out_offered = True
            self.events.append(
                SendMessage(
                    phrase("way_out", self.audience, self.language),
                    kind="reprompt",
                    buttons=(Button(STOP_VALUE, phrase("stop_button", self.audience)),),
                    prompt=session.prompt,
                )
            )
            return
        self.finish("stopped", "too_many_invalid", message="stopped_after_tries")

    def reprompt(self, step: AskStep, reason: str) -> str:
        if reason == "media_not_expected":
            return phrase("media_not_expected", self.audience, self.language)
        if step.reprompt is not None:
            return self.renderer().render(step.reprompt)
        if reason in ("too_long", "ambiguous_time"):
            return phrase(f"reprompt_{reason}", self.audience, self.language)
        values: dict[str, object] = {}
        if step.ask == "scale":
            values = {"min": f"{step.min:g}", "max": f"{step.max:g}"}
        elif step.ask == "number":
            low = f" from {step.min:g}" if step.min is not None else ""
            high = f" up to {step.max:g}" if step.max is not None else ""
            values = {"range": low + high}
        return phrase(f"reprompt_{step.ask}", self.audience, self.language, **values)

    # --- commands and time -----------------------------------------------------------

    def command(self, command: str) -> None:
        step = self.current_ask()
        if command == "stop":
            self.finish("stopped", "stopped", message="stopped")
        elif command == "help":
            text = self._help_text(step)
            self.events.append(SendMessage(text, kind="info"))
        elif command == "skip":
            if step is not None and step.optional:
                self.skip(step)
            else:
                self.say("cannot_skip")
        elif command == "back":
            self.back()

    def _help_text(self, step: AskStep | None) -> str:
        renderer = self.renderer()
        if step is not None and step.help is not None:
            return renderer.render(step.help)
        flow = self.flow()
        if flow.help is not None:
            return renderer.render(flow.help)
        return phrase("help", self.audience, self.language)

    def back(self) -> None:
        history = self.session.history
        if len(history) < 2:
            self.say("no_back")
            return
        history.pop()
        previous = history.pop()
        self.events.append(CloseQuestion(prompt=self.session.prompt, answer=""))
        self.session.stack = list(previous)
        self.advance()

    def nudge(self) -> None:
        session = self.session
        flow = self.library[session.flow_id]
        step = self.current_ask()
        if session.nudged or flow.nudge_after is None or step is None:
            return
        session.nudged = True
        self.events.append(Nudged(step_id=session.frame.step))
        text = (
            self.renderer(self.session.stack[0]).render(flow.nudge)
            if flow.nudge is not None
            else phrase("nudge", self.audience, self.language)
        )
        self.events.append(SendMessage(text, kind="nudge"))
        self.events.append(CloseQuestion(prompt=session.prompt, answer=""))
        self.ask(step, remember=False)


__all__ = ["resume", "start", "visible"]
