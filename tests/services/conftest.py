"""Service tests run on every storage backend (SQLite always, PostgreSQL when configured).

The ``migrated_url`` and ``db`` fixtures are the storage tests' own (see tests/storage/conftest).
"""

from __future__ import annotations

from tests.storage.conftest import db, migrated_url

__all__ = ["db", "migrated_url"]
