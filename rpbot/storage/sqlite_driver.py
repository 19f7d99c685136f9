"""SQLite through aiosqlite, one thread hop per statement.

aiosqlite runs every sqlite3 call on its own thread and hands each result back to the event
loop. SQLAlchemy's aiosqlite adapter makes four such hops for one statement: open a cursor,
execute, fetch the rows, close the cursor. Each hop wakes a thread and then the event loop
(futures, a queue, a self-pipe write and two context switches), and on the bot's update path
those hops cost more CPU than the SQL itself (``bench/throughput.py``).

This module keeps aiosqlite and SQLAlchemy's adapter and changes only the cursor: it runs the
whole statement (cursor, execute, fetch, close) as one call on aiosqlite's thread, through
``aiosqlite.Connection._execute``, and keeps the rows, description, row count and last row id
it brought back. SQLAlchemy's own adapter reaches into aiosqlite the same way to set the
isolation level. Nothing else changes: the same thread, the same sqlite3 connection, the same
errors. :func:`rpbot.storage.db.make_engine` passes :func:`dbapi` as the engine's ``module``
for SQLite URLs; ``Database(url, one_hop=False)`` keeps SQLAlchemy's adapter unchanged (e.g. to
rule this module out when chasing a problem).
"""

from __future__ import annotations

import sqlite3
from collections import deque
from typing import Any

import aiosqlite
from sqlalchemy.connectors.asyncio import AsyncAdapt_dbapi_connection
from sqlalchemy.dialects.sqlite.aiosqlite import (
    AsyncAdapt_aiosqlite_connection,
    AsyncAdapt_aiosqlite_cursor,
    AsyncAdapt_aiosqlite_dbapi,
)
from sqlalchemy.util import EMPTY_DICT

# What one statement brings back from aiosqlite's thread.
_Outcome = tuple[Any, list[Any] | None, int, int | None]


def _run(connection: sqlite3.Connection, operation: str, parameters: Any, many: bool) -> _Outcome:
    """On aiosqlite's thread: run one statement (``many``: once per set of parameters) and
    bring back everything about it."""
    cursor = connection.cursor()
    try:
        if many:
            cursor.executemany(operation, parameters)
        elif parameters is None:
            cursor.execute(operation)
        else:
            cursor.execute(operation, parameters)
        description = cursor.description
        rows = cursor.fetchall() if description else None
        return description, rows, cursor.rowcount, cursor.lastrowid
    finally:
        cursor.close()


class OneHopCursor(AsyncAdapt_aiosqlite_cursor):
    """A cursor whose statement runs in one hop; its results are kept here, not on a cursor."""

    __slots__ = ("_arraysize", "_description", "_lastrowid", "_rowcount")

    def __init__(self, adapt_connection: AsyncAdapt_dbapi_connection) -> None:
        # No aiosqlite cursor is opened (that would be a hop); each statement opens its own
        # sqlite3 cursor on aiosqlite's thread and closes it there.
        self._adapt_connection = adapt_connection
        self._connection = adapt_connection._connection
        self._cursor = None  # type: ignore[assignment]
        self._soft_closed_memoized = EMPTY_DICT
        self._rows = deque()
        self._description: Any = None
        self._rowcount = -1
        self._lastrowid: int | None = None
        self._arraysize = 1

    @property
    def description(self) -> Any:
        return self._description

    @property
    def rowcount(self) -> int:
        return self._rowcount

    @property
    def arraysize(self) -> int:
        return self._arraysize

    @arraysize.setter
    def arraysize(self, value: int) -> None:
        self._arraysize = value

    @property
    def lastrowid(self) -> int:
        return self._lastrowid  # type: ignore[return-value]

    async def _async_soft_close(self) -> None:
        return None  # nothing is open between statements

    def close(self) -> None:
        self._rows.clear()

    async def _execute_async(self, operation: Any, parameters: Any) -> Any:
        return await self._one_hop(operation, parameters, many=False)

    async def _executemany_async(self, operation: Any, seq_of_parameters: Any) -> Any:
        return await self._one_hop(operation, seq_of_parameters, many=True)

    async def _one_hop(self, operation: Any, parameters: Any, *, many: bool) -> None:
        async with self._adapt_connection._execute_mutex:
            outcome = await self._connection._execute(
                _run, self._connection._conn, operation, parameters, many
            )
        self._description, rows, self._rowcount, self._lastrowid = outcome
        self._rows = deque(rows) if rows is not None else deque()

    def nextset(self) -> None:
        self._rows.clear()  # sqlite3 has one result set per statement

    def setinputsizes(self, *inputsizes: Any) -> None:
        return None  # sqlite3 ignores input sizes too


class OneHopConnection(AsyncAdapt_aiosqlite_connection):
    """SQLAlchemy's aiosqlite connection with :class:`OneHopCursor` for plain cursors."""

    __slots__ = ()
    _cursor_cls = OneHopCursor


class OneHopDBAPI(AsyncAdapt_aiosqlite_dbapi):
    """SQLAlchemy's aiosqlite DBAPI module; its connections use :class:`OneHopCursor`."""

    def connect(self, *arg: Any, **kw: Any) -> OneHopConnection:
        adapted = super().connect(*arg, **kw)
        return OneHopConnection(self, adapted._connection)


def dbapi() -> OneHopDBAPI:
    """The DBAPI module to pass as ``create_async_engine(..., module=dbapi())``."""
    return OneHopDBAPI(aiosqlite, sqlite3)


__all__ = ["OneHopConnection", "OneHopCursor", "OneHopDBAPI", "dbapi"]
