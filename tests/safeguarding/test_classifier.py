"""The second layer: the trained classifier, its file, its parity with scikit-learn.

The parity and retraining tests need scikit-learn (a dev dependency) and are skipped without
it. They retrain on the dev sets (about ten seconds) once per run, never on the blind set.
"""

from __future__ import annotations

import importlib.util
import json
import sys
import time
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from rpbot.safeguarding import (
    CATEGORIES,
    DEFAULT_RULES_DIR,
    Classifier,
    ModelError,
    Screener,
    default_screener,
    load_model,
    load_rules,
    model_path,
    parse_model,
    rules_path,
    screen,
)
from rpbot.safeguarding.classifier import Prediction, char_wb_ngrams, word_ngrams
from rpbot.safeguarding.evaluation import LabelledMessage, load_labelled
from rpbot.safeguarding.normalise import normalise
from rpbot.safeguarding.screener import MODEL_RULE
from tests.safeguarding.helpers import rules_only

ROOT = Path(__file__).resolve().parents[2]
MODEL = DEFAULT_RULES_DIR / "model_en.json"
TRAIN_SCRIPT = ROOT / "bench" / "safeguarding_train.py"
FOLDER = ROOT / "tests" / "safeguarding"
# What the model is trained on: the dev sets and the model-only training sets, never the blind one.
DEV_SETS = sorted(FOLDER.glob("labelled_dev*.yaml")) + sorted(FOLDER.glob("labelled_train*.yaml"))


def dev_messages() -> list[LabelledMessage]:
    assert DEV_SETS
    assert all("blind" not in p.name for p in DEV_SETS)
    return [m for path in DEV_SETS for m in load_labelled(path, CATEGORIES)]


@pytest.fixture(scope="module")
def trainer() -> ModuleType:
    pytest.importorskip("sklearn")
    spec = importlib.util.spec_from_file_location("safeguarding_train", TRAIN_SCRIPT)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def retrained(trainer: ModuleType) -> Any:
    """The final model trained afresh on every dev set, in scikit-learn form."""
    return trainer.train(dev_messages())


# --- the shipped file -----------------------------------------------------------------------


def test_the_model_file_loads_beside_the_rules() -> None:
    assert model_path(rules_path("en")) == MODEL
    started = time.perf_counter()
    model = load_model(MODEL)
    assert time.perf_counter() - started < 1.0
    assert isinstance(model, Classifier)
    assert model.outputs == ("concern", *CATEGORIES)
    assert 0 < model.threshold < 1
    assert set(model.category_thresholds) == set(CATEGORIES)
    features = sum(len(block.index) for block in model.blocks)
    assert 1000 <= features <= 10000
    assert default_screener().model is not None


def test_the_model_file_is_tidy_data() -> None:
    text = MODEL.read_text(encoding="utf-8")
    data = json.loads(text)
    assert list(data) == sorted(data)  # keys sorted, so retraining diffs cleanly
    for block in data["blocks"]:
        assert list(block["features"]) == sorted(block["features"])
        for row in block["features"].values():
            assert all(round(v, 4) == v for v in row)
    assert len(text.encode("utf-8")) < 1_000_000


def test_a_broken_model_file_is_refused_naming_it(tmp_path: Path) -> None:
    path = tmp_path / "model_en.json"
    path.write_text('{"format": 1, "outputs": ["concern"]}', encoding="utf-8")
    with pytest.raises(ModelError, match=r"model_en\.json: not a usable model"):
        load_model(path)
    with pytest.raises(ModelError, match="not valid JSON"):
        parse_model("{", source="x.json")
    with pytest.raises(ModelError, match="cannot be read"):
        load_model(tmp_path / "missing.json")


def test_a_rules_folder_without_a_model_screens_with_rules_alone(tmp_path: Path) -> None:
    (tmp_path / "en.yaml").write_text(rules_path("en").read_text(encoding="utf-8"), "utf-8")
    assert model_path(tmp_path / "en.yaml") is None
    assert default_screener("en", tmp_path).model is None


# --- parity with scikit-learn and retraining -------------------------------------------------


def test_the_ngrams_are_scikit_learns(trainer: ModuleType) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    word = TfidfVectorizer(analyzer="word", ngram_range=(1, 2), lowercase=False).build_analyzer()
    char = TfidfVectorizer(analyzer="char_wb", ngram_range=(3, 5), lowercase=False)
    char_analyzer = char.build_analyzer()
    odd = ["a", "  two  spaces\n\nand lines ", "émoji 😀 x", "i", ""]
    for text in [normalise(m.text).text for m in dev_messages()] + odd:
        assert word_ngrams(text, 1, 2) == word(text)
        assert char_wb_ngrams(text, 3, 5) == char_analyzer(text)


def test_pure_inference_matches_predict_proba(trainer: ModuleType, retrained: Any) -> None:
    model = parse_model(trainer.dumps(retrained.export()))
    messages = dev_messages()
    texts = [m.text for m in messages]
    senders = [m.sender for m in messages]
    expected = retrained.concern_probabilities(texts, senders)
    categories = retrained.category_probabilities(texts, senders)
    for number, message in enumerate(messages):
        assert model.probability(message.text, message.sender) == pytest.approx(
            expected[number], abs=1e-6
        ), message.id
        pure = model.category_probabilities(normalise(message.text).text, message.sender)
        for category in CATEGORIES:
            assert pure[category] == pytest.approx(categories[category][number], abs=1e-6)
    # and without a sender (the bot does not always know who wrote)
    unknown = retrained.concern_probabilities(texts[:50], [None] * 50)
    for text, probability in zip(texts[:50], unknown, strict=True):
        assert model.probability(text) == pytest.approx(probability, abs=1e-6)


