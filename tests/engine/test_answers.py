"""Unit tests of answer parsing: what people type or press, turned into answer values."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from rpbot.engine.answers import Parsed, Unusable, parse_answer, visible
from rpbot.engine.inputs import ButtonInput, MediaInput, TextInput
from rpbot.engine.model import AskStep, Flow

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
LONDON = "Europe/London"

OPTIONS: list[Any] = [
    {"value": "calm", "label": "😌 Calm"},
    {"value": "ok", "label": "🙂 OK"},
    "Hard",
]


def ask(kind: str, **fields: Any) -> AskStep:
    """A one-question flow's ask step, built through the Flow model like the loader does."""
    flow = Flow.model_validate(
        {
            "id": "t",
            "version": 1,
            "title": "T",
            "audience": "parent",
            "start": "q",
            "steps": {"q": {"ask": kind, "text": "Question?", **fields}},
        }
    )
    step = flow.steps["q"]
    assert isinstance(step, AskStep)
    return step


def parse(
    step: AskStep,
    given: TextInput | ButtonInput | MediaInput | str,
    now: datetime = NOW,
    tz: str = LONDON,
) -> Parsed | Unusable:
    if isinstance(given, str):
        given = TextInput(given)
    return parse_answer(step, given, "en", now, tz)


def value_of(result: Parsed | Unusable) -> Any:
    assert isinstance(result, Parsed), result
    return result.value


def reason_of(result: Parsed | Unusable) -> str:
    assert isinstance(result, Unusable), result
    return result.reason


def test_the_loader_names_the_answer_after_the_step() -> None:
    assert ask("text").answer_name == "q"
    assert ask("text", save="mood").answer_name == "mood"


# --- time ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("7pm", "19:00"),
        ("7 pm", "19:00"),
        ("7PM", "19:00"),
        ("19:30", "19:30"),
        ("7.30 pm", "19:30"),
        ("7:30pm", "19:30"),
        ("7:30 p.m.", "19:30"),
        ("7am", "07:00"),
        ("07:05", "07:05"),
        ("0:00", "00:00"),
        ("19h30", "19:30"),
        ("noon", "12:00"),
        ("Midday", "12:00"),
        ("midnight", "00:00"),
        ("12am", "00:00"),
        ("12:30am", "00:30"),
        ("12pm", "12:00"),
        ("  7pm  ", "19:00"),
    ],
)
def test_time_is_saved_as_hh_mm(typed: str, expected: str) -> None:
    result = parse(ask("time"), typed)
    assert result == Parsed(expected, expected)


@pytest.mark.parametrize(
    "typed",
    ["25:00", "24:00", "7:60", "13pm", "0am", "soon", "after tea", "7 30", "1930", "-7pm"],
)
def test_impossible_or_vague_times_are_unusable(typed: str) -> None:
    assert reason_of(parse(ask("time"), typed)) == "not_a_time"


@pytest.mark.parametrize("typed", ["7", "5", "12", "1"])
def test_a_bare_hour_that_could_be_am_or_pm_is_asked_again(typed: str) -> None:
    # "7" alone could be 7am or 7pm: the engine asks rather than guesses.
    assert reason_of(parse(ask("time"), typed)) == "ambiguous_time"


@pytest.mark.parametrize(("typed", "expected"), [("19", "19:00"), ("13", "13:00"), ("0", "00:00")])
def test_a_bare_hour_on_the_24_hour_clock_is_clear(typed: str, expected: str) -> None:
    assert value_of(parse(ask("time"), typed)) == expected


# --- date ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("2026-11-23", "2026-11-23"),
        ("23/11/2026", "2026-11-23"),
        ("23/11/26", "2026-11-23"),
        ("23-11-2026", "2026-11-23"),
        ("23.11.2026", "2026-11-23"),
        ("23/11", "2026-11-23"),
        ("1/2", "2026-02-01"),
        ("23 November 2026", "2026-11-23"),
        ("23 nov", "2026-11-23"),
        ("today", "2026-11-23"),
        ("Today", "2026-11-23"),
        ("yesterday", "2026-11-22"),
        ("tomorrow", "2026-11-24"),
    ],
)
def test_dates_are_saved_as_iso(typed: str, expected: str) -> None:
    assert parse(ask("date"), typed) == Parsed(expected, expected)


