"""The answer bank matches the dialogues, and its words are safe demo content."""

from __future__ import annotations

import pytest

from rpbot.demo.bank import Fill, load_bank
from rpbot.dialogues import default_library
from rpbot.engine.answers import Parsed, parse_time_text
from rpbot.engine.model import AskStep
from rpbot.safeguarding import Screener, load_rules, rules_path, screen

BANK = load_bank()
LIBRARY = default_library()
EVERYONE = Fill(
    {"child": "Mia", "partner": "Dean", "grown_up": "Mum", "sibling": "Leo", "carer": "Jo"},
    "contact",
)
HOME = Fill(dict(EVERYONE.values), "home")


def ask_step(key: str) -> AskStep:
    flow_id, name = key.split(".", 1)
    assert flow_id in LIBRARY, f"{key}: no flow {flow_id}"
    steps = LIBRARY[flow_id].answer_steps()
    assert name in steps, f"{key}: {flow_id} saves no answer called {name}"
    return steps[name]


def all_texts() -> list[tuple[str, str]]:
    found = set()
    for key, by_mood in BANK.texts.items():
        for entries in by_mood.values():
            for entry in entries:
                for fill in (EVERYONE, HOME):
                    text = fill.render(entry)
                    if text is not None:
                        found.add((key, text))
    return sorted(found)


def test_every_text_key_is_a_question_that_takes_words() -> None:
    for key in BANK.texts:
        assert ask_step(key).ask in ("text", "time"), key


@pytest.mark.parametrize("table", ["choices", "multi"])
def test_every_weight_names_an_option_of_its_question(table: str) -> None:
    for key, by_mood in getattr(BANK, table).items():
        step = ask_step(key)
        assert step.ask == ("multi" if table == "multi" else "choice"), key
        values = {o.value for o in step.choices()}
        for weights in by_mood.values():
            assert set(weights) <= values, f"{key}: {set(weights) - values}"


def test_skip_yes_and_inverted_keys_name_real_questions() -> None:
    for key in [*BANK.skip_chance, *BANK.yes_chance, *BANK.inverted_scales]:
        ask_step(key)


def test_times_are_understood_by_the_engine() -> None:
    for entries in BANK.texts["day_in_the_life.flashpoint"].values():
        for entry in entries:
            assert isinstance(parse_time_text(entry), Parsed), entry


def test_placeholders_and_stage_tags_are_filled_or_the_entry_left_out() -> None:
    assert Fill({"child": "Mia"}).render("{child} laughed") == "Mia laughed"
    assert Fill({}).render("{child} laughed") is None
    assert Fill({}, "home").render("[contact] contact was lovely") is None
    assert Fill({}, "contact").render("[contact] contact was lovely") == "contact was lovely"
    assert all("{" not in text and "[" not in text for _, text in all_texts())


def test_demo_texts_are_everyday_answers_the_screener_leaves_alone() -> None:
    # The rules flag none of these everyday answers. The model layer (a second, statistical layer)
    # is tuned to flag at most 0.5% of held-out everyday answers; these texts were never used to
    # train it, so they are one more check of that rate. (Not a fully independent one since session
    # 13: a retrain flagged two of them, and the brief for training sets 32-33 named those kinds of
    # answer: safety-plan rules, a child being quieter.) They are screened as the bot screens them,
    # knowing who wrote (the flow's audience). Without the sender the model is less sure: a
    # session-14 retrain flagged 3 of the 300 that way ("Bedtime was easier than last night", "Tell
    # someone where you're going", "Mia has been quieter than usual"), the next one 1, the one after
    # 3 again, then 1, 1, 2, 1, 1, 1, 1, 1, 1, (session 19's first) 3 ("Phones stay downstairs at
    # night", "I'm still turning up to everything" and Mia), (session 19's second) 1 (Mia) and
    # (session 19's third) 3 ("Tell someone where you're going", "I'm still turning up to
    # everything" and Mia), (session 20's first) 2 ("Tell someone where you're going" and Mia) and
    # (session 20's second) 2 ("I'm still turning up to everything" and Mia). With it, none flagged
    # any except session 17's second and third retrains, which flagged "Mia has been quieter than
    # usual" from a parent (1 in 300, inside the limit below).
    texts = all_texts()
    rules = Screener(load_rules(rules_path()))
    assert [(key, text) for key, text in texts if rules.screen(text).concern] == []
    flagged = [(key, text) for key, text in texts if screen(text, sender=audience(key)).concern]
    assert len(flagged) <= 0.005 * len(texts), flagged


def audience(key: str) -> str:
    """Who answers the question ``key`` ("flow.answer"): the flow's audience."""
    return LIBRARY[key.split(".", 1)[0]].audience


def test_names_are_plenty_and_unique() -> None:
    for pool in [*BANK.surnames.values(), *BANK.first_names.values()]:
        assert len(pool) == len(set(pool)) >= 10
    assert set(BANK.nations) == {"england", "wales", "scotland", "northern_ireland"}