def test_retraining_gives_the_shipped_model(trainer: ModuleType, retrained: Any) -> None:
    # The thresholds come from the cross-validation (minutes); everything else is retrained here.
    fresh = retrained.export()
    shipped = json.loads(MODEL.read_text(encoding="utf-8"))
    for key in ("threshold", "category_thresholds"):
        fresh[key] = shipped[key]
    assert trainer.dumps(fresh) == MODEL.read_text(encoding="utf-8")


# --- what the model adds ---------------------------------------------------------------------

#: Clear concerns in words the rules do not list (written for this test, not from a labelled
#: set): the rules alone miss every one, the rules and the model together catch them. Of the
#: seven such sentences first written, the model caught five at its first threshold (0.80) and
#: these three at today's stricter one (0.95, chosen so that everyday answers are rarely
#: flagged): it is a second layer that catches more, not a guarantee.
NEW_WORDS = [
    ("child", "a man from the park keeps buying me vapes and wants me to come to his flat alone"),
    ("child", "mums new fella threw a plate at my head"),
    ("child", "mum and her boyfriend were passed out on the sofa and the baby was screaming"),
]


@pytest.mark.parametrize(("sender", "text"), NEW_WORDS)
def test_the_model_catches_concerns_the_rules_miss(sender: str, text: str) -> None:
    assert not rules_only().screen(text, sender).concern  # the rules alone miss it
    result = screen(text, sender=sender)
    assert result.concern
    assert "harm_to_child" in result.categories
    assert all(m.rule == MODEL_RULE for m in result.evidence)
    for match in result.evidence:
        assert text[match.start : match.end] == match.text
        assert match.category in CATEGORIES


def test_when_the_rules_fire_their_result_is_kept() -> None:
    text = "he said its our secret"
    assert screen(text) == rules_only().screen(text)


@pytest.mark.parametrize(
    "text", ["I would never hit her", "I'm not going to hurt myself", "I'm dying to see them"]
)
def test_what_the_rules_cancelled_is_hidden_from_the_model(text: str) -> None:
    # the model alone reads n-grams and would flag the first two; the rules' negation holds
    assert not screen(text).concern


def _recording() -> tuple[Screener, list[str]]:
    """The shipped screener, noting each text its model is asked about."""
    model = load_model(MODEL)
    asked: list[str] = []
    predict = model.predict_normalised

    def noted(normalised_text: str, sender: str | None = None) -> Prediction:
        asked.append(normalised_text)
        return predict(normalised_text, sender)

    model.predict_normalised = noted  # type: ignore[method-assign]
    return Screener(load_rules(rules_path("en")), model), asked


def test_a_reassurance_is_hidden_from_the_model() -> None:
    screener, asked = _recording()
    # "nobody hits me" is most of the message: the rules have judged it; the model is not asked
    assert not screener.screen("nobody hits me at home", sender="child").concern
    assert asked == []
    screener.screen("No one has ever hurt me and I like my new school", sender="child")
    assert len(asked) == 1
    assert "hurt" not in asked[0]
    assert "i like my new school" in asked[0]


@pytest.mark.parametrize(
    "text",
    [
        "nobody hits me at home, only at dads",
        "nobody hurts me at school but the big boys at the park do",
        "no one hurts me except on weekends at my uncles",
    ],
)
def test_a_reassurance_followed_by_a_contrast_is_left_whole_for_the_model(text: str) -> None:
    screener, asked = _recording()
    screener.screen(text, sender="child")
    assert asked == [normalise(text).text]


def test_a_reassurance_does_not_hide_what_the_rules_found_before_it() -> None:
    screener, _ = _recording()
    assert screener.screen("my stepdad hits me. nobody hits me at school", sender="child").concern


# --- choosing the threshold -------------------------------------------------------------------


def _fold(trainer: ModuleType, labels: list[bool], probabilities: list[float]) -> Any:
    np = pytest.importorskip("numpy")
    return trainer.Fold(
        "fold", np.array(labels), np.zeros(len(labels), bool), np.array(probabilities), {}, {}
    )


def test_the_threshold_is_the_best_recall_within_both_limits(trainer: ModuleType) -> None:
    # Ten concerns at 0.60-0.915 and ten ordinary messages, two of them at 0.62: at 0.62 or
    # below precision is 10/12, under 0.90; from 0.63 it is 1.0, and recall best (9/10) there.
    concerns = [0.60 + 0.035 * n for n in range(10)]
    fold = _fold(trainer, [True] * 10 + [False] * 10, concerns + [0.30] * 8 + [0.62] * 2)
    everyday = _fold(trainer, [False] * 1000, [0.10] * 996 + [0.70] * 4)  # 0.4% at <= 0.70
    threshold = trainer.choose_threshold(fold, everyday)
    assert threshold == 0.63
    assert trainer.meets_limits(fold, everyday, threshold)
    # Six everyday answers at 0.90 (0.6%): only thresholds above 0.90 keep them quiet.
    noisy = _fold(trainer, [False] * 1000, [0.10] * 994 + [0.90] * 6)
    assert trainer.choose_threshold(fold, noisy) == 0.91
    # When no threshold keeps them quiet, the highest considered is used, and it is not
    # reported as meeting the limits.
    loud = _fold(trainer, [False] * 100, [0.10] * 90 + [0.99] * 10)
    assert trainer.choose_threshold(fold, loud) == trainer.THRESHOLDS[-1]
    assert not trainer.meets_limits(fold, loud, trainer.THRESHOLDS[-1])
