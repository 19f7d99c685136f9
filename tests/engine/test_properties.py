"""Property tests: every shipped flow survives any sequence of inputs a person (or time) sends.

Inputs are drawn as actions resolved against what is on screen, so button presses use the
real values (and prompt numbers) of the latest question. The session goes through JSON
between every step, as storage would. No clock is read: ``now`` is fixed and moves on by
drawn amounts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import event as record
from hypothesis import strategies as st

from rpbot.dialogues import default_library
from rpbot.engine import (
    AnswerSaved,
    Button,
    ButtonInput,
    CommandInput,
    Event,
    Expired,
    FlowEnded,
    Input,
    MediaInput,
    NudgeDue,
    SendMessage,
    Session,
    TextInput,
    UpdateButtons,
    resume,
    start,
)
from rpbot.engine.events import DONE_VALUE, SKIP_VALUE, STOP_VALUE

LIBRARY = default_library()
FLOW_IDS = sorted(LIBRARY.flows)
T0 = datetime(2026, 11, 23, 8, 30, tzinfo=UTC)

# --- what people send ---------------------------------------------------------------------

EMOJI = ["😀", "😢", "👍", "👎", "✅", "❌", "❤️", "👍🏽", "🤷‍♀️", "🇬🇧", "🙂", "💛"]
ZERO_WIDTH = ["\u200b", "\u200c", "\u200d", "\ufeff", "\u2060", "\u00ad", "\u200e", "\u200f"]
WHITESPACE = [" ", "\n", "\t", "\u00a0", "\u3000"]
LIKELY = [
    "yes",
    "no",
    "Yes please",
    "nope",
    "not sure",
    "1",
    "2",
    "3",
    "1, 3",
    "1 2",
    "seven",
    "7pm",
    "7",
    "19:30",
    "noon",
    "today",
    "yesterday",
    "23/11/2026",
    "calm",
    "ok",
    "I don't know",
    "/skip",
    "/stop",
    "/done",
    "{first_name}",
    "{{",
]

random_text = st.text(max_size=80)
long_text = st.builds(
    lambda piece, extra: (piece * 5000)[:5000] + extra,
    st.sampled_from(["a", "12345 ", "😀", "ب", " ", "\u200b", "yes ", "1, ", "٣"]),
    st.sampled_from(["", "x", "!"]),
)
emoji_only = st.lists(st.sampled_from(EMOJI), min_size=1, max_size=8).map("".join)
right_to_left = st.one_of(
    st.text(st.characters(min_codepoint=0x0590, max_codepoint=0x05FF), min_size=1, max_size=30),
    st.text(st.characters(min_codepoint=0x0600, max_codepoint=0x06FF), min_size=1, max_size=30),
    st.sampled_from(["مرحبا", "نعم", "لا", "שלום", "כן", "לא", "٣", "۷", "\u202eevil\u202c"]),
)
invisible = st.lists(st.sampled_from(ZERO_WIDTH + WHITESPACE), min_size=1, max_size=12).map("".join)
digits = st.one_of(
    st.integers(min_value=-20, max_value=120).map(str),
    st.from_regex(r"[0-9][0-9 ,./:-]{0,12}", fullmatch=True),
    st.floats(allow_nan=False, allow_infinity=False, width=32).map(str),
)
typed = st.one_of(
    random_text, long_text, emoji_only, right_to_left, invisible, digits, st.sampled_from(LIKELY)
)


@dataclass(frozen=True)
class Say:
    """Type some text."""

    text: str


@dataclass(frozen=True)
class Press:
    """Press the ``index``-th button on screen; ``stale`` moves the prompt number off."""

    index: int
    stale: int = 0
    no_prompt: bool = False


@dataclass(frozen=True)
class Forged:
    """Press a button that was never shown, on the current prompt."""

    value: str


@dataclass(frozen=True)
class Cooperate:
    """Answer the question on screen sensibly (``choice`` picks among the real options)."""

    choice: int = 0


Action = Say | Press | Forged | Cooperate | CommandInput | MediaInput | NudgeDue | Expired

actions: st.SearchStrategy[Action] = st.one_of(
    st.builds(Say, typed),
    st.builds(Cooperate, st.integers(0, 20)),
    st.builds(Press, st.integers(0, 20)),
    st.builds(Press, st.integers(0, 20), st.sampled_from([-3, -2, -1, 1, 2])),
    st.builds(Press, st.integers(0, 20), st.just(0), st.just(True)),
    st.builds(
        Forged,
        st.one_of(
            st.text(max_size=70),
            st.sampled_from([SKIP_VALUE, STOP_VALUE, DONE_VALUE, "/back", "/help", "", "yes"]),
        ),
    ),
    st.builds(CommandInput, st.sampled_from(["skip", "back", "stop", "help"])),
    st.builds(
        MediaInput,
        st.sampled_from(["photo", "voice", "document", "other"]),
        st.text(min_size=1, max_size=20),
        st.one_of(st.none(), typed),
    ),
    st.just(NudgeDue()),
    st.just(Expired()),
)
#: Seconds between inputs: mostly quick, sometimes long enough to reach a nudge or expiry.
pauses = st.sampled_from([0, 1, 5, 30, 90, 600, 3600, 4 * 3600, 13 * 3600])
plans = st.lists(st.tuples(actions, pauses), min_size=1, max_size=25)
contexts = st.fixed_dictionaries(
    {
        "first_name": st.sampled_from(["Sam", "Zoë", "محمد", "{first_name}", ""]),
        "nation": st.sampled_from(["england", "wales", "scotland", "northern_ireland", "mars"]),
    },
    optional={
        "child_name": st.sampled_from(["Ali", "{{x}}"]),
        "language": st.sampled_from(["en", "cy", "pl"]),
        "timezone": st.sampled_from(["Europe/London", "UTC", "Pacific/Auckland", "Not/AZone"]),
        "role": st.sampled_from(["parent", "child", "practitioner"]),
    },
)


SENSIBLE = {"text": "ok then", "time": "7pm", "date": "today", "number": "3"}


@dataclass
class Screen:
    """What the person sees: the latest buttons, the question's own options and its kind."""

    buttons: tuple[Button, ...] = ()
    prompt: int | None = None
    ask: str | None = None
    options: list[str] = field(default_factory=list)

    def update(self, events: list[Event]) -> None:
        for event in events:
            if isinstance(event, SendMessage) and event.kind == "question":
                self.ask = event.ask
                self.options = [b.value for b in event.buttons if not b.value.startswith("/")]
            shown = isinstance(event, SendMessage) and (event.buttons or event.kind == "question")
            if shown or isinstance(event, UpdateButtons):
                self.buttons, self.prompt = event.buttons, event.prompt  # type: ignore[union-attr]

    def to_input(self, action: Action, session: Session) -> Input:
        if isinstance(action, Say):
            return TextInput(action.text)
        if isinstance(action, Forged):
            return ButtonInput(action.value, session.prompt)
        if isinstance(action, Press):
            value = self.buttons[action.index % len(self.buttons)].value if self.buttons else "x"
            if action.no_prompt:
                return ButtonInput(value, None)
            prompt = self.prompt if self.prompt is not None else session.prompt
            return ButtonInput(value, prompt + action.stale)
        if isinstance(action, Cooperate):
            return self.sensible(action.choice, session)
        if isinstance(action, MediaInput) and action.caption is not None:
            return MediaInput(action.kind, action.file_id, action.caption)
        return action

    def sensible(self, choice: int, session: Session) -> Input:
        if self.ask == "media":
            return MediaInput("photo", f"file-{choice}")
        if self.ask == "multi" and session.selection:
            return ButtonInput(DONE_VALUE, session.prompt)
        if self.options:
            return ButtonInput(self.options[choice % len(self.options)], session.prompt)
        return TextInput(SENSIBLE.get(self.ask or "", "ok"))


