"""The screener measured on the labelled sets: recall >= 0.95, precision >= 0.90 per message.

Development sets (``labelled_dev*.yaml``) are sets the rules may be tuned against:

- ``labelled_dev``: the original set;
- ``labelled_dev2``: once a held-out set written blind, promoted once its misses were studied;
- ``labelled_dev3``: generalisation probes written by the rule author;
- ``labelled_dev4``: 160 messages, the second blind set (recall 0.686 when run blind), promoted;
- ``labelled_dev5``: 260 messages, mostly parents, written by people who never saw the rules;
- ``labelled_dev6``: 260 messages, mostly children (6-16), written by people who never saw
  the rules.

Each of them, and their union, must meet the thresholds; run with ``-s`` to see the figures (ids
and figures, never words).

The blind set (``labelled_blind.yaml``, written by someone who never saw the rules) is deliberately
NOT evaluated or asserted here. A test that asserts a target on it invites changing the rules until
the test passes, which turns the blind set into one more tuning set and leaves no honest measure
of how the rules do on messages nobody has listed. ``bench/safeguarding_eval.py`` prints its
figures for a human to read; when they are poor, find new phrasings in practice (or write a new
blind set) rather than tuning against that file.
"""

from __future__ import annotations

import statistics
import time
from collections import Counter
from pathlib import Path

import pytest

from rpbot.safeguarding import CATEGORIES, default_screener
from rpbot.safeguarding.evaluation import (
    LabelledMessage,
    LabelledSetError,
    Report,
    evaluate,
    load_labelled,
)

FOLDER = Path(__file__).resolve().parent
DEV = FOLDER / "labelled_dev.yaml"
#: Every development set: the rules may be tuned against these, and they must meet the targets.
DEV_SETS = sorted(FOLDER.glob("labelled_dev*.yaml"))
#: Written blind; never evaluated in the tests (see the module docstring).
BLIND = FOLDER / "labelled_blind.yaml"
MIN_RECALL = 0.95
MIN_PRECISION = 0.90


def load(path: Path) -> list[LabelledMessage]:
    return load_labelled(path, CATEGORIES)


def describe(report: Report) -> str:
    """A report as text: figures and ids only."""
    lines = [
        f"{report.name}: {report.total} messages, {report.expected_concerns} concerns, "
        f"recall {report.recall:.3f}, precision {report.precision:.3f}",
        *(
            f"  {category}: recall {report.category_recall(category):.3f} ({hits}/{expected})"
            for category, (hits, expected) in report.category_hits.items()
        ),
        f"  missed: {', '.join(report.false_negatives) or '-'}",
        f"  false alarms: {', '.join(report.false_positives) or '-'}",
    ]
    return "\n".join(lines)


def assert_thresholds(report: Report) -> None:
    assert report.recall >= MIN_RECALL, describe(report)
    assert report.precision >= MIN_PRECISION, describe(report)


def test_the_dev_sets_are_found_and_the_blind_set_is_not_among_them() -> None:
    names = [path.name for path in DEV_SETS]
    assert DEV.name in names
    assert "labelled_dev2.yaml" in names
    assert BLIND not in DEV_SETS


@pytest.mark.parametrize("path", DEV_SETS, ids=lambda p: p.name)
def test_each_dev_set_meets_the_targets(path: Path) -> None:
    report = evaluate(default_screener(), load(path), path.name)
    print("\n" + describe(report))  # the figures, per file (pytest -s)
    assert report.total > 0
    assert_thresholds(report)


def test_the_dev_sets_together_meet_the_targets() -> None:
    messages = [m for path in DEV_SETS for m in load(path)]
    assert_thresholds(evaluate(default_screener(), messages, "all dev sets"))


def test_dev_set_ids_are_unique_across_files() -> None:
    ids = [m.id for path in DEV_SETS for m in load(path)]
    assert len(ids) == len(set(ids))


def test_the_dev_set_is_big_balanced_and_well_formed() -> None:
    messages = load(DEV)
    assert len(messages) >= 220
    assert len({m.id for m in messages}) == len(messages)
    assert len({m.text for m in messages}) == len(messages)
    concerns = sum(1 for m in messages if m.expected)
    assert 0.40 <= concerns / len(messages) <= 0.50
    per_category = Counter(c for m in messages for c in m.expected)
    assert set(per_category) == set(CATEGORIES)
    assert min(per_category.values()) >= 12, per_category
    assert {m.sender for m in messages} == {"parent", "child"}
    for message in messages:
        assert len(set(message.expected)) == len(message.expected), message.id


def test_screening_is_fast() -> None:
    # issue 6: well under 1 ms per typical message (CPU time, so a busy machine does not count)
    screener = default_screener()
    texts = [m.text for m in load(DEV)]
    timings = []
    for text in texts * 3:
        started = time.thread_time()
        screener.screen(text)
        timings.append(time.thread_time() - started)
    assert statistics.median(timings) < 0.001


def test_a_labelled_file_may_be_a_bare_list_without_ids(tmp_path: Path) -> None:
    path = tmp_path / "labelled_extra.yaml"
    path.write_text(
        '- {from: child, text: "kms", expected: [self_harm], note: ignored}\n'
        '- {from: parent, text: "lovely day", expected: []}\n',
        encoding="utf-8",
    )
    messages = load(path)
    assert [m.id for m in messages] == ["labelled_extra:1", "labelled_extra:2"]
    report = evaluate(default_screener(), messages, path.name)
    assert (report.recall, report.precision) == (1.0, 1.0)
    assert report.category_hits == {"self_harm": (1, 1)}


def test_a_label_outside_the_categories_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "labelled_typo.yaml"
    path.write_text('- {id: t1, from: child, text: "x", expected: [self_harn]}\n', encoding="utf-8")
    with pytest.raises(LabelledSetError, match=r"labelled_typo\.yaml: t1: unknown categories"):
        load(path)