@pytest.mark.parametrize(
    "typed", ["31/02/2026", "2026-13-01", "23/11/1800", "someday", "next week", "32/1"]
)
def test_impossible_dates_are_unusable(typed: str) -> None:
    assert reason_of(parse(ask("date"), typed)) == "not_a_date"


def test_today_is_the_local_date_near_midnight() -> None:
    # 23:30 UTC in June is 00:30 the next day in London (BST).
    late = datetime(2026, 6, 15, 23, 30, tzinfo=UTC)
    step = ask("date")
    assert value_of(parse(step, "today", now=late, tz="Europe/London")) == "2026-06-16"
    assert value_of(parse(step, "yesterday", now=late, tz="Europe/London")) == "2026-06-15"
    assert value_of(parse(step, "today", now=late, tz="UTC")) == "2026-06-15"
    # In winter London is on UTC, so the dates agree.
    winter = datetime(2026, 11, 23, 23, 30, tzinfo=UTC)
    assert value_of(parse(step, "today", now=winter, tz="Europe/London")) == "2026-11-23"


def test_today_uses_the_timezone_of_now_not_its_offset() -> None:
    # The same instant given in another offset gives the same local date.
    from datetime import timedelta, timezone

    instant = datetime(2026, 6, 15, 23, 30, tzinfo=UTC).astimezone(timezone(timedelta(hours=-7)))
    assert value_of(parse(ask("date"), "today", now=instant)) == "2026-06-16"


def test_an_unknown_timezone_falls_back_to_utc() -> None:
    late = datetime(2026, 6, 15, 23, 30, tzinfo=UTC)
    assert value_of(parse(ask("date"), "today", now=late, tz="Nowhere/City")) == "2026-06-15"
    assert value_of(parse(ask("date"), "today", now=late, tz="")) == "2026-06-15"


def test_a_date_without_a_year_takes_the_local_year() -> None:
    # New Year in Auckland while it is still 31 December in UTC.
    new_year = datetime(2026, 12, 31, 12, 0, tzinfo=UTC)
    result = parse(ask("date"), "23/11", now=new_year, tz="Pacific/Auckland")
    assert value_of(result) == "2027-11-23"


def test_29_february_without_a_year_in_a_leap_year() -> None:
    leap = datetime(2028, 2, 29, 12, 0, tzinfo=UTC)
    assert value_of(parse(ask("date"), "29/02", now=leap)) == "2028-02-29"


def test_29_february_with_a_year() -> None:
    assert value_of(parse(ask("date"), "29/02/2028")) == "2028-02-29"
    assert reason_of(parse(ask("date"), "29/02/2027")) == "not_a_date"


# --- yes / no -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["yes", "Yes", "YES", "Yes!", "y", "yeah", "yep", "sure", "ok", "okay", "aye", "yes please"],
)
def test_yes_words(typed: str) -> None:
    assert parse(ask("yes_no"), typed) == Parsed(True, "Yes")


@pytest.mark.parametrize(
    "typed",
    ["no", "No", "n", "nope", "nah", "No thanks", "never", "not really", "Not at all", "no way"],
)
def test_no_words(typed: str) -> None:
    assert parse(ask("yes_no"), typed) == Parsed(False, "No")


@pytest.mark.parametrize(
    ("typed", "expected"), [("👍", True), ("✅", True), ("👎", False), ("❌", False)]
)
def test_yes_no_emoji(typed: str, expected: bool) -> None:
    assert value_of(parse(ask("yes_no"), typed)) is expected


@pytest.mark.parametrize("typed", ["maybe", "I don't know", "not sure", "🤷", "42"])
def test_unclear_yes_no_is_unusable(typed: str) -> None:
    assert reason_of(parse(ask("yes_no"), typed)) == "not_yes_no"


