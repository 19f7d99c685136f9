"""Behaviour of the dialogue engine's start/resume on small inline flows."""

from __future__ import annotations

import textwrap
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest

from rpbot.engine import (
    AnswerSaved,
    Button,
    ButtonInput,
    CloseQuestion,
    CommandInput,
    Event,
    Expired,
    FlowEnded,
    Input,
    InvalidAnswer,
    Library,
    MediaInput,
    Nudged,
    NudgeDue,
    SendMessage,
    Session,
    SharingChanged,
    TextInput,
    UpdateButtons,
    build_library,
    resume,
    start,
)
from rpbot.engine.events import DONE_VALUE, SKIP_VALUE, STOP_VALUE
from rpbot.engine.phrases import phrase

FACTS = (Path(__file__).resolve().parents[2] / "dialogues" / "facts.yaml").read_text(
    encoding="utf-8"
)
NOW = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
E = TypeVar("E")


def library(*flows: str) -> Library:
    """Build a library of inline flows (YAML text) with the real facts.yaml."""
    sources = {f"t{i}.yaml": textwrap.dedent(text) for i, text in enumerate(flows)}
    return build_library(sources, facts_text=FACTS)


def flow_yaml(steps: str, *, flow_id: str = "t", audience: str = "parent", **meta: Any) -> str:
    """A flow's YAML: metadata plus the (already indented) steps block, starting at ``q1``."""
    head = {"id": flow_id, "version": 1, "title": "T", "audience": audience, "start": "q1", **meta}
    lines = [f"{key}: {value}" for key, value in head.items()]
    return "\n".join(lines) + "\nsteps:\n" + textwrap.indent(textwrap.dedent(steps), "  ")


class Run:
    """A person going through a flow; the session is JSON round-tripped between inputs."""

    def __init__(
        self,
        lib: Library,
        flow_id: str = "t",
        context: Mapping[str, str] | None = None,
        now: datetime = NOW,
    ) -> None:
        self.lib = lib
        self.flow = lib[flow_id]
        self.now = now
        self.session, self.events = start(self.flow, dict(context or {}), now, lib)
        self.all_events: list[Event] = list(self.events)

    def send(self, given: Input | str, *, later: timedelta = timedelta(0)) -> list[Event]:
        if isinstance(given, str):
            given = TextInput(given)
        self.now += later
        session = Session.from_json(self.session.to_json())
        self.session, self.events = resume(self.flow, session, given, self.now, self.lib)
        self.all_events += self.events
        return self.events

    def press(self, value: str) -> list[Event]:
        return self.send(ButtonInput(value, self.session.prompt))

    def cmd(self, command: str) -> list[Event]:
        return self.send(CommandInput(command))  # type: ignore[arg-type]

    @property
    def answers(self) -> dict[str, Any]:
        return self.session.answers.get(self.flow.id, {})

    @property
    def step(self) -> str:
        return self.session.frame.step


def of(events: Sequence[Event], kind: type[E]) -> list[E]:
    return [e for e in events if isinstance(e, kind)]


def texts(events: Sequence[Event]) -> list[str]:
    return [e.text for e in of(events, SendMessage)]


def question(events: Sequence[Event]) -> SendMessage:
    asked = [e for e in of(events, SendMessage) if e.kind == "question"]
    assert len(asked) == 1, events
    return asked[0]


def ended(events: Sequence[Event]) -> FlowEnded:
    found = of(events, FlowEnded)
    assert len(found) == 1, events
    return found[0]


def state(session: Session) -> dict[str, Any]:
    """Everything about a session except when it was last touched."""
    return session.model_dump(mode="json", exclude={"updated_at"})


TWO_QUESTIONS = flow_yaml(
    """
    q1:
      ask: choice
      text: "First?"
      options: [{value: a, label: "🅰 Apple"}, {value: b, label: "🅱 Banana"}]
      next: q2
    q2:
      ask: text
      text: "Second?"
      next: q3
    q3:
      ask: text
      text: "Third?"
    """
)


# --- say steps and the first question -----------------------------------------------------


def test_say_steps_run_until_the_first_question() -> None:
    lib = library(
        flow_yaml(
            """
            q1:
              say: "Hello {first_name} 👋"
              next: s2
            s2:
              say: "Two more things."
              next: q3
            q3:
              ask: text
              text: "How are you?"
              why: "We ask every day."
            """
        )
    )
    session, events = start(lib["t"], {"first_name": "Sam"}, NOW, lib)
    assert [(e.text, e.kind) for e in of(events, SendMessage)] == [
        ("Hello Sam 👋", "say"),
        ("Two more things.", "say"),
        ("How are you?\n\nWe ask every day.", "question"),
    ]
    assert len(events) == 3
    asked = question(events)
    assert asked.prompt == 1
    assert asked.ask == "text"
    assert asked.buttons == ()
    assert session.status == "active"
    assert session.frame.step == "q3"
    assert session.prompt == 1
    assert session.started_at == session.updated_at == NOW
    assert session.expires_at == NOW + timedelta(days=3)


def test_a_flow_without_questions_completes_at_start() -> None:
    lib = library(
        flow_yaml(
            """
            q1:
              say: "Just so you know."
              next: bye
            bye:
              end: true
              text: "Bye {first_name}"
              summary: "Nothing to recap."
            """
        )
    )
    session, events = start(lib["t"], {}, NOW, lib)
    assert texts(events) == ["Just so you know.", "Bye there", "Nothing to recap."]
    done = ended(events)
    assert done.status == "completed"
    assert done.summary == "Nothing to recap."
    assert session.status == "completed"


