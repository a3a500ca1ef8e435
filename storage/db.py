"""One SQLite database: a writer connection behind a lock and a reader for committed data."""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import sqlite3
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from contextvars import ContextVar, Token
from pathlib import Path
from typing import Any, Protocol, TypeVar

import aiosqlite

Params = Sequence[Any] | dict[str, Any]
T = TypeVar("T")


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


class _Tx:
    """The transaction the current task is in: its database, the writer connection, the
    owning task, and whether BEGIN ran yet (it is sent with the first statement, in the same
    hand-off to aiosqlite's thread) or COMMIT already did (sent with the last statement)."""

    __slots__ = ("begun", "committed", "conn", "database", "pending", "task")

    def __init__(self, database: Database, conn: aiosqlite.Connection,
                 task: asyncio.Task[Any] | None) -> None:
        self.database = database
        self.conn = conn
        self.task = task
        self.begun = False
        self.committed = False
        # Statements that travel with the next one (a savepoint, a note): no hand-off of
        # their own.
        self.pending: list[tuple[str, Params]] = []


# The transaction the current task is in, so that reads made inside a transaction see its
# own writes and nested `transaction()` calls join the outer one. The task is kept because
# ContextVars are copied into tasks created inside a transaction: such a task must not
# believe it is in its creator's transaction.
_current_tx: ContextVar[_Tx | None] = ContextVar("palabre_tx", default=None)
commit_hook: ContextVar[CommitHook | None] = ContextVar("palabre_commit_hook", default=None)


class _Unit:
    """One update's writes: a single transaction that stays open from the first write until
    the update's first outgoing call (or its end), so that everything the update changed
    commits at once, with its inbox mark, or not at all."""

    def __init__(self, database: Database, task: asyncio.Task[Any] | None) -> None:
        self.database = database
        self.task = task
        self.tx: _Tx | None = None
        self.tx_token: Token[Any] | None = None
        self.savepoints = 0


_unit: ContextVar[_Unit | None] = ContextVar("palabre_unit", default=None)


def _task() -> asyncio.Task[Any] | None:
    try:
        return asyncio.current_task()
    except RuntimeError:
        return None


def _tx(database: Database) -> _Tx | None:
    current = _current_tx.get()
    if current is None or current.database is not database or current.task is not _task():
        return None
    return current


def _tx_conn(database: Database) -> aiosqlite.Connection | None:
    current = _tx(database)
    return None if current is None else current.conn


async def _on_thread(conn: aiosqlite.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run `work` on the connection's own thread in one hand-off (aiosqlite's queue)."""
    raw: sqlite3.Connection = conn._conn  # aiosqlite keeps the sqlite3 connection there
    done: T = await conn._execute(work, raw)  # type: ignore[no-untyped-call]
    return done


async def _in_tx(tx: _Tx, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run `work` in the transaction, preceded by its BEGIN if this is its first statement
    and by the statements waiting to travel with the next one."""
    begin, pending = not tx.begun, tx.pending
    if not begin and not pending:
        return await _on_thread(tx.conn, work)
    tx.begun = True
    tx.pending = []

    def prelude_then(raw: sqlite3.Connection) -> T:
        if begin:
            raw.execute("BEGIN IMMEDIATE")
        for sql, params in pending:
            raw.execute(sql, params)
        return work(raw)

    return await _on_thread(tx.conn, prelude_then)


PRAGMAS = (
    "PRAGMA journal_mode=WAL",
    "PRAGMA foreign_keys=ON",
    "PRAGMA busy_timeout=10000",
    "PRAGMA synchronous=NORMAL",
)


