"""Turning what a person typed or pressed into an answer value for one question.

Each parser returns :class:`Parsed` or :class:`Unusable`; nothing here raises on bad input.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rpbot.engine.inputs import ButtonInput, MediaInput, TextInput
from rpbot.engine.model import AskStep, Option
from rpbot.engine.session import AnswerValue
from rpbot.engine.text import pick_language

_YES = "yes y yeah yea yep yup ya yh ye sure ok okay aye definitely course true 👍 ✅"
_NO = "no n nope nah na false 👎 ❌"
# Whole phrases only: "not sure" must not count as a no.
NO_PHRASES = frozenset(
    {"not really", "not yet", "no thanks", "no thank you", "never", "not at all"}
)
_NUMBERS = "zero one two three four five six seven eight nine ten eleven twelve"
YES_WORDS = frozenset(_YES.split())
NO_WORDS = frozenset(_NO.split())
NUMBER_WORDS = {word: i for i, word in enumerate(_NUMBERS.split())}
NEGATIONS = frozenset({"not", "no", "never", "nope", "nah", "dont", "isnt", "wont", "cant"})
_INVISIBLE = {"Cf", "Zs", "Cc", "Zl", "Zp"}
# Skin tones and emoji variation selectors: 👍🏽 is still 👍.
_MODIFIERS = re.compile("[\U0001f3fb-\U0001f3ff\ufe0e\ufe0f]")
MAX_NUMBER = 1_000_000_000
MEDIA_SHOWN = {"photo": "📷 Photo", "voice": "🎤 Voice note", "document": "📎 File"}


def _without_modifiers(text: str) -> str:
    return _MODIFIERS.sub("", text)


_TIME = re.compile(r"^(\d{1,2})(?:[:.h](\d{2}))?\s*([ap])?\.?\s*m?\.?$")


@dataclass(frozen=True, slots=True)
class Parsed:
    """A usable answer: the value saved, the free text (if typed) and how to show it."""

    value: AnswerValue
    display: str
    text: str | None = None


@dataclass(frozen=True, slots=True)
class Unusable:
    """Why the input cannot answer the question (for logs and re-prompts; no contents)."""

    reason: str


Result = Parsed | Unusable
AnswerInput = TextInput | ButtonInput | MediaInput


def visible(text: str) -> str:
    """The text without surrounding whitespace and invisible characters."""
    return "".join(c for c in text if unicodedata.category(c) not in _INVISIBLE or c == " ").strip()


def _simplify(text: str) -> str:
    """Lower-case letters and digits only, for matching typed text to labels."""
    return "".join(c for c in text.casefold() if c.isalnum() or c == " ").strip()


def parse_answer(
    step: AskStep, given: AnswerInput, language: str, now: datetime, tz: str
) -> Result:
    """Interpret ``given`` as an answer to ``step``."""
    if isinstance(given, MediaInput):
        if step.ask == "media":
            accepted = step.accept or ["photo", "voice", "document"]
            if given.kind not in accepted:
                return Unusable("media_kind")
            shown = MEDIA_SHOWN.get(given.kind, "📎 File")
            return Parsed({"kind": given.kind, "file_id": given.file_id}, shown, given.caption)
        if given.caption and visible(given.caption):
            return parse_answer(step, TextInput(given.caption), language, now, tz)
        return Unusable("media_not_expected")
    if step.ask == "media":
        return Unusable("media_expected")
    if isinstance(given, ButtonInput):
        return _parse_button(step, given.value, language)
    text = given.text
    if not visible(text):
        return Unusable("empty")
    match step.ask:
        case "text":
            return _parse_text(step, text)
        case "choice":
            return _parse_choice(step, text, language)
        case "multi":
            return _parse_multi(step, text, language)
        case "yes_no":
            return _parse_yes_no(step, text, language)
        case "scale" | "number":
            return _parse_number(step, text)
        case "time":
            return _parse_time(text)
        case "date":
            return _parse_date(text, now, tz)
    return Unusable("unknown_type")  # pragma: no cover - every AskType is handled above


def _parse_text(step: AskStep, text: str) -> Result:
    clean = text.strip()
    if len(visible(clean)) < (step.min_length or 1):
        return Unusable("too_short")
    if len(clean) > (step.max_length or 4096):
        return Unusable("too_long")
    return Parsed(clean, clean, clean)


def option_label(option: Option, language: str) -> str:
    """The option's label in ``language``."""
    return pick_language(option.label, language)


def _match_option(options: list[Option], token: str, language: str) -> Option | None:
    token = token.strip()
    if (
        token.isascii()
        and token.isdecimal()
        and len(token) <= 3
        and 1 <= int(token) <= len(options)
    ):
        return options[int(token) - 1]
    wanted = _simplify(token)
    if not wanted:
        return None
    for option in options:
        if wanted in (_simplify(option_label(option, language)), _simplify(option.value)):
            return option
    return None


def _parse_button(step: AskStep, value: str, language: str) -> Result:
    if step.ask in ("choice", "multi"):
        for option in step.choices():
            if option.value == value:
                return Parsed(option.value, option_label(option, language))
        return Unusable("unknown_button")
    if step.ask == "yes_no" and value in ("yes", "no"):
        return _yes_no(step, value == "yes", language)
    if step.ask == "scale":
        return _parse_number(step, value)
    return Unusable("unknown_button")


def _parse_choice(step: AskStep, text: str, language: str) -> Result:
    option = _match_option(step.choices(), text, language)
    if option is not None:
        return Parsed(option.value, option_label(option, language))
    clean = text.strip()
    if len(clean) > (step.max_length or 4096):
        return Unusable("too_long")
    # Free text is always welcome: keep the person's own words as the answer.
    return Parsed(clean, clean, clean)


