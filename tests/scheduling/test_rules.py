"""Schedule rules: reading days and times, describing them, and local-time maths across DST.

Europe/London changes in 2027 on Sunday 28 March (01:00 GMT -> 02:00 BST: 01:00-02:00 local
does not exist) and Sunday 31 October (02:00 BST -> 01:00 GMT: 01:00-02:00 local happens
twice). America/New_York changes on 14 March and 7 November 2027 at 02:00; Australia/Sydney
on 4 April (03:00 -> 02:00) and 3 October 2027 (02:00 -> 03:00).
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rpbot.scheduling.rules import (
    DAYS,
    Rule,
    RuleError,
    in_quiet_hours,
    next_occurrence,
    parse_days,
    parse_time,
    zone,
)

LONDON = "Europe/London"
LONDON_TZ = ZoneInfo(LONDON)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0, sec: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, sec, tzinfo=UTC)


def local(
    tz_name: str, year: int, month: int, day: int, hour: int = 0, minute: int = 0, fold: int = 0
) -> datetime:
    """A wall-clock time in ``tz_name`` as a UTC instant."""
    wall = datetime(year, month, day, hour, minute, tzinfo=ZoneInfo(tz_name), fold=fold)
    return wall.astimezone(UTC)


def occurrences(rule: Rule, tz_name: str, after: datetime, until: datetime) -> list[datetime]:
    """Every occurrence after ``after`` up to ``until``, by iterating next_occurrence."""
    found: list[datetime] = []
    current = after
    while True:
        current = next_occurrence(rule, tz_name, current)
        if current > until:
            return found
        found.append(current)


def per_local_date(instants: list[datetime], tz_name: str) -> Counter[date]:
    tz = ZoneInfo(tz_name)
    return Counter(i.astimezone(tz).date() for i in instants)


# --- reading days and times -------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("", ()),
        ("daily", ()),
        ("  Every   Day ", ()),
        ("DAILY", ()),
        ("weekdays", ("mon", "tue", "wed", "thu", "fri")),
        ("weekends", ("sat", "sun")),
        ("sun", ("sun",)),
        ("mon,thu", ("mon", "thu")),
        ("thu, mon", ("mon", "thu")),
        ("Thursday Monday", ("mon", "thu")),
        ("Mondays,Wednesdays,Fridays", ("mon", "wed", "fri")),
        ("sat,sat,SAT", ("sat",)),
    ],
)
def test_days_are_read_from_aliases_and_names_in_week_order(
    text: str, days: tuple[str, ...]
) -> None:
    assert parse_days(text) == days


@pytest.mark.parametrize("text", ["someday", "mon,funday", "1,2", "tomorrow", "every other day"])
def test_unknown_days_are_refused_with_what_is_accepted(text: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_days(text)
    message = str(caught.value)
    assert "is not a day" in message
    assert "daily" in message
    assert "weekdays" in message
    assert "mon,thu" in message


@pytest.mark.parametrize(
    ("text", "at"),
    [
        ("19:30", time(19, 30)),
        ("7:05", time(7, 5)),
        ("07:05", time(7, 5)),
        (" 00:00 ", time(0, 0)),
        ("23:59", time(23, 59)),
    ],
)
def test_times_are_24_hour_hh_mm(text: str, at: time) -> None:
    assert parse_time(text) == at


@pytest.mark.parametrize(
    "text", ["24:00", "19:60", "7pm", "19.30", "1930", "", "19:3", "-1:00", "19:30:00"]
)
def test_bad_times_are_refused_with_an_example(text: str) -> None:
    with pytest.raises(RuleError) as caught:
        parse_time(text)
    message = str(caught.value)
    assert f"'{text}' is not a time" in message
    assert "HH:MM" in message
    assert "19:30" in message


def test_a_rule_error_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="is not a time"):
        Rule.parse("daily", "25:00")
    with pytest.raises(ValueError, match="is not a day"):
        Rule.parse("someday", "10:00")


def test_a_rule_keeps_its_stored_form() -> None:
    rule = Rule.parse("Thursday, mon", "7:05")
    assert rule == Rule(("mon", "thu"), time(7, 5))
    assert rule.days_text == "mon,thu"
    assert rule.time_text == "07:05"
    assert Rule.parse(rule.days_text, rule.time_text) == rule
    assert Rule.parse("daily", "19:30").days_text == ""


@pytest.mark.parametrize(
    ("days", "at", "words"),
    [
        ("daily", "19:30", "every day at 19:30"),
        ("", "08:00", "every day at 08:00"),
        ("sun", "18:00", "Sundays at 18:00"),
        ("weekdays", "17:00", "weekdays at 17:00"),
        ("mon,tue,wed,thu,fri", "17:00", "weekdays at 17:00"),
        ("weekends", "11:00", "weekends at 11:00"),
        ("thu,mon", "7:05", "Mondays and Thursdays at 07:05"),
        ("fri,mon,wed", "06:30", "Mondays, Wednesdays and Fridays at 06:30"),
    ],
)
def test_rules_describe_themselves_in_plain_words(days: str, at: str, words: str) -> None:
    assert Rule.parse(days, at).describe() == words


# --- timezones --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["Mars/Olympus", "", "Europe/Londn", "../../etc/passwd"])
def test_an_unknown_timezone_is_refused_with_an_example(name: str) -> None:
    with pytest.raises(RuleError, match="is not an IANA timezone such as Europe/London"):
        zone(name)
    with pytest.raises(RuleError, match="is not an IANA timezone"):
        next_occurrence(Rule.parse("daily", "19:30"), name, utc(2027, 1, 1))
    with pytest.raises(RuleError, match="is not an IANA timezone"):
        in_quiet_hours(utc(2027, 1, 1), name, "21:00", "08:00")


def test_known_timezones_are_found() -> None:
    assert zone(LONDON) == LONDON_TZ
    assert zone("Australia/Sydney").key == "Australia/Sydney"


# --- next occurrence: plain days --------------------------------------------------------


def test_next_occurrence_is_strictly_after_and_in_utc() -> None:
    rule = Rule.parse("daily", "19:30")
    at_time = utc(2027, 1, 11, 19, 30)
    assert next_occurrence(rule, LONDON, utc(2027, 1, 11, 12)) == at_time
    assert next_occurrence(rule, LONDON, at_time - timedelta(microseconds=1)) == at_time
    # Exactly at an occurrence: the next one, not the same one again.
    assert next_occurrence(rule, LONDON, at_time) == utc(2027, 1, 12, 19, 30)
    assert next_occurrence(rule, LONDON, at_time).tzinfo == UTC


def test_next_occurrence_accepts_an_aware_time_in_any_zone() -> None:
    rule = Rule.parse("daily", "19:30")
    in_new_york = datetime(2027, 1, 11, 7, 0, tzinfo=ZoneInfo("America/New_York"))  # 12:00 UTC
    assert next_occurrence(rule, LONDON, in_new_york) == utc(2027, 1, 11, 19, 30)


def test_weekly_sunday_1800_fires_on_sundays_at_1800_london_time() -> None:
    rule = Rule.parse("sun", "18:00")
    found = occurrences(rule, LONDON, utc(2027, 3, 15), utc(2027, 4, 12))
    assert found == [
        utc(2027, 3, 21, 18, 0),  # GMT
        utc(2027, 3, 28, 17, 0),  # the change day: 18:00 BST
        utc(2027, 4, 4, 17, 0),
        utc(2027, 4, 11, 17, 0),
    ]
    for instant in found:
        wall = instant.astimezone(LONDON_TZ)
        assert (wall.weekday(), wall.hour, wall.minute) == (6, 18, 0)


def test_weekdays_and_weekends_fire_only_on_their_days() -> None:
    start, end = utc(2027, 2, 1), utc(2027, 2, 28, 23, 59)
    weekdays = occurrences(Rule.parse("weekdays", "17:00"), LONDON, start, end)
    weekends = occurrences(Rule.parse("weekends", "11:00"), LONDON, start, end)
    assert len(weekdays) == 20
    assert len(weekends) == 8
    assert {w.astimezone(LONDON_TZ).weekday() for w in weekdays} == {0, 1, 2, 3, 4}
    assert {w.astimezone(LONDON_TZ).weekday() for w in weekends} == {5, 6}


def test_a_weekly_rule_from_mid_week_waits_for_its_day() -> None:
    rule = Rule.parse("sat", "11:00")
    # Monday 23 November 2026 -> Saturday 28 November.
    assert next_occurrence(rule, LONDON, utc(2026, 11, 23, 18)) == utc(2026, 11, 28, 11)
    # Saturday after 11:00 -> the next Saturday.
    assert next_occurrence(rule, LONDON, utc(2026, 11, 28, 11, 1)) == utc(2026, 12, 5, 11)


# --- DST in Europe/London ---------------------------------------------------------------


def test_daily_1930_stays_1930_local_across_the_march_change() -> None:
    found = occurrences(Rule.parse("daily", "19:30"), LONDON, utc(2027, 3, 25), utc(2027, 3, 31))
    assert found == [
        utc(2027, 3, 25, 19, 30),
        utc(2027, 3, 26, 19, 30),
        utc(2027, 3, 27, 19, 30),
        utc(2027, 3, 28, 18, 30),  # BST from here on
        utc(2027, 3, 29, 18, 30),
        utc(2027, 3, 30, 18, 30),
    ]
    assert {(i.astimezone(LONDON_TZ).hour, i.astimezone(LONDON_TZ).minute) for i in found} == {
        (19, 30)
    }


def test_daily_1930_stays_1930_local_across_the_october_change() -> None:
    found = occurrences(Rule.parse("daily", "19:30"), LONDON, utc(2027, 10, 28), utc(2027, 11, 3))
    assert found == [
        utc(2027, 10, 28, 18, 30),
        utc(2027, 10, 29, 18, 30),
        utc(2027, 10, 30, 18, 30),
        utc(2027, 10, 31, 19, 30),  # GMT from here on
        utc(2027, 11, 1, 19, 30),
        utc(2027, 11, 2, 19, 30),
    ]
    assert {(i.astimezone(LONDON_TZ).hour, i.astimezone(LONDON_TZ).minute) for i in found} == {
        (19, 30)
    }


def test_0130_in_the_skipped_hour_fires_once_at_0230_bst_in_march() -> None:
    found = occurrences(Rule.parse("daily", "01:30"), LONDON, utc(2027, 3, 24), utc(2027, 4, 1))
    counts = per_local_date(found, LONDON)
    assert sorted(counts) == [date(2027, 3, day) for day in range(24, 32)]
    assert set(counts.values()) == {1}
    change_day = [i for i in found if i.astimezone(LONDON_TZ).date() == date(2027, 3, 28)]
    assert change_day == [utc(2027, 3, 28, 1, 30)]
    assert change_day[0].astimezone(LONDON_TZ).strftime("%H:%M %Z") == "02:30 BST"
    # The other days keep their 01:30 local.
    others = [i.astimezone(LONDON_TZ) for i in found if i not in change_day]
    assert {(w.hour, w.minute) for w in others} == {(1, 30)}


def test_0130_in_the_repeated_hour_fires_once_at_the_first_0130_in_october() -> None:
    found = occurrences(Rule.parse("daily", "01:30"), LONDON, utc(2027, 10, 27), utc(2027, 11, 4))
    counts = per_local_date(found, LONDON)
    assert sorted(counts) == [date(2027, 10, d) for d in range(27, 32)] + [
        date(2027, 11, d) for d in range(1, 4)
    ]
    assert set(counts.values()) == {1}
    change_day = [i for i in found if i.astimezone(LONDON_TZ).date() == date(2027, 10, 31)]
    assert change_day == [utc(2027, 10, 31, 0, 30)]  # the first 01:30 (BST), not 01:30 GMT
    assert change_day[0].astimezone(LONDON_TZ).strftime("%H:%M %Z") == "01:30 BST"
    assert {(i.astimezone(LONDON_TZ).hour, i.astimezone(LONDON_TZ).minute) for i in found} == {
        (1, 30)
    }


@pytest.mark.parametrize(
    "after",
    [
        utc(2027, 10, 31, 0, 30),  # exactly the first 01:30
        utc(2027, 10, 31, 0, 30, 5),  # a sweep a few seconds later
    ],
)
def test_after_the_first_0130_the_repeated_one_is_not_used(after: datetime) -> None:
    assert next_occurrence(Rule.parse("daily", "01:30"), LONDON, after) == utc(2027, 11, 1, 1, 30)


def test_created_just_before_the_repeated_hour_the_first_0130_is_used() -> None:
    rule = Rule.parse("daily", "01:30")
    assert next_occurrence(rule, LONDON, utc(2027, 10, 31, 0, 29)) == utc(2027, 10, 31, 0, 30)


@pytest.mark.parametrize(
    ("days", "at", "after", "expected"),
    [
        # Sunday 01:30 weekly: the change days are Sundays.
        ("sun", "01:30", utc(2027, 3, 22), [utc(2027, 3, 28, 1, 30), utc(2027, 4, 4, 0, 30)]),
        ("sun", "01:30", utc(2027, 10, 25), [utc(2027, 10, 31, 0, 30), utc(2027, 11, 7, 1, 30)]),
        # 01:00 and 02:00: the edges of the gap and of the repeated hour.
        ("sun", "01:00", utc(2027, 3, 22), [utc(2027, 3, 28, 1, 0), utc(2027, 4, 4, 0, 0)]),
        ("sun", "02:00", utc(2027, 3, 22), [utc(2027, 3, 28, 1, 0), utc(2027, 4, 4, 1, 0)]),
        ("sun", "01:00", utc(2027, 10, 25), [utc(2027, 10, 31, 0, 0), utc(2027, 11, 7, 1, 0)]),
        ("sun", "02:00", utc(2027, 10, 25), [utc(2027, 10, 31, 2, 0), utc(2027, 11, 7, 2, 0)]),
    ],
)
def test_weekly_rules_on_the_change_sundays(
    days: str, at: str, after: datetime, expected: list[datetime]
) -> None:
    rule = Rule.parse(days, at)
    first = next_occurrence(rule, LONDON, after)
    second = next_occurrence(rule, LONDON, first)
    assert [first, second] == expected


# --- other zones ------------------------------------------------------------------------


def test_new_york_daily_0230_on_the_spring_change_fires_at_0330_edt() -> None:
    found = occurrences(
        Rule.parse("daily", "02:30"), "America/New_York", utc(2027, 3, 12), utc(2027, 3, 16)
    )
    assert found == [
        utc(2027, 3, 12, 7, 30),
        utc(2027, 3, 13, 7, 30),
        utc(2027, 3, 14, 7, 30),  # 03:30 EDT: 02:30 does not exist that day
        utc(2027, 3, 15, 6, 30),
    ]
    assert set(per_local_date(found, "America/New_York").values()) == {1}


def test_new_york_daily_0130_on_the_autumn_change_fires_once_at_the_first_0130() -> None:
    found = occurrences(
        Rule.parse("daily", "01:30"), "America/New_York", utc(2027, 11, 5), utc(2027, 11, 9)
    )
    assert found == [
        utc(2027, 11, 5, 5, 30),
        utc(2027, 11, 6, 5, 30),
        utc(2027, 11, 7, 5, 30),  # 01:30 EDT; 01:30 EST (06:30 UTC) is not used
        utc(2027, 11, 8, 6, 30),
    ]


def test_new_york_evening_reminders_stay_local() -> None:
    found = occurrences(
        Rule.parse("daily", "19:30"), "America/New_York", utc(2027, 3, 12), utc(2027, 3, 16)
    )
    tz = ZoneInfo("America/New_York")
    assert {(i.astimezone(tz).hour, i.astimezone(tz).minute) for i in found} == {(19, 30)}
    # 19:30 EST is 00:30 UTC the next day; 19:30 EDT is 23:30 UTC the same day.
    assert [i.hour for i in found] == [0, 0, 0, 23, 23]


def test_sydney_changes_the_other_way_round() -> None:
    sydney = "Australia/Sydney"
    spring = occurrences(Rule.parse("daily", "02:30"), sydney, utc(2027, 10, 1), utc(2027, 10, 5))
    assert spring == [
        utc(2027, 10, 1, 16, 30),  # 02:30 AEST on 2 October
        utc(2027, 10, 2, 16, 30),  # 3 October: 02:30 does not exist -> 03:30 AEDT
        utc(2027, 10, 3, 15, 30),
        utc(2027, 10, 4, 15, 30),
    ]
    assert spring[1].astimezone(ZoneInfo(sydney)).strftime("%d %H:%M") == "03 03:30"
    autumn = occurrences(Rule.parse("daily", "02:30"), sydney, utc(2027, 4, 2), utc(2027, 4, 6))
    assert autumn == [
        utc(2027, 4, 2, 15, 30),
        utc(2027, 4, 3, 15, 30),  # 4 April: the first 02:30 (AEDT)
        utc(2027, 4, 4, 16, 30),
        utc(2027, 4, 5, 16, 30),
    ]
    assert set(per_local_date(autumn, sydney).values()) == {1}


def test_the_same_rule_falls_at_different_instants_in_different_zones() -> None:
    rule = Rule.parse("daily", "19:30")
    after = utc(2027, 1, 11, 0, 0)
    assert next_occurrence(rule, LONDON, after) == utc(2027, 1, 11, 19, 30)
    # 00:00 UTC is 19:00 EST on the 10th: 19:30 EST that evening.
    assert next_occurrence(rule, "America/New_York", after) == utc(2027, 1, 11, 0, 30)
    assert next_occurrence(rule, "Australia/Sydney", after) == utc(2027, 1, 11, 8, 30)
    assert next_occurrence(rule, "Asia/Kolkata", after) == utc(2027, 1, 11, 14, 0)


# --- known problems (each a precise reproduction) ---------------------------------------


def test_a_monday_0030_reminder_is_not_skipped_after_the_march_change() -> None:
    rule = Rule.parse("mon", "00:30")
    assert next_occurrence(rule, LONDON, utc(2026, 3, 26, 12)) == local(LONDON, 2026, 3, 30, 0, 30)


def test_between_the_two_passes_of_the_repeated_hour_the_second_is_not_used() -> None:
    after = utc(2027, 10, 31, 0, 59)
    assert next_occurrence(Rule.parse("daily", "01:30"), LONDON, after) == utc(2027, 11, 1, 1, 30)


@pytest.mark.parametrize("text", ["mon;thu", "mon/thu", "monday and thursday", "Mondays, Thurs"])
def test_other_separators_and_full_names_read_both_days(text: str) -> None:
    assert parse_days(text) == ("mon", "thu")


@pytest.mark.parametrize("text", ["monkey", "mon,funday", "mo", ",,"])
def test_misspelt_days_are_refused_not_misread(text: str) -> None:
    with pytest.raises(RuleError):
        parse_days(text)


def test_a_weekday_rule_in_a_midnight_gap_fires_on_the_change_day() -> None:
    rule = Rule.parse("fri", "00:15")
    expected = local("Africa/Cairo", 2027, 4, 30, 0, 15)  # normalises to 01:15 EEST
    assert expected.astimezone(ZoneInfo("Africa/Cairo")).hour == 1
    assert next_occurrence(rule, "Africa/Cairo", utc(2027, 4, 29, 12)) == expected


# --- quiet hours ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "expected_end"),
    [
        (utc(2027, 1, 11, 20, 59, 59), None),
        (utc(2027, 1, 11, 21, 0), utc(2027, 1, 12, 8, 0)),  # exactly at the start: quiet
        (utc(2027, 1, 11, 23, 30), utc(2027, 1, 12, 8, 0)),
        (utc(2027, 1, 12, 0, 0), utc(2027, 1, 12, 8, 0)),
        (utc(2027, 1, 12, 3, 0), utc(2027, 1, 12, 8, 0)),
        (utc(2027, 1, 12, 7, 59, 59), utc(2027, 1, 12, 8, 0)),
        (utc(2027, 1, 12, 8, 0), None),  # exactly at the end: no longer quiet
        (utc(2027, 1, 12, 12, 0), None),
    ],
)
def test_adult_overnight_quiet_hours(now: datetime, expected_end: datetime | None) -> None:
    assert in_quiet_hours(now, LONDON, "21:00", "08:00") == expected_end


@pytest.mark.parametrize(
    ("now", "expected_end"),
    [
        (utc(2027, 1, 11, 19, 59), None),
        (utc(2027, 1, 11, 20, 0), utc(2027, 1, 12, 7, 30)),
        (utc(2027, 1, 12, 7, 29), utc(2027, 1, 12, 7, 30)),
        (utc(2027, 1, 12, 7, 30), None),
        (utc(2027, 1, 12, 17, 0), None),
    ],
)
def test_child_overnight_quiet_hours(now: datetime, expected_end: datetime | None) -> None:
    assert in_quiet_hours(now, LONDON, "20:00", "07:30") == expected_end


@pytest.mark.parametrize(
    ("now", "expected_end"),
    [
        (utc(2027, 1, 11, 12, 59), None),
        (utc(2027, 1, 11, 13, 0), utc(2027, 1, 11, 15, 0)),
        (utc(2027, 1, 11, 14, 59), utc(2027, 1, 11, 15, 0)),
        (utc(2027, 1, 11, 15, 0), None),
        (utc(2027, 1, 11, 23, 0), None),
        (utc(2027, 1, 11, 3, 0), None),
    ],
)
def test_same_day_quiet_hours(now: datetime, expected_end: datetime | None) -> None:
    assert in_quiet_hours(now, LONDON, "13:00", "15:00") == expected_end


def test_equal_start_and_end_means_no_quiet_hours() -> None:
    for hour in range(24):
        assert in_quiet_hours(utc(2027, 1, 11, hour), LONDON, "08:00", "08:00") is None


def test_quiet_hours_are_local_time_in_summer_and_elsewhere() -> None:
    # 20:30 UTC in July is 21:30 BST: quiet until 08:00 BST = 07:00 UTC.
    assert in_quiet_hours(utc(2027, 7, 1, 20, 30), LONDON, "21:00", "08:00") == utc(
        2027, 7, 2, 7, 0
    )
    assert in_quiet_hours(utc(2027, 7, 1, 19, 30), LONDON, "21:00", "08:00") is None
    # 12:00 UTC is 22:00 AEST in Sydney in July.
    assert in_quiet_hours(utc(2027, 7, 1, 12, 0), "Australia/Sydney", "21:00", "08:00") == utc(
        2027, 7, 1, 22, 0
    )


def test_quiet_hours_over_the_march_change_night_end_at_0800_bst() -> None:
    # Saturday 27 March 22:00 GMT; the night is an hour shorter.
    end = in_quiet_hours(utc(2027, 3, 27, 22, 0), LONDON, "21:00", "08:00")
    assert end == utc(2027, 3, 28, 7, 0)
    assert end is not None
    assert end.astimezone(LONDON_TZ).strftime("%H:%M %Z") == "08:00 BST"
    # Inside what would have been the skipped hour's UTC span.
    assert in_quiet_hours(utc(2027, 3, 28, 1, 15), LONDON, "21:00", "08:00") == utc(
        2027, 3, 28, 7, 0
    )
    assert in_quiet_hours(utc(2027, 3, 28, 7, 0), LONDON, "21:00", "08:00") is None
    assert in_quiet_hours(utc(2027, 3, 28, 6, 59), LONDON, "21:00", "08:00") is not None


def test_quiet_hours_over_the_october_change_night_end_at_0800_gmt() -> None:
    end = in_quiet_hours(utc(2027, 10, 30, 21, 0), LONDON, "21:00", "08:00")  # 22:00 BST
    assert end == utc(2027, 10, 31, 8, 0)
    # Both passes through 01:30 are quiet and end at the same instant.
    for now in (utc(2027, 10, 31, 0, 30), utc(2027, 10, 31, 1, 30)):
        assert in_quiet_hours(now, LONDON, "21:00", "08:00") == utc(2027, 10, 31, 8, 0)
    assert in_quiet_hours(utc(2027, 10, 31, 8, 0), LONDON, "21:00", "08:00") is None


def test_quiet_hours_ending_in_the_skipped_hour_end_when_the_clock_jumps_past_it() -> None:
    end = in_quiet_hours(utc(2027, 3, 28, 0, 45), LONDON, "22:00", "01:30")
    assert end == utc(2027, 3, 28, 1, 30)  # 02:30 BST: the same elapsed time after 01:00
    assert end is not None
    assert end.astimezone(LONDON_TZ).strftime("%H:%M") == "02:30"


def test_quiet_hours_ending_in_the_repeated_hour_end_at_its_first_pass() -> None:
    # 00:50 BST: quiet until the first 01:30 (BST) = 00:30 UTC.
    assert in_quiet_hours(utc(2027, 10, 30, 23, 50), LONDON, "22:00", "01:30") == utc(
        2027, 10, 31, 0, 30
    )


def test_quiet_hours_in_the_second_pass_of_the_repeated_hour_end_in_the_future() -> None:
    now = utc(2027, 10, 31, 1, 10)
    end = in_quiet_hours(now, LONDON, "22:00", "01:30")
    assert end is not None
    assert end > now


# --- properties -------------------------------------------------------------------------

ZONES = [
    LONDON,
    "America/New_York",
    "Australia/Sydney",
    "Australia/Lord_Howe",  # a 30-minute change
    "Pacific/Chatham",
    "America/St_Johns",
    "Asia/Kolkata",  # no DST
    "Africa/Cairo",  # clocks change at midnight
]
HOURS = st.one_of(st.integers(0, 3), st.integers(0, 23))  # biased towards the change hours
MINUTES = st.one_of(st.sampled_from([0, 30, 59]), st.integers(0, 59))
RULES = st.builds(
    lambda days, hour, minute: Rule(tuple(d for d in DAYS if d in days), time(hour, minute)),
    st.sets(st.sampled_from(DAYS)),
    HOURS,
    MINUTES,
)
INSTANTS = st.datetimes(
    min_value=datetime(2026, 1, 1), max_value=datetime(2029, 1, 1), timezones=st.just(UTC)
)


def wall_instant(day: date, at: time, tz: ZoneInfo) -> datetime:
    """The stated time for a local date: the first of a repeated time; a skipped time moved
    on by the size of the gap (what fold=0 gives for a wall time that does not exist)."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def brute_force_next(rule: Rule, tz: ZoneInfo, after: datetime) -> datetime:
    """The first stated time after ``after``, by walking local dates one at a time."""
    day = after.astimezone(tz).date() - timedelta(days=1)
    for offset in range(10):
        candidate_day = day + timedelta(days=offset)
        if rule.days and DAYS[candidate_day.weekday()] not in rule.days:
            continue
        candidate = wall_instant(candidate_day, rule.at, tz)
        if candidate > after:
            return candidate
    raise AssertionError("no occurrence within ten days")


