"""The Telegram transport: python-telegram-bot wiring, thin handlers, the outbox sender."""

import os

# Opt in now to python-telegram-bot's timedelta durations (e.g. RetryAfter.retry_after) instead
# of its deprecation warning on every 429; the sender accepts both forms.
os.environ.setdefault("PTB_TIMEDELTA", "true")
