"""Logging rules: message texts, answers and the token never reach a log.

rpbot's own log lines name ids, counts and kinds only. Some libraries log contents at DEBUG
(python-telegram-bot: whole updates and request parameters; aiosqlite: every statement with
its parameters) or URLs holding the bot token at INFO (httpx). :func:`quiet_library_logs`
caps those loggers, so even a root logger at DEBUG stays free of people's words.
"""

from __future__ import annotations

import logging

CAPS = {
    "httpx": logging.WARNING,  # request URLs contain the bot token
    "httpcore": logging.INFO,
    "telegram": logging.INFO,  # DEBUG logs updates and request parameters
    "aiosqlite": logging.INFO,  # DEBUG logs statements with their parameters
    "sqlalchemy.engine": logging.WARNING,  # echo would log parameters
}


def quiet_library_logs() -> None:
    """Raise the level of libraries that would log contents or the token."""
    for name, level in CAPS.items():
        logger = logging.getLogger(name)
        if logger.level < level:
            logger.setLevel(level)
