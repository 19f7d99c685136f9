"""What every repository shares: the session, aware-datetime checks, dialect upserts."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import SQLModel
from sqlmodel.ext.asyncio.session import AsyncSession

from rpbot.storage.errors import NaiveDatetimeError, StorageError
from rpbot.storage.tables import UTCDateTime

RowT = TypeVar("RowT", bound=SQLModel)


def aware(value: datetime, name: str) -> datetime:
    """``value`` in UTC, or NaiveDatetimeError if it has no timezone."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise NaiveDatetimeError(
            f"{name}={value.isoformat()} has no timezone; pass an aware UTC datetime, "
            "e.g. datetime.now(UTC) or the injected Clock"
        )
    return value.astimezone(UTC)


def check_row(row: SQLModel) -> None:
    """Refuse a row holding a naive datetime before it reaches the database."""
    table = table_of(type(row))
    for column in table.columns:
        if isinstance(column.type, UTCDateTime):
            value = getattr(row, column.key)
            if value is not None:
                aware(value, f"{table.name}.{column.key}")


def table_of(model: type[SQLModel]) -> Table:
    """The Core table behind a SQLModel table class."""
    table = getattr(model, "__table__", None)
    if not isinstance(table, Table):
        raise StorageError(f"{model.__name__} is not a table model (declare it with table=True)")
    return table


class Repo:
    """Base of every repository: holds the session it works in."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def _put(self, row: RowT) -> RowT:
        """Add (or keep) ``row`` and write it now: ids are set, constraint errors raised here."""
        self._stage(row)
        await self.session.flush()
        return row

    def _stage(self, row: RowT) -> RowT:
        """Add (or keep) ``row``, written with the next flush: the next query (autoflush) or
        the commit. Many staged rows are written in one batch, which matters on hot paths such
        as the reminder sweep; use it where nothing needs the row's id or its errors at once."""
        check_row(row)
        self.session.add(row)
        return row

    def _dialect(self) -> str:
        return self.session.get_bind().dialect.name

    def _insert(self, model: type[SQLModel]) -> postgresql.Insert | sqlite.Insert:
        """A dialect-specific INSERT (PostgreSQL or SQLite) that supports ON CONFLICT."""
        table = table_of(model)
        if self._dialect() == "postgresql":
            return postgresql.insert(table)
        return sqlite.insert(table)