def _malloc_trim() -> None:
    # The process's own symbols (libc's on Linux); elsewhere the allocator keeps its pages.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


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

    async def release_memory(self) -> None:
        """Give back the memory a large batch (e.g. planning reminders) left behind: SQLite's
        page caches, then the C heap's free pages (glibc only; a no-op elsewhere)."""
        for conn in (self._writer, self._reader):
            if conn is not None:
                await conn.execute("PRAGMA shrink_memory")
        _malloc_trim()

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
        """Run the block in one IMMEDIATE transaction; join the enclosing one if any.

        BEGIN IMMEDIATE travels with the block's first statement and COMMIT with the commit
        hook's (see `finish`): a transaction of k statements is k hand-offs to the writer's
        thread, not k + 3. A block that runs no statement sends nothing.
        """
        outer = _tx_conn(self)
        unit = self._unit()
        if unit is not None:
            async with self._in_unit(unit, outer) as conn:
                yield conn
            return
        if outer is not None:
            yield outer
            return
        hook = commit_hook.get()
        if hook is not None and hook.database is not self:
            hook = None
        async with self._lock:
            conn = self.writer
            tx = _Tx(self, conn, _task())
            token = _current_tx.set(tx)
            try:
                yield conn
                if hook is not None:
                    await hook.before_commit(conn)
                if tx.begun and not tx.committed:
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

    # --- one transaction per update ----------------------------------------------------

    def begin_unit(self) -> object:
        """Make the current task's transactions one, kept open until `end_unit`/`flush_unit`."""
        return _unit.set(_Unit(self, _task()))

    def _unit(self) -> _Unit | None:
        unit = _unit.get()
        if unit is None or unit.database is not self or unit.task is not _task():
            return None
        return unit

    @asynccontextmanager
    async def _in_unit(self, unit: _Unit,
                       outer: aiosqlite.Connection | None) -> AsyncIterator[aiosqlite.Connection]:
        if outer is not None and unit.savepoints:
            yield outer  # nested inside a block of the unit: that block's savepoint covers it
            return
        if unit.tx is None:
            await self._lock.acquire()  # held until the unit is flushed or discarded
            unit.tx = _Tx(self, self.writer, _task())
            unit.tx_token = _current_tx.set(unit.tx)
        tx = unit.tx
        # Each block is a savepoint, so that a block that fails (and is caught by its caller)
        # undoes its own writes only, as a transaction of its own would have. It travels with
        # the block's first statement; it is never released (COMMIT releases them all), so it
        # costs no hand-off of its own.
        unit.savepoints += 1
        name = f"block{unit.savepoints}"
        statement = (f"SAVEPOINT {name}", ())
        tx.pending.append(statement)
        try:
            yield tx.conn
        except BaseException:
            if statement in tx.pending:
                tx.pending.remove(statement)  # the block ran nothing: nothing to undo
            else:
                await asyncio.shield(_rollback_to(tx.conn, name))
            raise
        finally:
            unit.savepoints -= 1

    async def flush_unit(self) -> None:
        """Commit the current update's writes (with its commit hook) before anything leaves.

        Called before every outgoing call of an update, so that no message is sent about work
        that could still be rolled back; later writes of the update open a new transaction.
        """
        unit = self._unit()
        if unit is None or unit.tx is None:
            return
        tx = unit.tx
        hook = commit_hook.get()
        if hook is not None and hook.database is not self:
            hook = None
        try:
            if tx.begun and hook is not None:
                await hook.before_commit(tx.conn)
            if tx.begun and not tx.committed:
                await tx.conn.commit()
        except BaseException:
            await asyncio.shield(_rollback(tx.conn))
            self._close_unit(unit)
            if hook is not None:
                hook.after_rollback()
            raise
        wrote = tx.begun
        self._close_unit(unit)
        if hook is not None and wrote:
            hook.after_commit()

    async def discard_unit(self) -> bool:
        """Roll back the current update's uncommitted writes; say whether there were any."""
        unit = self._unit()
        if unit is None or unit.tx is None:
            return False
        wrote = unit.tx.begun and not unit.tx.committed
        if wrote:
            await asyncio.shield(_rollback(unit.tx.conn))
        self._close_unit(unit)
        hook = commit_hook.get()
        if wrote and hook is not None and hook.database is self:
            hook.after_rollback()
        return wrote

    def end_unit(self, token: object) -> None:
        """Leave unit mode (after `flush_unit` or `discard_unit`)."""
        unit = self._unit()
        if unit is not None and unit.tx is not None:
            raise StorageError("update unit ended with an open transaction")
        _unit.reset(token)  # type: ignore[arg-type]

    def _close_unit(self, unit: _Unit) -> None:
        if unit.tx_token is not None:
            _current_tx.reset(unit.tx_token)
        unit.tx = None
        unit.tx_token = None
        self._lock.release()

    def defer(self, sql: str, params: Params = ()) -> None:
        """Queue a write to travel with the transaction's next statement (no result needed)."""
        tx = _tx(self)
        if tx is None:
            raise StorageError("write outside a transaction")
        tx.pending.append((sql, params))

    async def execute(self, sql: str, params: Params = ()) -> aiosqlite.Cursor:
        """Execute a write; it must run inside `transaction()`."""
        tx = _tx(self)
        if tx is None:
            raise StorageError("write outside a transaction")
        if tx.committed:
            raise StorageError("write after the transaction's commit")
        cursor = await _in_tx(tx, lambda raw: raw.execute(sql, params))
        return aiosqlite.Cursor(tx.conn, cursor)

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Execute a write for many rows; it must run inside `transaction()`."""
        tx = _tx(self)
        if tx is None:
            raise StorageError("write outside a transaction")
        if tx.committed:
            raise StorageError("write after the transaction's commit")
        await _in_tx(tx, lambda raw: raw.executemany(sql, rows))

    async def finish(self, sql: str, params: Params, expected_rows: int) -> bool:
        """The last write of the current transaction, and its COMMIT in the same hand-off,
        if it changed `expected_rows` rows; otherwise nothing is committed and False is
        returned (the caller raises, and the transaction rolls back)."""
        tx = _tx(self)
        if tx is None:
            raise StorageError("write outside a transaction")

        def write_and_commit(raw: sqlite3.Connection) -> bool:
            if raw.execute(sql, params).rowcount != expected_rows:
                return False
            raw.commit()
            return True

        done = await _in_tx(tx, write_and_commit)
        tx.committed = done
        return done

    async def write_alone(self, sql: str, rows: Sequence[Params]) -> int:
        """BEGIN IMMEDIATE, one statement for each of `rows`, COMMIT: one hand-off to the
        writer's thread (inside a transaction, its statements join it; outside, no commit
        hook runs). Return the rows changed."""
        if _tx(self) is not None:
            before = self.writer.total_changes
            await self.executemany(sql, rows)
            return self.writer.total_changes - before
        async with self._lock:

            def batch(raw: sqlite3.Connection) -> int:
                before = raw.total_changes
                raw.execute("BEGIN IMMEDIATE")
                try:
                    raw.executemany(sql, rows)
                    raw.commit()
                except BaseException:
                    raw.rollback()
                    raise
                return raw.total_changes - before

            return await _on_thread(self.writer, batch)

    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        """Return all rows of a query.

        The statement runs to completion in one call on aiosqlite's thread. With separate
        execute/fetch calls, another task's query could start on the shared reader while this
        one is open and so read inside its older snapshot, missing a commit made just before.
        """
        tx = _tx(self)
        if tx is not None:
            # Inside a transaction: its connection (own writes visible), BEGIN sent first.
            return await _in_tx(tx, lambda raw: raw.execute(sql, params).fetchall())
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


async def flush_current_unit() -> None:
    """Commit the writes of the update handled by this task, if any (see `Database.flush_unit`)."""
    unit = _unit.get()
    if unit is not None:
        await unit.database.flush_unit()


async def _rollback_to(conn: aiosqlite.Connection, name: str) -> None:
    # "no such savepoint": the statement carrying it never ran (its BEGIN failed, say).
    with contextlib.suppress(sqlite3.OperationalError):
        await conn.execute(f"ROLLBACK TO {name}")


async def _rollback(conn: aiosqlite.Connection) -> None:
    # "no transaction is active": the BEGIN never ran, nothing to undo.
    with contextlib.suppress(sqlite3.OperationalError):
        await conn.execute("ROLLBACK")
