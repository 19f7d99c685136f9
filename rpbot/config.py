"""Settings from the environment and ``.env``: the only module that reads the environment.

Tests build :class:`Settings` directly with keyword arguments instead of patching variables.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
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


def load_settings() -> Settings:
    """Read settings from the environment and ``.env``."""
    return Settings()