def test_answering_every_question_completes_with_the_answers() -> None:
    run = Run(library(TWO_QUESTIONS))
    events = run.press("b")
    assert events[0] == CloseQuestion(prompt=1, answer="🅱 Banana")
    assert events[1] == AnswerSaved(
        flow_id="t", step_id="q1", name="q1", ask="choice", value="b", share="practitioner"
    )
    assert question(events).text == "Second?"
    run.send("fine")
    events = run.send("also fine")
    done = ended(events)
    assert done.status == "completed"
    assert done.reason == ""
    assert done.answers == {"q1": "b", "q2": "fine", "q3": "also fine"}
    assert run.session.status == "completed"


def test_typed_text_is_kept_with_the_answer() -> None:
    run = Run(library(TWO_QUESTIONS))
    run.send("Banana")
    run.send("  tired but ok  ")
    saved = of(run.all_events, AnswerSaved)
    assert [(s.value, s.text) for s in saved] == [("b", None), ("tired but ok", "tired but ok")]


# --- branching ----------------------------------------------------------------------------

BRANCHING = flow_yaml(
    """
    q1:
      ask: choice
      text: "Mood?"
      options: [calm, ok, hard]
      optional: true
      next: score
    score:
      ask: scale
      text: "Score?"
      min: 0
      max: 10
      optional: true
      next: route
    route:
      branch:
        - when: {all: [{answer: q1, equals: hard}, {answer: score, lt: 3}]}
          goto: very_hard
        - when: {answer: q1, equals: hard}
          goto: hard
        - when: {any: [{answer: score, gte: 9}, {answer: q1, in: [calm]}]}
          goto: great
        - when: {not: {answer: score, answered: true}}
          goto: no_score
        - when: {context: nation, in: [scotland, wales]}
          goto: devolved
        - when: {context: nation, equals: northern_ireland}
          goto: ni
        - goto: other
    very_hard: {say: VERY_HARD}
    hard: {say: HARD}
    great: {say: GREAT}
    no_score: {say: NO_SCORE}
    devolved: {say: DEVOLVED}
    ni: {say: NI}
    other: {say: OTHER}
    """
)


@pytest.mark.parametrize(
    ("mood", "score", "nation", "expected"),
    [
        ("hard", "2", "england", "VERY_HARD"),
        ("hard", "3", "england", "HARD"),  # lt is strict
        ("hard", None, "england", "HARD"),  # a skipped score is not below 3
        ("calm", "5", "england", "GREAT"),  # in
        ("ok", "9", "england", "GREAT"),  # gte is inclusive
        ("ok", "8", "england", "OTHER"),
        ("ok", None, "england", "NO_SCORE"),  # not answered
        (None, "5", "england", "OTHER"),  # a skipped choice equals nothing
        ("ok", "5", "scotland", "DEVOLVED"),
        ("ok", "5", "wales", "DEVOLVED"),
        ("ok", "5", "northern_ireland", "NI"),
        ("ok", "5", "", "OTHER"),
    ],
)
def test_branching(mood: str | None, score: str | None, nation: str, expected: str) -> None:
    run = Run(library(BRANCHING), context={"nation": nation} if nation else {})
    run.press(mood) if mood else run.cmd("skip")
    events = run.press(score) if score else run.cmd("skip")
    assert expected in texts(events)
    assert ended(events).status == "completed"


def test_branching_on_yes_no_and_multi() -> None:
    lib = library(
        flow_yaml(
            """
            q1:
              ask: multi
              text: "Which?"
              options: [a, b, c]
              next: q2
            q2:
              ask: yes_no
              text: "Sure?"
              next:
                - when: {all: [{answer: q1, in: [c]}, {answer: q2, equals: true}]}
                  goto: c_yes
                - when: {answer: q2, equals: false}
                  goto: said_no
                - goto: other
            c_yes: {say: C_YES}
            said_no: {say: SAID_NO}
            other: {say: OTHER}
            """
        )
    )
    for typed, sure, expected in [
        ("1, 3", "yes", "C_YES"),
        ("3", "yes", "C_YES"),
        ("1, 2", "yes", "OTHER"),
        ("3", "no", "SAID_NO"),
    ]:
        run = Run(lib)
        run.send(typed)
        assert expected in texts(run.send(sure)), (typed, sure)


def test_branching_on_audience_context() -> None:
    steps = """
        q1:
          branch:
            - when: {context: audience, equals: child}
              goto: kid
            - goto: grown_up
        kid: {say: KID}
        grown_up: {say: GROWN_UP}
        """
    for audience, expected in [("child", "KID"), ("parent", "GROWN_UP")]:
        lib = library(flow_yaml(steps, audience=audience))
        _, events = start(lib["t"], {}, NOW, lib)
        assert texts(events) == [expected]


# --- skip ---------------------------------------------------------------------------------

OPTIONAL_FIRST = flow_yaml(
    """
    q1:
      ask: text
      text: "Anything to add?"
      optional: true
      next: q2
    q2:
      ask: choice
      text: "Pick one"
      options: [a, b]
    """
)


def test_an_optional_question_has_a_skip_button() -> None:
    run = Run(library(OPTIONAL_FIRST))
    assert question(run.events).buttons == (Button(SKIP_VALUE, "Skip ⏭"),)
    buttons = question(run.press(SKIP_VALUE)).buttons
    assert [b.value for b in buttons] == ["a", "b"]