def _parse_multi(step: AskStep, text: str, language: str) -> Result:
    options = step.choices()
    tokens = [t for t in re.split(r"[,;/\n]+|\s+and\s+", text) if visible(t)]
    if len(tokens) == 1 and re.fullmatch(r"[0-9 ]{1,60}", tokens[0]):
        tokens = tokens[0].split()
    chosen = [_match_option(options, t, language) for t in tokens]
    if chosen and all(c is not None for c in chosen):
        values = list(dict.fromkeys(c.value for c in chosen if c is not None))
        labels = [option_label(o, language) for o in options if o.value in values]
        return Parsed(values, ", ".join(labels))
    clean = text.strip()
    return Parsed([clean], clean, clean)


def _yes_no(step: AskStep, answer: bool, language: str) -> Parsed:
    label = step.yes_label if answer else step.no_label
    shown = pick_language(label, language) if label else ("Yes" if answer else "No")
    return Parsed(answer, shown)


def _parse_yes_no(step: AskStep, text: str, language: str) -> Result:
    whole = _without_modifiers(text.strip())
    words = _simplify(text.replace("'", "")).split() or [whole]
    negated = any(w in NEGATIONS for w in words[1:])
    if whole in NO_WORDS or words[0] in NO_WORDS or " ".join(words) in NO_PHRASES:
        return _yes_no(step, False, language)
    if whole in YES_WORDS or words[0] in YES_WORDS or words[:2] == ["of", "course"]:
        # "definitely not" or "of course not" is a no: sharing a child's words hangs on this.
        return _yes_no(step, not negated, language)
    for answer, label in ((True, step.yes_label), (False, step.no_label)):
        if label and _simplify(pick_language(label, language)) == _simplify(text):
            return _yes_no(step, answer, language)
    return Unusable("not_yes_no")


def _parse_number(step: AskStep, text: str) -> Result:
    clean = text.strip()
    match = re.match(r"^([-−]?)([0-9]{1,12})(?:[.,]([0-9]{1,6}))?(?![0-9])", clean)
    words = _simplify(clean).split()
    if match:
        sign = -1 if match.group(1) else 1
        number = sign * float(f"{match.group(2)}.{match.group(3) or 0}")
    elif words and words[0] in NUMBER_WORDS:
        number = float(NUMBER_WORDS[words[0]])
    else:
        return Unusable("not_a_number")
    if abs(number) > MAX_NUMBER:
        return Unusable("out_of_range")
    if step.min is not None and number < step.min:
        return Unusable("out_of_range")
    if step.max is not None and number > step.max:
        return Unusable("out_of_range")
    whole = step.ask == "scale" or step.integer is not False
    if whole:
        if number != int(number):
            return Unusable("not_whole")
        value: int | float = int(number)
    else:
        value = number
    shown = str(value)
    if step.ask == "scale" and step.labels and int(value) in step.labels:
        shown = f"{value} {pick_language(step.labels[int(value)], 'en')}"
    return Parsed(value, shown)


def parse_time_text(text: str) -> Result:
    """A typed time ("7pm", "19:30", "noon") as "HH:MM", or why it is unusable."""
    return _parse_time(text)


def _parse_time(text: str) -> Result:
    clean = text.strip().casefold()
    if len(clean) > 20:
        return Unusable("not_a_time")
    named = {"noon": (12, 0), "midday": (12, 0), "midnight": (0, 0)}
    if clean in named:
        hour, minute = named[clean]
    else:
        match = _TIME.match(clean.replace(" ", "") if len(clean) < 12 else clean)
        if match is None:
            return Unusable("not_a_time")
        hour = int(match.group(1))
        minute = int(match.group(2) or 0)
        half = match.group(3)
        if half:
            if not 1 <= hour <= 12:
                return Unusable("not_a_time")
            hour = hour % 12 + (12 if half == "p" else 0)
        elif match.group(2) is None:
            if not clean.rstrip("h").isdigit():
                return Unusable("not_a_time")
            if 1 <= hour <= 12:
                return Unusable("ambiguous_time")  # "5" could be 5am or 5pm: ask, don't guess
        if hour > 23 or minute > 59:
            return Unusable("not_a_time")
    value = f"{hour:02d}:{minute:02d}"
    return Parsed(value, value)


_DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d/%m/%y", "%d-%m-%Y", "%d.%m.%Y", "%d %B %Y", "%d %b %Y")
# Dates without a year get this year added before parsing, so 29/02 works in a leap year.
_YEARLESS_FORMATS = ("%d %B", "%d %b", "%d/%m")


def local_today(now: datetime, tz: str) -> date:
    """Today's date where the person lives (UTC if the zone is unknown)."""
    try:
        return now.astimezone(ZoneInfo(tz)).date()
    except (ZoneInfoNotFoundError, ValueError):
        return now.date()


def _parse_date(text: str, now: datetime, tz: str) -> Result:
    clean = " ".join(text.strip().casefold().split())
    today = local_today(now, tz)
    relative = {"today": 0, "yesterday": -1, "tomorrow": 1}
    if clean in relative:
        day = today + timedelta(days=relative[clean])
        return Parsed(day.isoformat(), day.isoformat())
    if len(clean) > 30:
        return Unusable("not_a_date")
    candidates = [(clean, fmt) for fmt in _DATE_FORMATS]
    candidates += [(f"{clean} {today.year}", f"{fmt} %Y") for fmt in _YEARLESS_FORMATS]
    for candidate, fmt in candidates:
        try:
            parsed = datetime.strptime(candidate, fmt)  # noqa: DTZ007 - a date, no time
        except ValueError:
            continue
        day = parsed.date()
        if not 1900 <= day.year <= 2200:
            return Unusable("not_a_date")
        return Parsed(day.isoformat(), day.isoformat())
    return Unusable("not_a_date")