def reload(session: Session) -> Session:
    data = session.to_json()
    again = Session.from_json(data)
    assert again.to_json() == data, "a session reloads to the same JSON"
    return again


def check_run(flow_id: str, context: dict[str, str], plan: list[tuple[Action, int]]) -> Session:
    """Run ``plan`` on ``flow_id``, checking the engine's promises after every input."""
    flow = LIBRARY[flow_id]
    now = T0
    session, events = start(flow, context, now, LIBRARY)
    assert events, "starting a flow says something"
    screen = Screen()
    screen.update(events)
    assert sum(isinstance(e, FlowEnded) for e in events) == (0 if session.active else 1)
    for action, seconds in plan:
        now += timedelta(seconds=seconds)
        session = reload(session)
        given = screen.to_input(action, session)
        before_json = session.to_json()
        before = session.model_copy(deep=True)

        after, events = resume(flow, session, given, now, LIBRARY)

        assert session.to_json() == before_json, "resume does not change the given session"
        if not isinstance(given, NudgeDue | Expired):
            assert events, f"no reply to {given!r}"
        for event in events:
            if isinstance(event, SendMessage):
                assert event.text.strip(), f"empty message after {given!r}"
        finished = [e for e in events if isinstance(e, FlowEnded)]
        assert len(finished) <= 1
        if before.active:
            assert after.status in ("active", "completed", "stopped", "expired")
            assert after.active == (not finished)
            if finished:
                assert finished[0].status == after.status
                assert finished[0].flow_id == flow_id
                assert finished[0].answers == after.answers.get(flow_id, {})
            assert after.prompt >= before.prompt
        else:
            assert after.status == before.status, "an ended run stays ended"
            assert after.answers == before.answers, "an ended run keeps its answers"
            assert not finished
            assert not any(isinstance(e, AnswerSaved) for e in events)
            assert after.to_json() == before_json
        if after.active:
            frame = after.frame
            assert frame.step in LIBRARY[frame.flow_id].ask_steps(), "an active run waits"
        for event in events:
            if isinstance(event, AnswerSaved):
                assert event.name in LIBRARY[event.flow_id].answer_steps()
                assert after.answers[event.flow_id][event.name] == event.value
        screen.update(events)
        session = after
    reload(session)
    record(f"ended {session.status}")
    record(f"questions asked: {min(session.prompt, 10)}{'+' if session.prompt >= 10 else ''}")
    return session


