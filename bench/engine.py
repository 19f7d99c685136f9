"""Engine benchmark: every shipped flow run end to end many times, with JSON round trips.

Prints steps per second, the median and p99 time of one step (resume + session to JSON and
back), and the time to load and validate all dialogues. Targets (issue 2): median step under
100 microseconds including the round trip; loading all dialogues under 300 ms. As a baseline
measured in the same run it also times the JSON round trip alone, and prints the ratio.

    uv run python bench/engine.py [--runs 200]
"""

from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

from rpbot.dialogues import load_library
from rpbot.engine import (
    ButtonInput,
    Library,
    SendMessage,
    Session,
    TextInput,
    resume,
    start,
)

NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
CONTEXT = {"first_name": "Sam", "child_name": "Mia", "nation": "wales", "role": "parent"}


def run_flow(library: Library, flow_id: str, timings: list[float], baseline: list[float]) -> int:
    """Answer every question (first button, or a short text) until the flow ends."""
    flow = library[flow_id]
    session, events = start(flow, CONTEXT, NOW, library)
    now = NOW
    steps = 0
    while session.active and steps < 200:
        question = next(
            (e for e in reversed(events) if isinstance(e, SendMessage) and e.prompt), None
        )
        answers = [b for b in (question.buttons if question else ()) if not b.value.startswith("/")]
        if question and question.ask == "multi":
            given: TextInput | ButtonInput = TextInput("1, 2")
        elif answers:
            given = ButtonInput(answers[0].value, question.prompt if question else None)
        elif question and question.ask == "time":
            given = TextInput("7pm")
        elif question and question.ask == "date":
            given = TextInput("today")
        elif question and question.ask == "number":
            given = TextInput("3")
        else:
            given = TextInput("It went better than last week, we talked it through.")
        now += timedelta(seconds=30)
        begin = time.perf_counter()
        session = Session.from_json(session.to_json())
        session, events = resume(session_flow(library, session), session, given, now, library)
        timings.append(time.perf_counter() - begin)
        begin = time.perf_counter()
        Session.from_json(session.to_json())
        baseline.append(time.perf_counter() - begin)
        steps += 1
    return steps


def session_flow(library: Library, session: Session):  # type: ignore[no-untyped-def]
    return library[session.flow_id]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=200, help="runs of every flow")
    args = parser.parse_args()

    loads = []
    for _ in range(5):
        begin = time.perf_counter()
        library = load_library()
        loads.append(time.perf_counter() - begin)

    timings: list[float] = []
    baseline: list[float] = []
    total_steps = 0
    begin = time.perf_counter()
    for _ in range(args.runs):
        for flow_id in library:
            total_steps += run_flow(library, flow_id, timings, baseline)
    elapsed = time.perf_counter() - begin

    timings.sort()
    median = statistics.median(timings) * 1e6
    p99 = timings[int(len(timings) * 0.99)] * 1e6
    json_only = statistics.median(baseline) * 1e6
    print(f"flows: {len(library)}, runs each: {args.runs}, steps: {total_steps}")
    print(f"steps/s (incl. start and bookkeeping): {total_steps / elapsed:,.0f}")
    print(f"median step incl. JSON round trip: {median:.1f} us (target < 100 us)")
    print(f"p99 step: {p99:.1f} us")
    print(
        f"baseline, JSON round trip alone: {json_only:.1f} us; step/baseline ratio: "
        f"{median / json_only:.2f}"
    )
    print(
        f"load + validate all dialogues: best {min(loads) * 1000:.1f} ms, "
        f"median {statistics.median(loads) * 1000:.1f} ms (target < 300 ms)"
    )


if __name__ == "__main__":
    main()
