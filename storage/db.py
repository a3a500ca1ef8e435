"""One SQLite database: a writer connection behind a lock and a reader for committed data."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import aiosqlite

Params = Sequence[Any] | dict[str, Any]
CommitHook = Callable[[aiosqlite.Connection], Awaitable[None]]

# The connection of the transaction the current task is in, so that reads made inside a
# transaction see its own writes and nested `transaction()` calls join the outer one.
_current_tx: ContextVar[aiosqlite.Connection | None] = ContextVar("palabre_tx", default=None)
# Work to do inside every transaction of this task just before it commits (the update inbox
# marks its update handled there, so the mark and the handler's writes commit together).
commit_hook: ContextVar[CommitHook | None] = ContextVar("palabre_commit_hook", default=None)

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA synchronous=NORMAL",
)


class StorageError(Exception):
    """The database cannot be opened or used."""


class Database:
    """An aiosqlite database in WAL mode: serialized writes, concurrent committed reads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: aiosqlite.Connection | None = None
        self._reader: aiosqlite.Connection | None = None
        self._lock = asyncio.Lock()

    async def open(self) -> None:
        """Open both connections (creating the parent folder) and set the pragmas."""
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._writer = await self._connect()
            self._reader = await self._connect()
        except (OSError, aiosqlite.Error) as exc:
            await self.close()
            raise StorageError(f"cannot open database {self.path}: {exc}") from exc

    async def _connect(self) -> aiosqlite.Connection:
        # isolation_level=None: transactions are begun explicitly, never implicitly.
        conn = await aiosqlite.connect(self.path, isolation_level=None)
        conn.row_factory = aiosqlite.Row
        for pragma in PRAGMAS:
            await conn.execute(pragma)
        return conn

    async def close(self) -> None:
        """Close the connections; safe to call twice."""
        for conn in (self._reader, self._writer):
            if conn is not None:
                await conn.close()
        self._reader = self._writer = None

    @property
    def writer(self) -> aiosqlite.Connection:
        if self._writer is None:
            raise StorageError("database is not open")
        return self._writer

    def _read_conn(self) -> aiosqlite.Connection:
        tx = _current_tx.get()
        if tx is not None:
            return tx
        if self._reader is None:
            raise StorageError("database is not open")
        return self._reader

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run the block in one IMMEDIATE transaction; join the enclosing one if any."""
        outer = _current_tx.get()
        if outer is not None:
            yield outer
            return
        async with self._lock:
            conn = self.writer
            await conn.execute("BEGIN IMMEDIATE")
            token = _current_tx.set(conn)
            try:
                yield conn
                hook = commit_hook.get()
                if hook is not None:
                    await hook(conn)
                await conn.commit()
            except BaseException:
                await conn.rollback()
                raise
            finally:
                _current_tx.reset(token)

    async def execute(self, sql: str, params: Params = ()) -> aiosqlite.Cursor:
        """Execute a write; it must run inside `transaction()`."""
        conn = _current_tx.get()
        if conn is None:
            raise StorageError("write outside a transaction")
        return await conn.execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Execute a write for many rows; it must run inside `transaction()`."""
        conn = _current_tx.get()
        if conn is None:
            raise StorageError("write outside a transaction")
        await conn.executemany(sql, rows)

    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        """Return all rows of a query.

        The statement runs to completion in one call on aiosqlite's thread. With separate
        execute/fetch calls, another task's query could start on the shared reader while this
        one is open and so read inside its older snapshot, missing a commit made just before.
        """
        rows = await self._read_conn().execute_fetchall(sql, params)
        return list(rows)

    async def fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        """Return the first row of a query (make it select one row), or None."""
        rows = await self.fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchval(self, sql: str, params: Params = ()) -> Any:
        """Return the first column of the first row, or None."""
        row = await self.fetchone(sql, params)
        return None if row is None else row[0]