@settings(max_examples=300, deadline=None)
@given(rule=RULES, tz_name=st.sampled_from(ZONES), after=INSTANTS)
def test_occurrences_are_after_at_the_stated_local_time_and_once_per_local_date(
    rule: Rule, tz_name: str, after: datetime
) -> None:
    tz = ZoneInfo(tz_name)
    previous = after
    dates: list[date] = []
    for _ in range(4):
        current = next_occurrence(rule, tz_name, previous)
        assert current > previous
        assert current.tzinfo == UTC
        wall = current.astimezone(tz)
        if rule.days:
            assert DAYS[wall.weekday()] in rule.days
        # At the rule's hh:mm that day (the first pass of a repeated time), or, when that time
        # does not exist that day, moved on by the size of the gap.
        assert current == wall_instant(wall.date(), rule.at, tz), (rule, tz_name, wall)
        dates.append(wall.date())
        previous = current
    assert len(set(dates)) == len(dates), dates
    assert dates == sorted(dates)


@settings(max_examples=300, deadline=None)
@given(rule=RULES, tz_name=st.sampled_from(ZONES), after=INSTANTS)
def test_no_matching_day_is_skipped(rule: Rule, tz_name: str, after: datetime) -> None:
    assert next_occurrence(rule, tz_name, after) == brute_force_next(rule, ZoneInfo(tz_name), after)


