"""Storage errors: one root, each message says how to fix the problem.

StorageError
├── DatabaseURLError     DATABASE_URL is not a SQLite or PostgreSQL URL
├── NaiveDatetimeError   a datetime without a timezone was given (also a ValueError)
├── RowNotFoundError     a row to update does not exist (also a LookupError)
└── MigrationError       migrating the database failed (cannot connect, bad revision)
"""

from __future__ import annotations


class StorageError(Exception):
    """Root of every error raised by :mod:`rpbot.storage`."""


class DatabaseURLError(StorageError):
    """The database URL is not one rpbot can use."""


class NaiveDatetimeError(StorageError, ValueError):
    """A datetime without a timezone was given where an aware UTC one is required."""


class RowNotFoundError(StorageError, LookupError):
    """A row that should exist (by id) does not."""


class DatabaseLockedError(StorageError):
    """SQLite was locked by another transaction for longer than ``busy_timeout``."""


class MigrationError(StorageError):
    """Applying Alembic migrations failed."""