@pytest.mark.parametrize("how", ["command", "button"])
def test_skipping_an_optional_question_saves_none(how: str) -> None:
    run = Run(library(OPTIONAL_FIRST))
    events = run.cmd("skip") if how == "command" else run.press(SKIP_VALUE)
    assert events[0] == CloseQuestion(prompt=1, answer="Skipped")
    saved = of(events, AnswerSaved)
    assert len(saved) == 1
    assert saved[0].value is None
    assert saved[0].name == "q1"
    assert run.answers == {"q1": None}
    assert question(events).text == "Pick one"


def test_a_required_question_cannot_be_skipped() -> None:
    run = Run(library(TWO_QUESTIONS))
    before = state(run.session)
    events = run.cmd("skip")
    assert events == [SendMessage(phrase("cannot_skip", "parent"), kind="info")]
    assert state(run.session) == before
    # No Skip button either, and pressing a forged one changes nothing.
    assert SKIP_VALUE not in [b.value for b in question(run.all_events).buttons]
    assert texts(run.press(SKIP_VALUE)) == [phrase("cannot_skip", "parent")]
    assert state(run.session) == before


# --- back ---------------------------------------------------------------------------------


def test_nothing_to_go_back_to_on_the_first_question() -> None:
    run = Run(library(TWO_QUESTIONS))
    before = state(run.session)
    events = run.cmd("back")
    assert events == [SendMessage(phrase("no_back", "parent"), kind="info")]
    assert state(run.session) == before


def test_back_asks_the_previous_question_again() -> None:
    run = Run(library(TWO_QUESTIONS))
    run.press("a")
    assert run.step == "q2"
    events = run.cmd("back")
    assert events[0] == CloseQuestion(prompt=2, answer="")
    asked = question(events)
    assert asked.text == "First?"
    assert asked.prompt == 3
    assert run.step == "q1"
    # The earlier answer stays until it is replaced.
    assert run.answers == {"q1": "a"}
    run.press("b")
    assert run.answers == {"q1": "b"}
    assert run.step == "q2"
    run.send("x")
    assert run.step == "q3"
    run.cmd("back")
    assert run.step == "q2"
    run.cmd("back")
    assert run.step == "q1"
    assert texts(run.cmd("back")) == [phrase("no_back", "parent")]


def test_back_skips_over_say_steps() -> None:
    lib = library(
        flow_yaml(
            """
            q1:
              ask: text
              text: "One?"
              next: s
            s:
              say: "Thanks!"
              next: q2
            q2:
              ask: text
              text: "Two?"
            """
        )
    )
    run = Run(lib)
    run.send("x")
    events = run.cmd("back")
    assert texts(events) == ["One?"]


# --- stop and help ------------------------------------------------------------------------


@pytest.mark.parametrize("how", ["command", "button"])
def test_stop_ends_the_run_and_keeps_the_answers(how: str) -> None:
    run = Run(library(TWO_QUESTIONS))
    run.press("a")
    events = run.cmd("stop") if how == "command" else run.press(STOP_VALUE)
    assert texts(events) == [phrase("stopped", "parent")]
    done = ended(events)
    assert (done.status, done.reason) == ("stopped", "stopped")
    assert done.answers == {"q1": "a"}
    assert run.session.status == "stopped"
    assert run.answers == {"q1": "a"}


HELP_STEPS = """
    q1:
      ask: text
      text: "One?"
      help: "Step help for {first_name}"
      next: q2
    q2:
      ask: text
      text: "Two?"
    """


def test_help_prefers_the_step_then_the_flow_then_the_default() -> None:
    with_flow_help = library(flow_yaml(HELP_STEPS, help='"Flow help"'))
    run = Run(with_flow_help, context={"first_name": "Ann"})
    before = state(run.session)
    assert run.cmd("help") == [SendMessage("Step help for Ann", kind="info")]
    assert state(run.session) == before
    run.send("x")
    assert texts(run.cmd("help")) == ["Flow help"]

    without = Run(library(flow_yaml(HELP_STEPS)))
    without.send("x")
    assert texts(without.cmd("help")) == [phrase("help", "parent")]


def test_child_help_and_phrases_use_child_wording() -> None:
    lib = library(flow_yaml(TWO_QUESTIONS.split("steps:\n", 1)[1], audience="child"))
    run = Run(lib)
    assert texts(run.cmd("help")) == [phrase("help", "child")]
    assert texts(run.cmd("skip")) == [phrase("cannot_skip", "child")]
    assert texts(run.cmd("back")) == ["This is the first question 🙂"]
    assert phrase("help", "child") != phrase("help", "parent")
    assert texts(run.cmd("stop"))[0] == phrase("stopped", "child")


def test_child_multi_done_button_and_reprompt() -> None:
    lib = library(
        flow_yaml(
            """
            q1:
              ask: multi
              text: "Which?"
              options: [a, b]
              optional: true
            """,
            audience="child",
        )
    )
    run = Run(lib)
    assert [b.label for b in question(run.events).buttons] == ["a", "b", "Done ✅", "Skip ⏭"]
    assert texts(run.send(MediaInput("photo", "p"))) == [
        "I can't use a picture here. Can you type it instead?"
    ]


# --- invalid answers ----------------------------------------------------------------------

SCALE_FLOW = flow_yaml(
    """
    q1:
      ask: scale
      text: "From 1 to 5?"
      min: 1
      max: 5
      {extra}
      next: q2
    q2:
      ask: text
      text: "Why?"
    """
)


def scale_run(*extra: str, **context: str) -> Run:
    """The scale flow with extra keys (one per argument) on its question."""
    return Run(library(SCALE_FLOW.replace("{extra}", "\n    ".join(extra))), context=context)


