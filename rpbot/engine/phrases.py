"""The engine's own words (re-prompts, skip, stop, help...), for adults and for children.

Flow authors can override re-prompts, help and nudges per flow or step; these are the kind
defaults. Children get simpler words. Keys are looked up by :func:`phrase`.
"""

from __future__ import annotations

from rpbot.engine.text import pick_language

_ADULT: dict[str, str] = {
    "skip_button": "Skip ⏭",
    "done_button": "Done ✅",
    "stop_button": "Stop for now",
    "yes": "Yes",
    "no": "No",
    "skipped": "skipped",
    "skipped_shown": "Skipped",
    "cannot_skip": (
        "This one can't be skipped, because it matters for your plan. If now isn't a good "
        "time, type /stop and come back later - your answers are kept."
    ),
    "no_back": "This is the first question, so there's nothing to go back to.",
    "stopped": (
        "Okay, we'll stop here. Everything you shared is saved. "
        "You can start again from the menu any time."
    ),
    "stopped_after_tries": (
        "Let's pause here - no harm done. Everything you shared is saved, and you can try "
        "again from the menu whenever you like."
    ),
    "expired": (
        "This one has closed because it was open for a while. Your answers are saved - "
        "start a new one from the menu when you're ready."
    ),
    "flow_changed": (
        "This activity has been updated since you started. Your answers so far are saved - "
        "please start it again from the menu."
    ),
    "nudge": "Just a gentle nudge - whenever you're ready, here's where we were:",
    "help": (
        "Take your time. You can type /back to change your last answer, /skip for a question "
        "with a Skip button, or /stop to finish for now - your answers are kept."
    ),
    "not_active": "This activity has finished. Open /menu to start another one.",
    "moved_on": "That question has moved on - please answer the latest one.",
    "way_out": (
        "No problem, this one can be tricky. You can try once more, or tap Stop for now "
        "and come back later."
    ),
    "auto_skip": "Let's leave that one for now and carry on.",
    "media_not_expected": "I can't use a photo or file here - could you type it instead?",
    "reprompt_text": "Could you type a few words? Even one or two is fine.",
    "reprompt_too_long": "That's a lot! Could you make it a bit shorter?",
    "reprompt_choice": "Please tap one of the buttons, or type a few words.",
    "reprompt_multi": "Tap the ones that fit, then Done. Or type their numbers, like 1, 3.",
    "reprompt_yes_no": "Please tap Yes or No.",
    "reprompt_scale": "Please pick a number from {min} to {max}.",
    "reprompt_number": "Please type a number{range}.",
    "reprompt_time": "Please type a time, like 7pm or 19:30.",
    "reprompt_ambiguous_time": "Was that morning or evening? Please add am or pm, like 5pm.",
    "reprompt_date": "Please type a date, like 23/11/2026, or 'today'.",
    "reprompt_media": "Please send a photo, a voice note or a file.",
}

_CHILD: dict[str, str] = {
    **_ADULT,
    "cannot_skip": "This one can't be skipped. You can type /stop to finish for now.",
    "no_back": "This is the first question 🙂",
    "stopped": "Okay, we'll stop here. What you wrote is saved. Come back any time 🙂",
    "stopped_after_tries": "Let's stop for now. That's okay! What you wrote is saved 🙂",
    "expired": "This one has closed now. Your answers are saved. You can start again any time 🙂",
    "flow_changed": "This has changed a bit. Your answers are saved. Please start it again 🙂",
    "nudge": "Hi! Still there? Here's where we were:",
    "help": (
        "You can type /back to change your last answer, /skip to skip a question, or /stop to "
        "finish for now. There are no wrong answers 🙂"
    ),
    "not_active": "This one is finished. Type /menu to pick another one 🙂",
    "moved_on": "That question has finished. Please answer the newest one 🙂",
    "way_out": "That's okay! You can try once more, or tap Stop for now.",
    "auto_skip": "Let's skip that one 🙂",
    "media_not_expected": "I can't use a picture here. Can you type it instead?",
    "reprompt_text": "Can you type a few words? One or two is fine.",
    "reprompt_too_long": "Wow, that's a lot! Can you make it a bit shorter?",
    "reprompt_choice": "Tap a button, or type a few words.",
    "reprompt_multi": "Tap the ones you like, then Done.",
    "reprompt_scale": "Pick a number from {min} to {max}.",
    "reprompt_number": "Type a number{range}.",
    "reprompt_time": "Type a time, like 5pm.",
    "reprompt_ambiguous_time": "Morning or evening? Add am or pm, like 5pm.",
    "reprompt_date": "Type a date, like 23/11, or 'today'.",
    "reprompt_media": "Send a photo or a voice note.",
}


def phrase(key: str, audience: str, language: str = "en", **values: object) -> str:
    """The engine phrase ``key`` for ``audience`` ('child' gets simpler words)."""
    table = _CHILD if audience == "child" else _ADULT
    text = pick_language({"en": table[key]}, language)
    return text.format(**values) if values else text


PHRASE_KEYS = frozenset(_ADULT)
