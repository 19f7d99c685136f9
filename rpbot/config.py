"""Settings from the environment and ``.env``: the only module that reads the environment.

Tests build :class:`Settings` directly with keyword arguments instead of patching variables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from rpbot.dialogues import DEFAULT_DIR


class Settings(BaseSettings):
    """rpbot's configuration; see ``.env.example`` for every variable."""

    model_config = SettingsConfigDict(env_file=".env", env_file_encoding="utf-8", extra="ignore")

    dialogues_dir: Path = Field(
        DEFAULT_DIR,
        validation_alias="RPBOT_DIALOGUES_DIR",
        description="Folder of dialogue YAML files and facts.yaml (default: the shipped ones).",
    )
    database_url: str = Field(
        "sqlite+aiosqlite:///./rpbot.db",
        validation_alias="DATABASE_URL",
        description="SQLite (embedded, the default) or PostgreSQL URL; see .env.example.",
    )
    telegram_bot_token: SecretStr | None = Field(
        None,
        validation_alias="TELEGRAM_BOT_TOKEN",
        description="The bot's token from @BotFather (needed by `rpbot run`).",
    )
    telegram_api_url: str = Field(
        "https://api.telegram.org/bot",
        validation_alias="TELEGRAM_API_URL",
        description="Bot API base URL; point it at a self-hosted or local Bot API.",
    )
    telegram_bot_username: str | None = Field(
        None,
        validation_alias="TELEGRAM_BOT_USERNAME",
        description="The bot's @username (without @), for invite links made offline.",
    )
    timezone: str = Field(
        "Europe/London",
        validation_alias="RPBOT_TIMEZONE",
        description="IANA timezone for new members and practitioners.",
    )
    sweep_seconds: float = Field(
        5.0,
        validation_alias="RPBOT_SWEEP_SECONDS",
        description="How often the scheduler looks for due reminders, nudges and expiries.",
    )
    reminder_grace_hours: float = Field(
        2.0,
        validation_alias="RPBOT_REMINDER_GRACE_HOURS",
        description="After downtime, reminders missed by less than this are still sent.",
    )
    http_client: Literal["aiohttp", "httpx"] = Field(
        "aiohttp",
        validation_alias="RPBOT_HTTP_CLIENT",
        description=(
            "HTTP client for Bot API calls: aiohttp (default, lighter on CPU) or httpx "
            "(python-telegram-bot's own, e.g. for its proxy settings)."
        ),
    )
    event_loop: Literal["uvloop", "asyncio"] = Field(
        "uvloop",
        validation_alias="RPBOT_EVENT_LOOP",
        description=(
            "Event loop for rpbot run and the sandbox: uvloop (default, about a quarter less "
            "CPU per update; not on Windows, where asyncio's own is used) or asyncio."
        ),
    )
    rate_overall: float = Field(
        30.0,
        validation_alias="RPBOT_RATE_OVERALL",
        description="Messages per second the bot sends in all (Telegram allows about 30).",
    )
    rate_per_chat: float = Field(
        1.0,
        validation_alias="RPBOT_RATE_PER_CHAT",
        description="Messages per second to one chat, after a short burst.",
    )
    rate_per_chat_burst: float = Field(
        3.0,
        validation_alias="RPBOT_RATE_PER_CHAT_BURST",
        description="Messages one chat may get at once before the per-chat rate applies.",
    )
    outbox_retry_seconds: float = Field(
        30.0,
        validation_alias="RPBOT_OUTBOX_RETRY_SECONDS",
        description="How often messages that failed on a network error are tried again.",
    )
    safeguarding_realert_minutes: float = Field(
        60.0,
        gt=0,
        validation_alias="RPBOT_SAFEGUARDING_REALERT_MINUTES",
        description="An unacknowledged safeguarding alert is sent again after this long.",
    )
    safeguarding_escalation_chat_id: int | None = Field(
        None,
        validation_alias="RPBOT_SAFEGUARDING_ESCALATION_CHAT_ID",
        description="A duty chat that also gets alerts nobody acknowledged in time.",
    )
    data_key: SecretStr | None = Field(
        None,
        validation_alias="RPBOT_DATA_KEY",
        description="Fernet key(s), comma-separated, newest first: encrypts answers at rest.",
    )
    erasure_mode: Literal["delete", "pseudonymise"] = Field(
        "delete",
        validation_alias="RPBOT_ERASURE_MODE",
        description="What /forget does: delete answers, or keep them without the person's name.",
    )
    retention_days: int | None = Field(
        None,
        ge=1,
        validation_alias="RPBOT_RETENTION_DAYS",
        description="Answers older than this many days are purged (unset: kept).",
    )

    @property
    def telegram_file_url(self) -> str:
        """The file download base URL that matches ``telegram_api_url``."""
        base = self.telegram_api_url.rstrip("/")
        if base.endswith("/bot"):
            return base[: -len("/bot")] + "/file/bot"
        return base + "/file/bot"

    def require_token(self) -> str:
        """The bot token, or a clear error naming the variable to set."""
        if self.telegram_bot_token is None or not self.telegram_bot_token.get_secret_value():
            raise ConfigError(
                "TELEGRAM_BOT_TOKEN is not set. Create a bot with @BotFather, then put "
                "TELEGRAM_BOT_TOKEN=<token> in .env or the environment (see .env.example)."
            )
        return self.telegram_bot_token.get_secret_value()


class ConfigError(Exception):
    """The configuration is missing or wrong; the message says what to set."""


def load_settings() -> Settings:
    """Read settings from the environment and ``.env``."""
    return Settings()
