"""Circles tests use the end-to-end and storage fixtures (see tests/bot_fixtures.py)."""

from tests.bot_fixtures import *  # noqa: F403