def test_yes_no_labels_are_shown_and_can_be_typed() -> None:
    step = ask("yes_no", yes_label="👍 Yes, they can see", no_label="🔒 Keep it private")
    assert parse(step, "👍 Yes, they can see") == Parsed(True, "👍 Yes, they can see")
    assert parse(step, "keep it private") == Parsed(False, "🔒 Keep it private")
    assert parse(step, ButtonInput("yes")) == Parsed(True, "👍 Yes, they can see")
    assert parse(step, ButtonInput("no")) == Parsed(False, "🔒 Keep it private")


def test_yes_no_buttons() -> None:
    assert parse(ask("yes_no"), ButtonInput("yes", 1)) == Parsed(True, "Yes")
    assert parse(ask("yes_no"), ButtonInput("no", 1)) == Parsed(False, "No")
    assert reason_of(parse(ask("yes_no"), ButtonInput("maybe", 1))) == "unknown_button"


@pytest.mark.parametrize("typed", ["definitely not", "Definitely NOT!", "course not"])
def test_a_negated_yes_word_is_not_yes(typed: str) -> None:
    result = parse(ask("yes_no"), typed)
    assert not (isinstance(result, Parsed) and result.value is True)


def test_thumbs_up_with_a_skin_tone_is_yes() -> None:
    assert value_of(parse(ask("yes_no"), "👍🏽")) is True


# --- scale and number ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("0", 0),
        ("7", 7),
        ("10", 10),
        ("  4 ", 4),
        ("seven", 7),
        ("Seven", 7),
        ("seven out of ten", 7),
        ("ten", 10),
        ("zero", 0),
        ("7/10", 7),
        ("8!", 8),
    ],
)
def test_scale_numbers_and_words(typed: str, expected: int) -> None:
    result = parse(ask("scale", min=0, max=10), typed)
    assert value_of(result) == expected
    assert type(value_of(result)) is int


@pytest.mark.parametrize(
    ("typed", "reason"),
    [
        ("11", "out_of_range"),
        ("eleven", "out_of_range"),
        ("7.5", "not_whole"),
        ("banana", "not_a_number"),
        ("lots", "not_a_number"),
    ],
)
def test_scale_refuses(typed: str, reason: str) -> None:
    assert reason_of(parse(ask("scale", min=0, max=10), typed)) == reason


def test_scale_range_is_inclusive() -> None:
    step = ask("scale", min=1, max=5)
    assert reason_of(parse(step, "0")) == "out_of_range"
    assert value_of(parse(step, "1")) == 1
    assert value_of(parse(step, "5")) == 5
    assert reason_of(parse(step, "6")) == "out_of_range"


def test_scale_buttons_and_labels() -> None:
    step = ask("scale", min=1, max=5, labels={1: "😢", 5: "😄"})
    assert parse(step, ButtonInput("1", 3)) == Parsed(1, "1 😢")
    assert parse(step, ButtonInput("3", 3)) == Parsed(3, "3")
    assert parse(step, "5") == Parsed(5, "5 😄")
    assert reason_of(parse(step, ButtonInput("9", 3))) == "out_of_range"
    assert reason_of(parse(step, ButtonInput("x", 3))) == "not_a_number"


def test_number_is_whole_by_default() -> None:
    step = ask("number", min=0, max=100)
    result = parse(step, "7")
    assert value_of(result) == 7
    assert type(value_of(result)) is int
    assert reason_of(parse(step, "7.5")) == "not_whole"
    assert reason_of(parse(step, "101")) == "out_of_range"


def test_number_with_integer_false_keeps_decimals() -> None:
    step = ask("number", integer=False)
    assert parse(step, "7.5") == Parsed(7.5, "7.5")
    assert value_of(parse(step, "7")) == 7.0
    assert type(value_of(parse(step, "7"))) is float
    assert reason_of(parse(step, "lots")) == "not_a_number"


def test_number_buttons_are_not_answers() -> None:
    assert reason_of(parse(ask("number"), ButtonInput("7", 1))) == "unknown_button"


def test_negative_numbers_keep_their_sign() -> None:
    step = ask("number", min=-10, max=10)
    assert value_of(parse(step, "-5")) == -5