def test_invalid_answers_get_the_default_reprompt() -> None:
    run = scale_run()
    events = run.send("banana")
    assert events == [
        InvalidAnswer(step_id="q1", attempt=1, reason="not_a_number"),
        SendMessage("Please pick a number from 1 to 5.", kind="reprompt"),
    ]
    assert run.step == "q1"
    assert run.session.retries == 1


def test_the_steps_reprompt_is_used() -> None:
    run = scale_run('reprompt: "Tap a face, {first_name}."', first_name="Jo")
    assert texts(run.send("banana")) == ["Tap a face, Jo."]


def test_a_required_question_offers_a_way_out_then_stops() -> None:
    run = scale_run()
    for attempt in (1, 2):
        events = run.send("banana")
        assert of(events, InvalidAnswer)[0].attempt == attempt
        assert [e.kind for e in of(events, SendMessage)] == ["reprompt"]
    events = run.send("99")
    assert of(events, InvalidAnswer) == [InvalidAnswer("q1", 3, "out_of_range")]
    way_out = of(events, SendMessage)
    assert len(way_out) == 1
    assert way_out[0].text == phrase("way_out", "parent")
    assert way_out[0].buttons == (Button(STOP_VALUE, "Stop for now"),)
    assert way_out[0].prompt == run.session.prompt
    assert run.session.active
    events = run.send("banana")
    assert texts(events) == [phrase("stopped_after_tries", "parent")]
    done = ended(events)
    assert (done.status, done.reason) == ("stopped", "too_many_invalid")
    assert run.session.status == "stopped"


def test_the_way_out_stop_button_stops() -> None:
    run = scale_run("retries: 0")
    events = run.send("banana")
    assert of(events, SendMessage)[0].buttons == (Button(STOP_VALUE, "Stop for now"),)
    assert ended(run.press(STOP_VALUE)).status == "stopped"


def test_a_good_answer_after_the_way_out_carries_on() -> None:
    run = scale_run("retries: 0")
    run.send("banana")
    events = run.send("4")
    assert of(events, AnswerSaved)[0].value == 4
    assert run.step == "q2"
    # The next question starts with a fresh count.
    assert run.session.retries == 0
    assert not run.session.way_out_offered


def test_an_optional_question_is_skipped_after_too_many_tries() -> None:
    run = scale_run("optional: true", "retries: 1")
    run.send("banana")
    events = run.send("banana")
    assert texts(events)[0] == phrase("auto_skip", "parent")
    assert of(events, AnswerSaved)[0].value is None
    assert question(events).text == "Why?"
    assert run.answers == {"q1": None}


@pytest.mark.parametrize("retries", [0, 2, 5])
@pytest.mark.parametrize("optional", [False, True])
def test_no_endless_loop_of_invalid_answers(retries: int, optional: bool) -> None:
    run = scale_run(f"retries: {retries}", f"optional: {str(optional).lower()}")
    for _ in range(100):
        events = run.send("banana") if run.step == "q1" else run.send("")
        assert events, "every message gets an answer"
        if not run.session.active:
            break
    assert not run.session.active, "100 invalid answers must end the run"
    assert len(of(run.all_events, FlowEnded)) == 1
    attempts = {"q1": 0, "q2": 0}
    for invalid in of(run.all_events, InvalidAnswer):
        attempts[invalid.step_id] = max(attempts[invalid.step_id], invalid.attempt)
    # retries re-prompts, then the way out (required) or the skip (optional), then the end.
    assert attempts["q1"] == retries + (1 if optional else 2)
    assert attempts["q2"] == (4 if optional else 0)
    if optional:
        assert run.answers["q1"] is None


def test_a_hundred_invalid_answers_end_a_required_question() -> None:
    run = scale_run()
    for _ in range(100):
        assert run.send("not a number")
    assert run.session.status == "stopped"
    assert len(of(run.all_events, FlowEnded)) == 1
    assert len(of(run.all_events, InvalidAnswer)) == 4
    assert texts(run.events) == [phrase("not_active", "parent")]


@pytest.mark.parametrize(
    ("given", "reason"),
    [
        (ButtonInput("7"), "out_of_range"),
        (ButtonInput("forged"), "not_a_number"),
        (MediaInput("voice", "v"), "media_not_expected"),
        (TextInput("\u200b\u200b"), "empty"),
        (ButtonInput(DONE_VALUE), "unknown_button"),
    ],
)
def test_kinds_of_invalid_input(given: Input, reason: str) -> None:
    run = scale_run()
    events = run.send(given)
    assert of(events, InvalidAnswer) == [InvalidAnswer("q1", 1, reason)]
    assert run.answers == {}


def test_media_on_a_text_question_gets_its_own_reprompt() -> None:
    run = Run(library(TWO_QUESTIONS))
    run.press("a")
    events = run.send(MediaInput("photo", "p1"))
    assert texts(events) == [phrase("media_not_expected", "parent")]
    events = run.send(MediaInput("photo", "p2", caption="a caption"))
    assert of(events, AnswerSaved)[0].value == "a caption"


# --- buttons ------------------------------------------------------------------------------


def test_a_stale_button_has_moved_on() -> None:
    run = Run(library(TWO_QUESTIONS))
    run.press("a")
    before = state(run.session)
    for old in (ButtonInput("b", 1), ButtonInput("b", 0), ButtonInput("b", 99)):
        events = run.send(old)
        assert events == [SendMessage(phrase("moved_on", "parent"), kind="info")]
        assert state(run.session) == before
    assert run.answers == {"q1": "a"}


def test_a_button_without_a_prompt_means_the_current_question() -> None:
    run = Run(library(TWO_QUESTIONS))
    run.send(ButtonInput("b"))
    assert run.answers == {"q1": "b"}


