"""One SQLite database: a writer connection behind a lock and a reader for committed data."""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any, Protocol

import aiosqlite

Params = Sequence[Any] | dict[str, Any]


class CommitHook(Protocol):
    """Work joined to every transaction of a task on one database (the update inbox marks
    its update there)."""

    database: Database

    async def before_commit(self, conn: aiosqlite.Connection) -> None:
        """Run inside the transaction, just before COMMIT."""

    def after_commit(self) -> None:
        """Run once the COMMIT succeeded."""

    def after_rollback(self) -> None:
        """Run when the transaction was rolled back."""


# The transaction the current task is in (database, connection, owning task), so that reads
# made inside a transaction see its own writes and nested `transaction()` calls join the outer
# one. The task is kept because ContextVars are copied into tasks created inside a transaction:
# such a task must not believe it is in its creator's transaction.
_current_tx: ContextVar[
    tuple[Database, aiosqlite.Connection, asyncio.Task[Any] | None] | None
] = ContextVar("palabre_tx", default=None)
commit_hook: ContextVar[CommitHook | None] = ContextVar("palabre_commit_hook", default=None)


def _task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


def _tx_conn(database: Database) -> aiosqlite.Connection | None:
    current = _current_tx.get()
    if current is None or current[0] is not database or current[2] is not _task():
        return None
    return current[1]

PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA synchronous=NORMAL",
    # Deleted and overwritten content is zeroed, not left in free pages: after /forget (and
    # its checkpoint) the person's id, name and username are in no byte of the files.
    "PRAGMA secure_delete=ON",
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
        tx = _tx_conn(self)
        if tx is not None:
            return tx
        if self._reader is None:
            raise StorageError("database is not open")
        return self._reader

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """Run the block in one IMMEDIATE transaction; join the enclosing one if any."""
        outer = _tx_conn(self)
        if outer is not None:
            yield outer
            return
        hook = commit_hook.get()
        if hook is not None and hook.database is not self:
            hook = None
        async with self._lock:
            conn = self.writer
            token = _current_tx.set((self, conn, _task()))
            try:
                await conn.execute("BEGIN IMMEDIATE")
                yield conn
                if hook is not None:
                    await hook.before_commit(conn)
                await conn.commit()
            except BaseException:
                # Shielded: a cancelled caller must still leave the writer usable. aiosqlite
                # runs calls in order on its thread, so this follows even a BEGIN that was
                # still queued when the caller was cancelled.
                await asyncio.shield(_rollback(conn))
                if hook is not None:
                    hook.after_rollback()
                raise
            finally:
                _current_tx.reset(token)
        if hook is not None:
            hook.after_commit()

    async def checkpoint(self) -> None:
        """Copy the WAL into the database file and truncate it (PRAGMA wal_checkpoint).

        Old versions of changed pages stay in the `-wal` file until a checkpoint: /forget
        calls this after its commit so erased identifiers are gone from the disk at once.
        """
        if _tx_conn(self) is not None:
            raise StorageError("checkpoint inside a transaction")
        async with self._lock:
            await self.writer.execute("PRAGMA wal_checkpoint(TRUNCATE)")

    async def execute(self, sql: str, params: Params = ()) -> aiosqlite.Cursor:
        """Execute a write; it must run inside `transaction()`."""
        conn = _tx_conn(self)
        if conn is None:
            raise StorageError("write outside a transaction")
        return await conn.execute(sql, params)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Execute a write for many rows; it must run inside `transaction()`."""
        conn = _tx_conn(self)
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


async def _rollback(conn: aiosqlite.Connection) -> None:
    # "no transaction is active": the BEGIN never ran, nothing to undo.
    with contextlib.suppress(sqlite3.OperationalError):
        await conn.execute("ROLLBACK")