@pytest.mark.parametrize("flow_id", FLOW_IDS)
@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(context=contexts, plan=plans)
def test_any_inputs_on_any_flow(
    flow_id: str, context: dict[str, str], plan: list[tuple[Action, int]]
) -> None:
    check_run(flow_id, context, plan)


@pytest.mark.parametrize("flow_id", FLOW_IDS)
@settings(max_examples=30, deadline=None, derandomize=True)
@given(context=contexts, choices=st.lists(st.integers(0, 20), min_size=80, max_size=80))
def test_a_cooperative_person_completes_every_flow(
    flow_id: str, context: dict[str, str], choices: list[int]
) -> None:
    """Sensible answers (real buttons, a few words), a second apart, always reach the end."""
    plan: list[tuple[Action, int]] = [(Cooperate(c), 1) for c in choices]
    assert check_run(flow_id, context, plan).status == "completed"


@pytest.mark.parametrize("flow_id", FLOW_IDS)
def test_every_flow_starts_with_a_question_and_reloads(flow_id: str) -> None:
    session, events = start(LIBRARY[flow_id], {}, T0, LIBRARY)
    assert any(isinstance(e, SendMessage) and e.kind == "question" for e in events)
    assert reload(session).to_json() == session.to_json()


def test_every_shipped_flow_is_covered() -> None:
    assert len(FLOW_IDS) >= 10
    assert set(FLOW_IDS) == set(default_library().flows)


@pytest.mark.parametrize("typed", ["²", "①", "9" * 5000], ids=["superscript", "circled", "5000"])
def test_odd_digits_on_a_shipped_multi_question_do_not_raise(typed: str) -> None:
    flow = LIBRARY["household_agreement"]
    session, events = start(flow, {}, T0, LIBRARY)
    asked = [e.ask for e in events if isinstance(e, SendMessage) and e.kind == "question"]
    assert asked == ["multi"]
    _, events = resume(flow, session, TextInput(typed), T0, LIBRARY)
    assert events