def test_a_forged_button_value_is_invalid() -> None:
    run = Run(library(TWO_QUESTIONS))
    events = run.press("c")
    assert of(events, InvalidAnswer) == [InvalidAnswer("q1", 1, "unknown_button")]
    assert run.answers == {}
    assert run.step == "q1"
    # Typed, the same words are welcome as free text.
    run.send("c")
    assert run.answers == {"q1": "c"}


# --- multi --------------------------------------------------------------------------------

MULTI = flow_yaml(
    """
    q1:
      ask: multi
      text: "Which helped?"
      options: [{value: a, label: "Apple"}, {value: b, label: "Bean"}, {value: c, label: "Cake"}]
      {extra}
      next: q2
    q2:
      ask: text
      text: "You chose {answers.q1}. Why?"
    """
)


def multi_run(extra: str = "") -> Run:
    return Run(library(MULTI.replace("{extra}", extra)))


def test_multi_buttons_toggle_then_done() -> None:
    run = multi_run()
    first = question(run.events)
    assert [(b.value, b.label) for b in first.buttons] == [
        ("a", "Apple"),
        ("b", "Bean"),
        ("c", "Cake"),
        (DONE_VALUE, "Done ✅"),
    ]
    events = run.press("c")
    assert events == [
        UpdateButtons(
            prompt=1,
            buttons=(
                Button("a", "Apple"),
                Button("b", "Bean"),
                Button("c", "✅ Cake", selected=True),
                Button(DONE_VALUE, "Done ✅"),
            ),
        )
    ]
    run.press("a")
    assert run.session.selection == ["c", "a"]
    labels = [b.label for b in of(run.events, UpdateButtons)[0].buttons]
    assert labels == ["✅ Apple", "Bean", "✅ Cake", "Done ✅"]
    run.press("b")
    run.press("b")  # untick
    assert run.session.selection == ["c", "a"]
    assert run.answers == {}
    events = run.press(DONE_VALUE)
    assert events[0] == CloseQuestion(prompt=1, answer="Apple, Cake")
    assert of(events, AnswerSaved)[0].value == ["a", "c"]  # in option order
    assert question(events).text == "You chose Apple, Cake. Why?"
    assert run.session.selection == []


def test_multi_typed_numbers() -> None:
    run = multi_run()
    events = run.send("1, 3")
    assert of(events, AnswerSaved)[0].value == ["a", "c"]


def test_multi_done_with_nothing_selected() -> None:
    required = multi_run()
    events = required.press(DONE_VALUE)
    assert of(events, InvalidAnswer) == [InvalidAnswer("q1", 1, "nothing_selected")]
    assert texts(events) == [phrase("reprompt_multi", "parent")]
    assert required.answers == {}

    optional = multi_run("optional: true")
    events = optional.press(DONE_VALUE)
    assert of(events, AnswerSaved)[0].value is None
    assert question(events).text == "You chose skipped. Why?"


def test_multi_forged_toggle_is_invalid() -> None:
    run = multi_run()
    events = run.press("zzz")
    assert of(events, InvalidAnswer) == [InvalidAnswer("q1", 1, "unknown_button")]
    assert run.session.selection == []


def test_done_on_a_stale_prompt_has_moved_on() -> None:
    run = multi_run()
    run.press("a")
    run.send(NudgeDue())  # no nudge_after: nothing happens
    events = run.send(ButtonInput(DONE_VALUE, 0))
    assert texts(events) == [phrase("moved_on", "parent")]


# --- sharing ------------------------------------------------------------------------------

SHARING = flow_yaml(
    """
    q1:
      ask: text
      text: "A worry?"
      next: q2
    q2:
      ask: yes_no
      text: "Can your worker see this?"
      share_answers: family
      next: q3
    q3:
      ask: text
      text: "Anything else?"
      next: q4
    q4:
      ask: text
      text: "Last one"
      share: practitioner
    """,
    share="private",
)


def test_yes_to_share_answers_changes_the_sharing_level() -> None:
    run = Run(library(SHARING))
    assert of(run.send("spiders"), AnswerSaved)[0].share == "private"
    events = run.send("yes")
    saved = of(events, AnswerSaved)[0]
    assert saved.value is True
    assert of(events, SharingChanged) == [SharingChanged(flow_id="t", share="family")]
    assert run.session.share_overrides == {"t": "family"}
    assert of(run.send("no"), AnswerSaved)[0].share == "family"
    # The run's choice wins over a step's own level.
    assert of(run.send("x"), AnswerSaved)[0].share == "family"


def test_no_to_share_answers_keeps_the_levels() -> None:
    run = Run(library(SHARING))
    run.send("spiders")
    events = run.press("no")
    assert of(events, AnswerSaved)[0].value is False
    assert of(events, SharingChanged) == []
    assert of(run.send("x"), AnswerSaved)[0].share == "private"
    assert of(run.send("y"), AnswerSaved)[0].share == "practitioner"


def test_definitely_not_does_not_share() -> None:
    run = Run(library(SHARING))
    run.send("spiders")
    events = run.send("definitely not")
    assert of(events, SharingChanged) == []


# --- sub-flows ----------------------------------------------------------------------------

PARENT = flow_yaml(
    """
    q1:
      ask: text
      text: "Parent question?"
      save: feeling
      next: law
    law:
      call: sub
      next: after
    after:
      say: "Back in the parent, {answers.feeling}."
      next: q2
    q2:
      ask: text
      text: "Parent again?"
    """,
    flow_id="parent",
)
SUB = flow_yaml(
    """
    q1:
      ask: choice
      text: "Sub question?"
      save: feeling
      options: [up, down]
      next: bye
    bye:
      end: true
      text: "Sub done: {answers.feeling}"
      summary: "Sub summary"
    """,
    flow_id="sub",
)