QUIET = st.builds(lambda h, m: f"{h:02d}:{m:02d}", st.integers(0, 23), st.sampled_from([0, 30]))


@settings(max_examples=300, deadline=None)
@given(now=INSTANTS, tz_name=st.sampled_from(ZONES), start=QUIET, end=QUIET)
def test_quiet_hours_hold_until_their_end(
    now: datetime, tz_name: str, start: str, end: str
) -> None:
    tz = ZoneInfo(tz_name)
    wall = now.astimezone(tz)
    repeated = wall.replace(fold=1 - wall.fold).utcoffset() != wall.utcoffset()
    quiet_end = in_quiet_hours(now, tz_name, start, end)
    begin, finish = parse_time(start), parse_time(end)
    clock = wall.time()
    if begin == finish:
        assert quiet_end is None
        return
    inside = (begin <= clock < finish) if begin < finish else (clock >= begin or clock < finish)
    assert (quiet_end is not None) == inside
    if quiet_end is None:
        return
    if repeated:  # inside the repeated hour the end may be either pass of that wall time
        assert quiet_end > now
        return
    assert now < quiet_end <= now + timedelta(hours=25)
    # At the end's wall time (moved on by the gap if that time does not exist that day).
    assert quiet_end == wall_instant(quiet_end.astimezone(tz).date(), finish, tz)