def test_a_decimal_comma_is_a_decimal_point() -> None:
    step = ask("number", integer=False)
    assert value_of(parse(step, "7,5")) == 7.5


def test_a_huge_number_is_not_an_exception() -> None:
    result = parse(ask("number"), "9" * 400)
    assert isinstance(result, Unusable) or result.value != float("inf")


# --- choice -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "value", "shown"),
    [
        ("1", "calm", "😌 Calm"),
        ("2", "ok", "🙂 OK"),
        (" 3 ", "Hard", "Hard"),
        ("😌 Calm", "calm", "😌 Calm"),
        ("calm", "calm", "😌 Calm"),
        ("CALM", "calm", "😌 Calm"),
        ("OK", "ok", "🙂 OK"),
        ("hard", "Hard", "Hard"),
        ("Hard!", "Hard", "Hard"),
    ],
)
def test_choice_by_number_label_or_value(typed: str, value: str, shown: str) -> None:
    assert parse(ask("choice", options=OPTIONS), typed) == Parsed(value, shown)


@pytest.mark.parametrize("typed", ["something else", "4", "0", "a bit of both"])
def test_choice_free_text_is_kept_as_the_answer(typed: str) -> None:
    assert parse(ask("choice", options=OPTIONS), typed) == Parsed(typed, typed, typed)


def test_choice_free_text_is_trimmed_and_has_a_limit() -> None:
    step = ask("choice", options=OPTIONS)
    assert parse(step, "  my own words ") == Parsed("my own words", "my own words", "my own words")
    assert reason_of(parse(step, "x" * 4097)) == "too_long"


def test_choice_buttons() -> None:
    step = ask("choice", options=OPTIONS)
    assert parse(step, ButtonInput("ok", 1)) == Parsed("ok", "🙂 OK")
    assert parse(step, ButtonInput("Hard", 1)) == Parsed("Hard", "Hard")
    # A button value must be exact: labels and numbers are for typing.
    assert reason_of(parse(step, ButtonInput("🙂 OK", 1))) == "unknown_button"
    assert reason_of(parse(step, ButtonInput("2", 1))) == "unknown_button"
    assert reason_of(parse(step, ButtonInput("forged", 1))) == "unknown_button"


def test_choice_labels_in_the_persons_language() -> None:
    step = ask("choice", options=[{"value": "y", "label": {"en": "Yes", "cy": "Ie"}}, "Other"])
    assert parse_answer(step, TextInput("ie"), "cy", NOW, LONDON) == Parsed("y", "Ie")
    assert parse_answer(step, TextInput("1"), "en", NOW, LONDON) == Parsed("y", "Yes")


@pytest.mark.parametrize("kind", ["choice", "multi"])
@pytest.mark.parametrize(
    "typed", ["²", "①", "1²", "9" * 5000], ids=["sup", "circled", "1sup", "5000"]
)
def test_odd_digits_on_a_choice_are_not_an_exception(kind: str, typed: str) -> None:
    assert parse(ask(kind, options=OPTIONS), typed)


# --- multi --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    ["1, 3", "1,3", "1 3", "1 and 3", "1;3", "1/3", "calm, hard", "😌 Calm, Hard", "Calm\nHard"],
)
def test_multi_typed(typed: str) -> None:
    assert parse(ask("multi", options=OPTIONS), typed) == Parsed(["calm", "Hard"], "😌 Calm, Hard")


def test_multi_single_and_duplicates() -> None:
    step = ask("multi", options=OPTIONS)
    assert value_of(parse(step, "2")) == ["ok"]
    assert value_of(parse(step, "1, 1")) == ["calm"]
    result = parse(step, "3, 1")
    assert set(value_of(result)) == {"calm", "Hard"}
    assert isinstance(result, Parsed)
    assert result.display == "😌 Calm, Hard"


@pytest.mark.parametrize("typed", ["1, banana", "4", "1 3 5", "none of these"])
def test_multi_free_text_is_kept_as_one_item(typed: str) -> None:
    assert parse(ask("multi", options=OPTIONS), typed) == Parsed([typed], typed, typed)


# --- text ---------------------------------------------------------------------------------


