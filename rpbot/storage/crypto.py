"""Encryption at rest for people's words: a process-wide key ring and a column type using it.

With ``RPBOT_DATA_KEY`` set (one or more Fernet keys, comma-separated; the first encrypts, all
decrypt - cryptography's ``MultiFernet``), every :class:`EncryptedText` column is encrypted on
the way into the database and decrypted on the way out, so repositories and services never
see the difference. Stored values carry a prefix:

- ``enc:v1:<Fernet token>`` - encrypted;
- anything else - plain text (written before encryption was turned on, or without a key).

Plain and encrypted values can therefore sit side by side while ``rpbot keys rotate`` works
through a database. A plain value that happens to start with one of the prefixes (someone
typed ``enc:v1:`` as an answer) is stored behind the escape prefix ``txt:v1:``, so what people
type can never be mistaken for ciphertext.

The key ring is configured once at startup (:func:`configure`, from the settings) and read by
the column type on every bind and result. Keys are never logged or shown: the ring's ``repr``
only counts them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from sqlalchemy import Text
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from rpbot.storage.errors import StorageError

__all__ = [
    "ESCAPE",
    "PREFIX",
    "DataKeyError",
    "EncryptedText",
    "KeyRing",
    "configure",
    "current",
    "generate_key",
    "is_encrypted",
    "parse_keys",
    "seal",
    "unseal",
]

PREFIX = "enc:v1:"
ESCAPE = "txt:v1:"
ENV = "RPBOT_DATA_KEY"

MISSING_KEY = (
    f"This database holds encrypted data, but {ENV} is not set, so it cannot be read. "
    f"Set {ENV} to the key(s) it was encrypted with (comma-separated, newest first) in .env "
    "or the environment, then start again. Without the key the data cannot be recovered; "
    "the bot will not start without it."
)
WRONG_KEY = (
    f"None of the keys in {ENV} can decrypt data stored in this database. Put back the key "
    "it was encrypted with (keep the new key first, then the old one, comma-separated) and "
    "run `rpbot keys rotate` to re-encrypt everything with the new key."
)


class DataKeyError(StorageError):
    """The data key is missing, malformed or does not match the database; the message says
    what to do (it never contains a key)."""


def generate_key() -> str:
    """A new random Fernet key (url-safe base64 text), for ``RPBOT_DATA_KEY``."""
    return Fernet.generate_key().decode("ascii")


def parse_keys(raw: str | Sequence[str] | None) -> list[str]:
    """The keys in a comma-separated setting (or a list), blanks dropped."""
    if raw is None:
        return []
    parts = raw.split(",") if isinstance(raw, str) else list(raw)
    return [part.strip() for part in parts if part.strip()]


class KeyRing:
    """One or more Fernet keys: the first encrypts, any of them decrypts."""

    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise DataKeyError(f"{ENV} is empty; make a key with `rpbot keys generate`.")
        fernets = []
        for number, key in enumerate(keys, 1):
            try:
                fernets.append(Fernet(key.strip().encode("ascii")))
            except (ValueError, TypeError, UnicodeEncodeError):
                raise DataKeyError(
                    f"{ENV}: key {number} of {len(keys)} is not a Fernet key (it must be 32 "
                    "random bytes in url-safe base64, 44 characters). Make one with "
                    "`rpbot keys generate`."
                ) from None
        self._fernet = MultiFernet(fernets)
        self.size = len(fernets)

    def __repr__(self) -> str:
        return f"KeyRing({self.size} key{'s' if self.size != 1 else ''})"

    def encrypt(self, text: str) -> str:
        """``text`` encrypted with the first key, prefixed."""
        return PREFIX + self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def decrypt(self, stored: str) -> str:
        """The plain text of a prefixed value (DataKeyError if no key fits)."""
        token = stored[len(PREFIX) :].encode("ascii", errors="replace")
        try:
            return self._fernet.decrypt(token).decode("utf-8")
        except InvalidToken:
            raise DataKeyError(WRONG_KEY) from None

    def rotate(self, stored: str) -> str:
        """A prefixed value re-encrypted with the first key (DataKeyError if no key fits)."""
        token = stored[len(PREFIX) :].encode("ascii", errors="replace")
        try:
            return PREFIX + self._fernet.rotate(token).decode("ascii")
        except InvalidToken:
            raise DataKeyError(WRONG_KEY) from None


_ring: KeyRing | None = None


def configure(keys: str | Sequence[str] | None) -> KeyRing | None:
    """Set the process-wide key ring from ``RPBOT_DATA_KEY``'s value (None or empty: off)."""
    global _ring  # one key ring per process, set at startup
    parsed = parse_keys(keys)
    _ring = KeyRing(parsed) if parsed else None
    return _ring


def current() -> KeyRing | None:
    """The configured key ring, or None when encryption is off."""
    return _ring


def is_encrypted(stored: str | None) -> bool:
    """Whether a stored value is ciphertext."""
    return stored is not None and stored.startswith(PREFIX)


def seal(text: str, ring: KeyRing | None) -> str:
    """What to store for ``text``: encrypted with ``ring``, or plain (escaped if it needs to)."""
    if ring is not None:
        return ring.encrypt(text)
    if text.startswith((PREFIX, ESCAPE)):
        return ESCAPE + text
    return text


def unseal(stored: str, ring: KeyRing | None) -> str:
    """The text behind a stored value (DataKeyError if it is encrypted and no key fits)."""
    if stored.startswith(PREFIX):
        if ring is None:
            raise DataKeyError(MISSING_KEY)
        return ring.decrypt(stored)
    if stored.startswith(ESCAPE):
        return stored[len(ESCAPE) :]
    return stored


class EncryptedText(TypeDecorator[str]):
    """A text column encrypted at rest when a key ring is configured (see the module doc)."""

    impl = Text
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return seal(str(value), _ring)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return unseal(str(value), _ring)