def test_a_sub_flow_runs_and_returns_to_the_parent() -> None:
    run = Run(library(PARENT, SUB), flow_id="parent")
    events = run.send("worried")
    assert of(events, AnswerSaved)[0].flow_id == "parent"
    assert question(events).text == "Sub question?"
    assert [f.flow_id for f in run.session.stack] == ["parent", "sub"]
    events = run.press("down")
    saved = of(events, AnswerSaved)[0]
    assert (saved.flow_id, saved.name, saved.value) == ("sub", "feeling", "down")
    assert texts(events) == [
        "Sub done: down",
        "Sub summary",
        "Back in the parent, worried.",
        "Parent again?",
    ]
    assert [f.flow_id for f in run.session.stack] == ["parent"]
    assert run.session.answers == {"parent": {"feeling": "worried"}, "sub": {"feeling": "down"}}
    done = ended(run.send("fine"))
    assert (done.flow_id, done.status) == ("parent", "completed")
    # The run's answers are the parent's; the sub-flow's are kept under its own id.
    assert done.answers == {"feeling": "worried", "q2": "fine"}
    # A sub-flow's summary is not the run's summary.
    assert done.summary is None


def test_stop_inside_a_sub_flow_ends_the_whole_run() -> None:
    run = Run(library(PARENT, SUB), flow_id="parent")
    run.send("worried")
    done = ended(run.cmd("stop"))
    assert (done.flow_id, done.status) == ("parent", "stopped")
    assert run.session.status == "stopped"
    assert run.session.answers["parent"] == {"feeling": "worried"}
    assert texts(run.send("down")) == [phrase("not_active", "parent")]


def test_back_from_a_sub_flow_returns_to_the_parent_question() -> None:
    run = Run(library(PARENT, SUB), flow_id="parent")
    run.send("worried")
    events = run.cmd("back")
    assert question(events).text == "Parent question?"
    assert [f.flow_id for f in run.session.stack] == ["parent"]
    run.send("calmer")
    run.press("up")
    assert run.session.answers == {"parent": {"feeling": "calmer"}, "sub": {"feeling": "up"}}


# --- nudges and expiry --------------------------------------------------------------------


def test_one_nudge_only() -> None:
    lib = library(
        flow_yaml(
            TWO_QUESTIONS.split("steps:\n", 1)[1], nudge_after="3h", nudge='"Hi {first_name}"'
        )
    )
    run = Run(lib, context={"first_name": "Sam"})
    events = run.send(NudgeDue(), later=timedelta(hours=3))
    assert events[0] == Nudged(step_id="q1")
    assert events[1] == SendMessage("Hi Sam", kind="nudge")
    assert events[2] == CloseQuestion(prompt=1, answer="")
    asked = question(events)
    assert (asked.text, asked.prompt) == ("First?", 2)
    assert run.session.nudged
    assert run.send(NudgeDue(), later=timedelta(hours=3)) == []
    # The re-asked question's buttons work; the old ones have moved on.
    assert texts(run.send(ButtonInput("a", 1))) == [phrase("moved_on", "parent")]
    run.send(ButtonInput("a", 2))
    assert run.answers == {"q1": "a"}
    # A nudge is not a question to go back to.
    assert texts(run.cmd("back")) == ["First?"]


def test_the_default_nudge_text() -> None:
    lib = library(flow_yaml(TWO_QUESTIONS.split("steps:\n", 1)[1], nudge_after="1h"))
    run = Run(lib)
    assert texts(run.send(NudgeDue()))[0] == phrase("nudge", "parent")


def test_no_nudge_without_nudge_after() -> None:
    run = Run(library(TWO_QUESTIONS))
    before = run.session.to_json()
    assert run.send(NudgeDue(), later=timedelta(hours=5)) == []
    assert run.session.to_json() == before


@pytest.mark.parametrize("given", [Expired(), TextInput("a"), NudgeDue(), CommandInput("help")])
def test_expiry(given: Input) -> None:
    lib = library(flow_yaml(TWO_QUESTIONS.split("steps:\n", 1)[1], expires_after="30m"))
    run = Run(lib)
    run.press("a")
    assert run.session.expires_at == NOW + timedelta(minutes=30)
    if not isinstance(given, Expired):
        run.send(CommandInput("help"), later=timedelta(minutes=29))
        assert run.session.active
        run.now = NOW + timedelta(minutes=30)
    events = run.send(given)
    assert texts(events) == [phrase("expired", "parent")]
    done = ended(events)
    assert (done.status, done.reason) == ("expired", "expired")
    assert done.answers == {"q1": "a"}
    assert run.session.status == "expired"
    assert run.answers == {"q1": "a"}


@pytest.mark.parametrize("status_input", [CommandInput("stop"), Expired()])
def test_input_on_an_ended_session_is_polite(status_input: Input) -> None:
    run = Run(library(TWO_QUESTIONS))
    run.send(status_input)
    before = run.session.to_json()
    for given in (
        TextInput("hi"),
        ButtonInput("a", 1),
        CommandInput("back"),
        MediaInput("photo", "p"),
    ):
        events = run.send(given)
        assert events == [SendMessage(phrase("not_active", "parent"), kind="info")]
        assert run.session.to_json() == before
    assert run.send(NudgeDue()) == []
    assert run.send(Expired()) == []
    assert run.session.to_json() == before


# --- flows that changed -------------------------------------------------------------------