def test_text_is_trimmed() -> None:
    assert parse(ask("text"), "  hello  ") == Parsed("hello", "hello", "hello")


def test_text_lengths() -> None:
    step = ask("text", min_length=3, max_length=5)
    assert reason_of(parse(step, "ab")) == "too_short"
    # Invisible characters do not count towards the minimum.
    assert reason_of(parse(step, "a\u200bb")) == "too_short"
    assert value_of(parse(step, "abc")) == "abc"
    assert value_of(parse(step, "abcde")) == "abcde"
    assert reason_of(parse(step, "abcdef")) == "too_long"
    assert reason_of(parse(ask("text"), "x" * 4097)) == "too_long"
    assert value_of(parse(ask("text"), "x" * 4096)) == "x" * 4096


def test_text_keeps_right_to_left_and_emoji() -> None:
    for words in ("مرحبا بك", "שלום", "😀🎉", "Ça va? 你好"):
        assert value_of(parse(ask("text"), words)) == words


def test_buttons_on_a_text_question_are_unusable() -> None:
    assert reason_of(parse(ask("text"), ButtonInput("x", 1))) == "unknown_button"


# --- media --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["photo", "voice", "document"])
def test_media_kinds_accepted_by_default(kind: str) -> None:
    result = parse(ask("media"), MediaInput(kind, "file-1", "my caption"))  # type: ignore[arg-type]
    shown = {"photo": "📷 Photo", "voice": "🎤 Voice note", "document": "📎 File"}[kind]
    assert result == Parsed({"kind": kind, "file_id": "file-1"}, shown, "my caption")


def test_media_accept_limits_the_kinds() -> None:
    step = ask("media", accept=["photo"])
    assert value_of(parse(step, MediaInput("photo", "p"))) == {"kind": "photo", "file_id": "p"}
    assert reason_of(parse(step, MediaInput("voice", "v"))) == "media_kind"
    assert reason_of(parse(ask("media"), MediaInput("other", "o"))) == "media_kind"


def test_a_media_question_wants_media() -> None:
    assert reason_of(parse(ask("media"), "here it is")) == "media_expected"
    assert reason_of(parse(ask("media"), ButtonInput("x", 1))) == "media_expected"


def test_a_caption_answers_a_text_question() -> None:
    assert parse(ask("text"), MediaInput("photo", "p", "  our new chart ")) == Parsed(
        "our new chart", "our new chart", "our new chart"
    )
    assert value_of(parse(ask("time"), MediaInput("photo", "p", "7pm"))) == "19:00"
    assert value_of(parse(ask("choice", options=OPTIONS), MediaInput("voice", "v", "2"))) == "ok"


@pytest.mark.parametrize("caption", [None, "", "   ", "\u200b\u200d"])
def test_media_without_a_usable_caption_on_a_text_question(caption: str | None) -> None:
    given = MediaInput("photo", "p", caption)
    assert reason_of(parse(ask("text"), given)) == "media_not_expected"
    assert reason_of(parse(ask("yes_no"), given)) == "media_not_expected"


# --- unusable text ------------------------------------------------------------------------

EMPTY_TEXTS = ["", " ", "   ", "\n\t", "\u200b", "\u200b\u200c\u200d\ufeff\u2060", " \u200b \u00a0"]


@pytest.mark.parametrize("typed", EMPTY_TEXTS)
@pytest.mark.parametrize(
    ("kind", "fields"),
    [
        ("text", {}),
        ("choice", {"options": OPTIONS}),
        ("multi", {"options": OPTIONS}),
        ("yes_no", {}),
        ("scale", {"min": 0, "max": 10}),
        ("number", {}),
        ("time", {}),
        ("date", {}),
    ],
)
def test_empty_or_invisible_text_is_unusable(typed: str, kind: str, fields: dict[str, Any]) -> None:
    assert reason_of(parse(ask(kind, **fields), typed)) == "empty"


def test_visible_strips_invisible_characters() -> None:
    assert visible("\u200b hi\u200d there \ufeff") == "hi there"
    assert visible("\u200b\u200c") == ""
