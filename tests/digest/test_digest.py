"""Digest content from a known week: golden text, privacy, attention, escaping, splitting."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rpbot.dialogues import default_library
from rpbot.digest.build import build_report
from rpbot.digest.chart import chart_png
from rpbot.digest.model import DigestReport
from rpbot.digest.report_html import render_html
from rpbot.digest.text import LIMIT, family_messages, overview, split_html
from rpbot.services.digests import LibraryVocabulary, render
from rpbot.storage._digests import DigestRows
from tests.digest.sample import END, PRIVATE_WORDS, START, sample

GOLDEN = Path(__file__).parent / "golden" / "sample_week.txt"
VOCABULARY = LibraryVocabulary(default_library())


def report_of(rows: DigestRows) -> DigestReport:
    return build_report(
        rows,
        practitioner="Alex",
        timezone="Europe/London",
        start=START,
        end=END,
        vocabulary=VOCABULARY,
    )


@pytest.fixture(scope="module")
def report() -> DigestReport:
    return report_of(sample())


def all_text(report: DigestReport) -> str:
    messages = overview(report)
    for family in report.families:
        messages += family_messages(family, report.timezone)
    return "\n\n=====\n\n".join(messages) + "\n"


def test_the_sample_week_reads_as_expected(report: DigestReport, update_golden: bool) -> None:
    text = all_text(report)
    if update_golden:
        GOLDEN.write_text(text, encoding="utf-8")
    assert text == GOLDEN.read_text(encoding="utf-8")


def test_families_needing_attention_come_first(report: DigestReport) -> None:
    assert [f.name for f in report.families] == ["Hill", "Brook", "Green"]
    hill = report.families[0]
    assert [f.severity for f in hill.flags][:2] == ["urgent", "attention"]
    assert "1 safeguarding alert not yet acknowledged" in [f.text for f in hill.flags]
    assert "Leo has blocked the bot: nothing reaches them" in [f.text for f in hill.flags]
    assert "Scale dropped 5 → 2" in [f.text for f in hill.flags]
    assert "Jo would like to talk with you" in [f.text for f in hill.flags]
    assert "Jo left 4 reminders unanswered" in [f.text for f in hill.flags]


def test_a_childs_private_answers_are_counted_never_quoted(report: DigestReport) -> None:
    green = next(f for f in report.families if f.name == "Green")
    [mia] = green.children
    assert mia.private_count == 2  # Three Houses kept private, and an expired feelings check-in
    assert [q.text for e in mia.shared for q in e.quotes] == [
        "I broke the blue cup",
        "Ask for help to carry it",
    ]
    rendered = render(report, charts=False)
    everything = "".join(rendered.overview + rendered.html.split())
    everything += "".join(m for f in rendered.families for m in f.messages)
    assert "PRIVATE" not in everything
    assert "dog" not in everything
    assert "My new bike" not in everything  # also private, though not a worry
    assert "Mia kept 2 activities private 🔒" in all_text(report)
    assert PRIVATE_WORDS in [a.free_text for a in sample().answers]  # it was there to leak


def test_a_quiet_family_is_shown_briefly(report: DigestReport) -> None:
    brook = next(f for f in report.families if f.name == "Brook")
    assert brook.quiet
    assert brook.needs_attention
    [message] = family_messages(brook, "Europe/London")
    assert "No activity this week" in message
    assert "Kim (parent): nothing started" in message
    assert "Check-in" not in message  # brief: no empty sections
    assert "Three-question check-in, Sundays at 18:00" in message


def test_an_empty_week_for_everyone(report: DigestReport) -> None:
    rows = sample()
    empty = DigestRows(rows.families, rows.members, [], [], [], [], rows.schedules, [])
    quiet = report_of(empty)
    assert all(f.quiet for f in quiet.families)
    assert "Need your attention (3)" in overview(quiet)[0]
    assert all("No activity this week" in family_messages(f, "UTC")[0] for f in quiet.families)


def test_no_families_at_all() -> None:
    nothing = report_of(DigestRows([], [], [], [], [], [], [], []))
    assert "You have no families yet" in overview(nothing)[0]
    assert render(nothing).html.count("<section") == 0


def test_markup_in_answers_is_escaped_in_text_and_html(report: DigestReport) -> None:
    green = next(f for f in report.families if f.name == "Green")
    text = "\n".join(family_messages(green, "Europe/London"))
    assert "“Bedtime &lt;b&gt;story&lt;/b&gt; &amp; cuddles”" in text
    html = render_html(report)
    assert "Bedtime &lt;b&gt;story&lt;/b&gt; &amp; cuddles" in html
    assert "<b>story</b>" not in html


def test_scale_trend_and_chores(report: DigestReport) -> None:
    green = next(f for f in report.families if f.name == "Green")
    assert (green.scale.now, green.scale.previous, green.scale.change) == (6, 4, 2)
    assert green.scale.weeks[-2:] == (4, 6)
    [chores] = green.chores
    assert (chores.agreed, chores.done, chores.a_bit, chores.not_yet) == (3, 2, 0, 1)
    assert green.diary.entries == 2
    assert green.diary.flashpoints == ("07:45", "17:30")
    assert green.diary.hard_parts == (("mornings", 2), ("teatime", 1))


def test_a_long_family_is_split_cleanly_at_the_limit() -> None:
    rows = sample()
    green_sam = rows.members[0]
    for i in range(60):
        rows.answers.append(
            rows.answers[0].model_copy(
                update={
                    "id": 1000 + i,
                    "run_id": 900 + i,
                    "flow_id": "incident_reflection",
                    "name": "what_happened",
                    "free_text": f"Long day {i} <i>" + "word " * 60,
                    "created_at": START,
                    "member_id": green_sam.id,
                    "share": "practitioner",
                }
            )
        )
    green = next(f for f in report_of(rows).families if f.name == "Green")
    messages = family_messages(green, "Europe/London")
    assert len(messages) > 1
    assert all(len(m) <= LIMIT for m in messages)
    assert all(m.startswith("🏠 <b>Green family</b>") for m in messages)
    for message in messages:  # every tag opened in a message is closed in it
        for tag in ("b", "i"):
            assert message.count(f"<{tag}>") == message.count(f"</{tag}>"), message
    joined = "\n".join(messages)
    assert all(f"Long day {i} &lt;i&gt;" in joined for i in range(60))


def test_split_keeps_every_block_and_cuts_an_overlong_line_safely() -> None:
    blocks = ["<b>one</b>", "x" * 5000 + " &amp; <i>end</i>", "<b>three</b>"]
    messages = split_html(blocks, limit=1000)
    assert all(len(m) <= 1000 for m in messages)
    assert messages[0] == "<b>one</b>"
    assert messages[-1].endswith("<b>three</b>")
    assert not any(re.search(r"&[a-z]*$", m) for m in messages)  # no entity cut in half
    assert "".join(messages).count("x") == 5000


def test_the_chart_is_a_png(report: DigestReport) -> None:
    png = chart_png(report.families[0], report.week_starts, report.timezone)
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    assert len(png) > 5000


def test_charts_drawn_one_after_another_keep_nothing_from_the_last(report: DigestReport) -> None:
    hill, brook, green = report.families
    args = (report.week_starts, report.timezone, 12)
    first = chart_png(green, *args)
    assert chart_png(hill, *args) != first
    assert chart_png(brook, *args) != first
    assert chart_png(green, *args) == first  # the frame is restored, not drawn over