def test_a_session_whose_step_is_gone_ends_kindly() -> None:
    old = library(TWO_QUESTIONS)
    run = Run(old)
    run.press("a")
    assert run.step == "q2"
    new = library(
        flow_yaml(
            """
            q1:
              ask: text
              text: "Only question now"
            """
        ).replace("version: 1", "version: 2")
    )
    session, events = resume(new["t"], run.session, TextInput("hello"), NOW, new)
    assert texts(events) == [phrase("flow_changed", "parent")]
    done = ended(events)
    assert (done.status, done.reason) == ("stopped", "flow_changed")
    assert session.answers == {"t": {"q1": "a"}}


def test_a_session_whose_sub_flow_is_gone_ends_kindly() -> None:
    run = Run(library(PARENT, SUB), flow_id="parent")
    run.send("worried")
    only_parent = library(PARENT.replace("call: sub", "call: other"), SUB.replace("sub", "other"))
    session, events = resume(only_parent["parent"], run.session, TextInput("x"), NOW, only_parent)
    assert ended(events).reason == "flow_changed"
    assert session.status == "stopped"


def test_a_session_whose_question_became_a_say_step_ends_kindly() -> None:
    run = Run(library(TWO_QUESTIONS))
    run.press("a")
    new = library(
        flow_yaml(
            """
            q1:
              say: "Now just a message"
              next: q2
            q2:
              say: "Also a message"
            """
        ).replace("version: 1", "version: 2")
    )
    session, events = resume(new["t"], run.session, TextInput("hello"), NOW, new)
    assert session.status != "active" or of(events, SendMessage)[-1].kind == "question"


# --- purity -------------------------------------------------------------------------------


def test_a_naive_datetime_is_refused() -> None:
    lib = library(TWO_QUESTIONS)
    naive = datetime(2026, 11, 23, 9, 0)
    with pytest.raises(ValueError, match="timezone-aware"):
        start(lib["t"], {}, naive, lib)
    session, _ = start(lib["t"], {}, NOW, lib)
    with pytest.raises(ValueError, match="timezone-aware"):
        resume(lib["t"], session, TextInput("a"), naive, lib)


def test_start_without_a_library_runs_a_lone_flow() -> None:
    lib = library(TWO_QUESTIONS)
    session, events = start(lib["t"], {}, NOW)
    assert question(events).text == "First?"
    session, events = resume(lib["t"], session, TextInput("a"), NOW)
    assert question(events).text == "Second?"


def test_start_changes_nothing_it_is_given() -> None:
    lib = library(SHARING, PARENT, SUB)
    flows_before = {fid: f.model_dump_json() for fid, f in lib.flows.items()}
    context = {"first_name": "Sam", "nation": "wales"}
    start(lib["parent"], context, NOW, lib)
    start(lib["t"], context, NOW, lib)
    assert context == {"first_name": "Sam", "nation": "wales"}
    assert {fid: f.model_dump_json() for fid, f in lib.flows.items()} == flows_before
    assert set(lib.flows) == {"t", "parent", "sub"}


def test_resume_leaves_the_given_session_unchanged() -> None:
    lib = library(
        MULTI.replace("{extra}", "optional: true"), PARENT, SUB, SHARING.replace("id: t", "id: s")
    )
    inputs: list[tuple[str, Input]] = [
        ("t", ButtonInput("a")),
        ("t", ButtonInput("b")),
        ("t", ButtonInput(DONE_VALUE)),
        ("t", CommandInput("back")),
        ("t", ButtonInput("c")),
        ("t", CommandInput("skip")),
        ("t", TextInput("because")),
        ("parent", TextInput("worried")),
        ("parent", ButtonInput("up")),
        ("parent", CommandInput("back")),
        ("parent", CommandInput("stop")),
        ("s", TextInput("a worry")),
        ("s", TextInput("yes")),
        ("s", TextInput("banana")),
        ("s", Expired()),
    ]
    sessions = {fid: start(lib[fid], {}, NOW, lib)[0] for fid in ("t", "parent", "s")}
    for fid, given in inputs:
        session = sessions[fid]
        before = session.to_json()
        after, _ = resume(lib[fid], session, given, NOW + timedelta(minutes=1), lib)
        assert session.to_json() == before, given
        assert after is not session
        sessions[fid] = after


# --- text variables -----------------------------------------------------------------------

VARIABLES = flow_yaml(
    """
    q1:
      ask: choice
      text: "Hi {first_name}, how was {child_name}'s morning?"
      options: [{value: calm, label: "😌 Calm"}, {value: hard, label: "😣 Hard"}]
      next: q2
    q2:
      ask: text
      text: "Worries?"
      optional: true
      next: q3
    q3:
      ask: yes_no
      text: "OK?"
      yes_label: "Yes indeed"
      next: recap
    recap:
      say: "Morning: {answers.q1}. Worries: {answers.q2}. OK: {answers.q3}. {{literal}}"
      next: law
    law:
      say: "{nation}: {law.summary} ({law.act}) {signpost.childline}"
    """
)


def test_text_variables() -> None:
    lib = library(VARIABLES)
    run = Run(lib, context={"first_name": "Sam", "child_name": "Ali", "nation": "scotland"})
    assert question(run.events).text == "Hi Sam, how was Ali's morning?"
    run.send("hard")
    run.cmd("skip")
    events = run.send("yes")
    said = texts(events)
    assert said[0] == "Morning: 😣 Hard. Worries: skipped. OK: Yes indeed. {literal}"
    facts = lib.facts
    assert facts is not None
    scotland = facts.law["scotland"]
    assert (
        said[1]
        == f"Scotland: {scotland.summary} ({scotland.act}) Childline (free, any time): 0800 1111"
    )
    assert "0800 1111" in said[1]


