"""Helpers shared by the safeguarding tests."""

from __future__ import annotations

import functools

from rpbot.safeguarding import Screener, load_rules, rules_path


@functools.cache
def rules_only() -> Screener:
    """The shipped English rules without the model (compiled once; screening is pure)."""
    return Screener(load_rules(rules_path("en")))
