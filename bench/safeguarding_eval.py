"""Safeguarding screener evaluation: recall, precision and speed on the labelled sets.

Loads the labelled sets in ``tests/safeguarding/`` and prints, per file: message recall and
precision, recall per category, the ids (never the words) of the messages it got wrong; then the
development sets together, then the blind set on its own, and the median time to screen one
message. Targets (issue 6): recall at least 0.95, precision at least 0.90, well under 1 ms per
message.

- ``labelled_dev*.yaml`` are development sets: the rules are tuned against them, and
  ``tests/safeguarding/test_evaluation.py`` asserts the targets on them.
- ``labelled_blind.yaml`` is written blind by someone who never saw the rules. Its figures are
  printed last, for a person to read, and asserted nowhere: do not change the rules in response
  to them (or to its ids), or it stops measuring anything. ``--no-blind`` leaves it out, for
  tuning sessions.
- any other ``labelled_*.yaml`` is reported on its own too.

    uv run python bench/safeguarding_eval.py [--repeat 20] [--folder DIR] [--no-blind]
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Sequence
from pathlib import Path

from rpbot.safeguarding import CATEGORIES, default_screener
from rpbot.safeguarding.evaluation import (
    LabelledMessage,
    Report,
    evaluate,
    labelled_files,
    load_labelled,
)
from rpbot.safeguarding.screener import Screener

FOLDER = Path(__file__).resolve().parent.parent / "tests" / "safeguarding"
DEV_GLOB = "labelled_dev*.yaml"
BLIND_NAME = "labelled_blind.yaml"


def print_report(report: Report) -> None:
    """One block of figures for one set of messages."""
    concerns = report.expected_concerns
    print(f"\n== {report.name}: {report.total} messages, {concerns} expecting a concern")
    print(f"   recall    {report.recall:.3f}  ({report.true_positives}/{concerns})")
    flagged = report.true_positives + len(report.false_positives)
    print(f"   precision {report.precision:.3f}  ({report.true_positives}/{flagged})")
    for category, (hits, expected) in report.category_hits.items():
        print(
            f"   {category:<18} recall {report.category_recall(category):.3f}  ({hits}/{expected})"
        )
    print(f"   missed (false negatives): {', '.join(report.false_negatives) or '-'}")
    print(f"   false alarms (false positives): {', '.join(report.false_positives) or '-'}")


def microseconds_per_message(
    screener: Screener, messages: Sequence[LabelledMessage], repeat: int
) -> float:
    """Median time to screen one message, over every message ``repeat`` times."""
    timings: list[float] = []
    for _ in range(repeat):
        for message in messages:
            started = time.perf_counter()
            screener.screen(message.text)
            timings.append(time.perf_counter() - started)
    return statistics.median(timings) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=20, help="timing passes over the set")
    parser.add_argument("--folder", type=Path, default=FOLDER, help="folder of labelled_*.yaml")
    parser.add_argument(
        "--no-blind", action="store_true", help=f"leave out {BLIND_NAME} (for tuning sessions)"
    )
    args = parser.parse_args()

    started = time.perf_counter()
    screener = default_screener()
    print(f"rules loaded and compiled in {(time.perf_counter() - started) * 1e3:.1f} ms")
    dev_paths = sorted(args.folder.glob(DEV_GLOB))
    blind_path = args.folder / BLIND_NAME
    others = [p for p in labelled_files(args.folder) if p not in dev_paths and p != blind_path]

    dev: list[LabelledMessage] = []
    for path in dev_paths:
        messages = load_labelled(path, CATEGORIES)
        dev += messages
        print_report(evaluate(screener, messages, f"{path.name} (dev)"))
    if not dev:
        raise SystemExit(f"no {DEV_GLOB} in {args.folder}")
    print_report(evaluate(screener, dev, "all dev sets (tuned against; targets asserted in tests)"))
    timed = list(dev)
    for path in others:
        messages = load_labelled(path, CATEGORIES)
        timed += messages
        print_report(evaluate(screener, messages, path.name))

    if args.no_blind:
        print(f"\n{BLIND_NAME}: left out (--no-blind)")
    elif not blind_path.exists():
        print(f"\n{BLIND_NAME}: not there yet")
    else:
        blind = load_labelled(blind_path, CATEGORIES)
        timed += blind
        print("\n-- blind set: written without seeing the rules; reported, never tuned against --")
        print_report(evaluate(screener, blind, f"{BLIND_NAME} (blind)"))

    speed = microseconds_per_message(screener, timed, args.repeat)
    print(f"\nmedian {speed:.1f} µs per message ({len(timed)} messages x {args.repeat})")


if __name__ == "__main__":
    main()
