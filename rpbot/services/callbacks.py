"""Button data: short, versioned, checked against the current session before use.

Formats (each at most 64 bytes, Telegram's limit):

    a1:<run id>:<prompt>:<value>   an answer button of a flow question
    m1:<flow id>                   start a flow from the menu
    m1:learn                       open the learning modules menu
    p1:<action>:<arg>:<arg>        a practitioner tool step
    g1:<action>:<id>[:<arg>]       a household agreement button (see services/agreement_desk)
"""

from __future__ import annotations

from dataclasses import dataclass

ANSWER = "a1"
MENU = "m1"
PRACTITIONER = "p1"
AGREEMENT = "g1"
MAX_BYTES = 64
MAX_ID_DIGITS = 18  # a database id (64-bit); longer numbers are never ours


def is_id(text: str) -> bool:
    """Whether ``text`` is an id our buttons carry: ASCII digits that fit in 64 bits.

    (``str.isdigit`` alone accepts "²" and numbers too large for the database, both of which
    a forged button can carry.)
    """
    return text.isascii() and text.isdigit() and len(text) <= MAX_ID_DIGITS


@dataclass(frozen=True, slots=True)
class AnswerPress:
    """A press on a flow question's button."""

    run_id: int
    prompt: int
    value: str


def answer_data(run_id: int, prompt: int, value: str) -> str:
    """Callback data for an answer button."""
    data = f"{ANSWER}:{run_id}:{prompt}:{value}"
    if len(data.encode()) > MAX_BYTES:
        raise ValueError("callback data over 64 bytes; shorten the option value")
    return data


def parse_answer(data: str) -> AnswerPress | None:
    """The answer press in ``data``, or None if it is not a well-formed one."""
    parts = data.split(":", 3)
    if len(parts) != 4 or parts[0] != ANSWER:
        return None
    _, run, prompt, value = parts
    if not (is_id(run) and is_id(prompt)) or not value:
        return None
    return AnswerPress(int(run), int(prompt), value)


def menu_data(target: str) -> str:
    """Callback data for a menu button."""
    return f"{MENU}:{target}"


def parse_menu(data: str) -> str | None:
    """The menu target in ``data``, or None."""
    prefix, _, target = data.partition(":")
    return target if prefix == MENU and target else None


def practitioner_data(*parts: object) -> str:
    """Callback data for a practitioner tool button."""
    data = ":".join([PRACTITIONER, *(str(p) for p in parts)])
    if len(data.encode()) > MAX_BYTES:
        raise ValueError("callback data over 64 bytes")
    return data


def parse_practitioner(data: str) -> list[str] | None:
    """The parts after the prefix of a practitioner button, or None."""
    parts = data.split(":")
    if parts[0] != PRACTITIONER or len(parts) < 2 or not data.isascii():
        return None  # every part of our practitioner buttons is ASCII
    if any(part.isdigit() and not is_id(part) for part in parts):
        return None  # a number too long to be an id: forged
    return parts[1:]


def agreement_data(action: str, *args: object) -> str:
    """Callback data for a household agreement button."""
    data = ":".join([AGREEMENT, action, *(str(a) for a in args)])
    if len(data.encode()) > MAX_BYTES:
        raise ValueError("callback data over 64 bytes")
    return data


def parse_agreement(data: str) -> tuple[str, list[int | str]] | None:
    """(action, args) of an agreement button, or None; numeric args are ids (ints).

    Every part is ASCII letters or an id; anything else (too long a number, odd digits) is not
    ours.
    """
    parts = data.split(":")
    if parts[0] != AGREEMENT or len(parts) < 2 or len(parts) > 4 or not data.isascii():
        return None
    args: list[int | str] = []
    for part in parts[2:]:
        if is_id(part):
            args.append(int(part))
        elif part.isalpha() and len(part) <= 8:
            args.append(part)
        else:
            return None
    return (parts[1], args) if parts[1].isalpha() else None