def test_context_defaults() -> None:
    run = Run(library(VARIABLES))
    assert question(run.events).text == "Hi there, how was your child's morning?"


def test_law_differs_by_nation() -> None:
    lib = library(VARIABLES)
    facts = lib.facts
    assert facts is not None
    shown: dict[str, str] = {}
    for nation in ("england", "wales", "scotland", "northern_ireland"):
        run = Run(lib, context={"nation": nation})
        run.press("calm")
        run.cmd("skip")
        law_text = texts(run.send("no"))[1]
        assert law_text.startswith(facts.law[nation].name + ": ")
        assert facts.law[nation].summary in law_text
        shown[nation] = law_text
    assert len(set(shown.values())) == 4
    assert "against the law unless" in shown["england"]
    assert "all physical punishment" in shown["wales"]
    # An unknown nation falls back to England's law.
    run = Run(lib, context={"nation": "atlantis"})
    run.press("calm")
    run.cmd("skip")
    assert texts(run.send("no"))[1] == shown["england"]


def test_answers_variable_shows_no_label_and_lists() -> None:
    run = Run(library(VARIABLES))
    run.send("something else entirely")
    run.send("spiders")
    said = texts(run.send("nope"))
    assert said[0].startswith("Morning: something else entirely. Worries: spiders. OK: No.")


def test_child_audience_gets_child_phrases() -> None:
    steps = """
        q1:
          ask: scale
          text: "How do you feel?"
          min: 1
          max: 5
          retries: 0
        """
    child = Run(library(flow_yaml(steps, audience="child")))
    parent = Run(library(flow_yaml(steps, audience="parent")))
    assert texts(child.send("banana")) == [
        "That's okay! You can try once more, or tap Stop for now."
    ]
    assert texts(parent.send("banana")) == [phrase("way_out", "parent")]
    assert texts(child.send("banana")) == [phrase("stopped_after_tries", "child")]
    assert texts(child.send("hi")) == [phrase("not_active", "child")]
    assert phrase("not_active", "child") != phrase("not_active", "parent")


# --- numbers ------------------------------------------------------------------------------

NUMBER_FLOW = flow_yaml(
    """
    q1:
      ask: number
      text: "How many?"
      {extra}
      next: q2
    q2:
      ask: text
      text: "You said {answers.q1}."
    """
)


def test_number_answers_show_nicely() -> None:
    run = Run(library(NUMBER_FLOW.replace("{extra}", "integer: false")))
    events = run.send("3")
    assert of(events, AnswerSaved)[0].value == 3.0
    assert question(events).text == "You said 3."


def test_a_huge_number_does_not_raise_out_of_resume() -> None:
    run = Run(library(NUMBER_FLOW.replace("{extra}", "min: 0")))
    events = run.send("9" * 400)
    assert events


def test_a_saved_number_survives_the_session_json() -> None:
    run = Run(library(NUMBER_FLOW.replace("{extra}", "integer: false")))
    lib = run.lib
    session, _ = resume(lib["t"], run.session, TextInput("9" * 400), NOW, lib)
    reloaded = Session.from_json(session.to_json())
    assert reloaded.answers == session.answers


# --- times and closing labels -------------------------------------------------------------


@pytest.mark.parametrize("audience", ["parent", "child"])
def test_an_ambiguous_time_is_asked_again(audience: str) -> None:
    steps = """
        q1:
          ask: time
          text: "Bedtime?"
        """
    run = Run(library(flow_yaml(steps, audience=audience)))
    events = run.send("7")
    assert of(events, InvalidAnswer) == [InvalidAnswer("q1", 1, "ambiguous_time")]
    assert texts(events) == [phrase("reprompt_ambiguous_time", audience)]
    done = ended(run.send("7pm"))
    assert done.answers == {"q1": "19:00"}


def test_a_closed_question_shows_labels_with_variables_filled() -> None:
    lib = library(
        flow_yaml(
            """
            q1:
              ask: choice
              text: "Who?"
              options: [{value: kid, label: "{child_name}"}, {value: me, label: "Me"}]
              next: q2
            q2:
              ask: yes_no
              text: "Sure?"
              yes_label: "Yes, {first_name}"
              next: q3
            q3:
              ask: multi
              text: "Which?"
              options: [{value: a, label: "A for {child_name}"}, {value: b, label: "B"}]
            """
        )
    )
    run = Run(lib, context={"child_name": "Ali", "first_name": "Sam"})
    assert [b.label for b in question(run.events).buttons] == ["Ali", "Me"]
    assert of(run.press("kid"), CloseQuestion) == [CloseQuestion(1, "Ali")]
    assert of(run.press("yes"), CloseQuestion) == [CloseQuestion(2, "Yes, Sam")]
    run.press("b")
    run.press("a")
    assert of(run.press(DONE_VALUE), CloseQuestion) == [CloseQuestion(3, "A for Ali, B")]


def test_a_nudge_inside_a_sub_flow_shows_the_parents_answers() -> None:
    parent = flow_yaml(
        """
        q1:
          ask: choice
          text: "Mood?"
          options: [calm, hard]
          next: law
        law:
          call: sub
        """,
        flow_id="parent",
        nudge_after="1h",
        nudge='"Still there? You said {answers.q1}."',
    )
    sub = flow_yaml(
        """
        q1:
          ask: text
          text: "Sub question?"
        """,
        flow_id="sub",
    )
    run = Run(library(parent, sub), flow_id="parent")
    run.press("hard")
    assert texts(run.send(NudgeDue()))[0] == "Still there? You said hard."
