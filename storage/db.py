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

    def settled(self) -> bool:
        """Whether the hook's work is already committed (nothing to commit for it alone)."""


# The transaction the current task is in (database, connection, owning task), so that reads
# made inside a transaction see its own writes and nested `transaction()` calls join the outer
# one. The task is kept because ContextVars are copied into tasks created inside a transaction:
# such a task must not believe it is in its creator's transaction.
_current_tx: ContextVar[
    tuple[Database, aiosqlite.Connection, asyncio.Task[Any] | None] | None
] = ContextVar("palabre_tx", default=None)
commit_hook: ContextVar[CommitHook | None] = ContextVar("palabre_commit_hook", default=None)


class _Unit:
    """One update's writes: a single transaction that stays open from the first write until
    the update's first outgoing call (or its end), so that everything the update changed
    commits at once, with its inbox mark, or not at all."""

    def __init__(self, database: Database, task: asyncio.Task[Any] | None) -> None:
        self.database = database
        self.task = task
        self.conn: aiosqlite.Connection | None = None
        self.tx_token: Token[Any] | None = None
        self.savepoints = 0
        self.writing = False  # the open transaction holds the update's writes (not only its mark)
        self.saved = False  # some of the update's writes are committed


_unit: ContextVar[_Unit | None] = ContextVar("palabre_unit", default=None)


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


def _malloc_trim() -> None:
    # The process's own symbols (libc's on Linux); elsewhere the allocator keeps its pages.
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None).malloc_trim(0)


async def _on_thread(conn: aiosqlite.Connection, work: Callable[[sqlite3.Connection], T]) -> T:
    """Run `work` on the connection's own thread in one hand-off (aiosqlite's queue)."""
    raw: sqlite3.Connection = conn._conn  # aiosqlite keeps the sqlite3 connection there
    done: T = await conn._execute(work, raw)  # type: ignore[no-untyped-call]
    return done


class StorageError(Exception):
    """The database cannot be opened or used."""


class Database:
    """An aiosqlite database in WAL mode: serialized writes, concurrent committed reads."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer: aiosqlite.Connection | None = None
        # Statements whose result nobody reads (BEGIN, SAVEPOINT, RELEASE, `execute_later`),
        # sent to the writer's thread with the next statement or the COMMIT instead of each
        # in a hand-off of its own.
        self._queued: list[tuple[str, Params]] = []
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
        """Run the block in one IMMEDIATE transaction; join the enclosing one if any."""
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
            token = _current_tx.set((self, conn, _task()))
            try:
                self._queued.append(("BEGIN IMMEDIATE", ()))
                yield conn
                if hook is not None:
                    await hook.before_commit(conn)
                await self._commit()
            except BaseException:
                # Shielded: a cancelled caller must still leave the writer usable. aiosqlite
                # runs calls in order on its thread, so this follows even a BEGIN that was
                # still queued when the caller was cancelled.
                await asyncio.shield(self._rollback())
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
        calls this after its writes so erased identifiers are gone from the disk at once.
        Within an update, its writes are committed first (with its inbox mark).
        """
        await self.flush_unit()
        if _tx_conn(self) is not None:
            raise StorageError("checkpoint inside a transaction")
        async with self._lock:
            # Read to the end: the pragma answers a row, and a statement left open would make
            # the writer's next COMMIT fail ("SQL statements in progress").
            await self.writer.execute_fetchall("PRAGMA wal_checkpoint(TRUNCATE)")

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
        if unit.conn is None:
            await self._open_unit(unit)
        unit.writing = True
        conn = unit.conn
        assert conn is not None
        # Each block is a savepoint: a block that fails (and is caught by its caller) undoes
        # its own writes only, as a transaction of its own would have.
        unit.savepoints += 1
        name = f"block{unit.savepoints}"
        self._queued.append((f"SAVEPOINT {name}", ()))
        try:
            yield conn
        except BaseException:
            await asyncio.shield(self._rollback_to(name))
            raise
        else:
            self._queued.append((f"RELEASE {name}", ()))
        finally:
            unit.savepoints -= 1

    async def _open_unit(self, unit: _Unit) -> None:
        await self._lock.acquire()  # held until the unit is flushed or discarded
        self._queued.append(("BEGIN IMMEDIATE", ()))
        unit.conn = self.writer
        unit.tx_token = _current_tx.set((self, unit.conn, _task()))

    async def flush_unit(self) -> None:
        """Commit the current update's writes (with its commit hook) before anything leaves.

        Called before every outgoing call of an update, so that no message is sent about work
        that could still be rolled back; later writes of the update open a new transaction.
        An update that wrote nothing is closed here too (the hook's mark, alone): a crash
        after its answer left must not replay it and answer twice.
        """
        unit = self._unit()
        if unit is None:
            return
        hook = commit_hook.get()
        if hook is not None and hook.database is not self:
            hook = None
        if unit.conn is None:
            if hook is None or hook.settled():
                return
            await self._open_unit(unit)
        assert unit.conn is not None
        conn = unit.conn
        try:
            if hook is not None:
                await hook.before_commit(conn)
            await self._commit()
        except BaseException:
            await asyncio.shield(self._rollback())
            self._close_unit(unit)
            if hook is not None:
                hook.after_rollback()
            raise
        unit.saved = unit.saved or unit.writing
        self._close_unit(unit)
        if hook is not None:
            hook.after_commit()

    def unit_writing(self) -> bool:
        """Whether the current update's open transaction holds writes (not only its mark)."""
        unit = self._unit()
        return unit is not None and unit.writing

    def unit_saved(self) -> bool:
        """Whether the current update's own writes (not only its mark) were committed."""
        unit = self._unit()
        return unit is not None and unit.saved

    async def discard_unit(self) -> bool:
        """Roll back the current update's uncommitted writes; say whether there were any."""
        unit = self._unit()
        if unit is None or unit.conn is None:
            return False
        await asyncio.shield(self._rollback())
        self._close_unit(unit)
        hook = commit_hook.get()
        if hook is not None and hook.database is self:
            hook.after_rollback()
        return True

    def end_unit(self, token: object) -> None:
        """Leave unit mode (after `flush_unit` or `discard_unit`)."""
        unit = self._unit()
        if unit is not None and unit.conn is not None:
            raise StorageError("update unit ended with an open transaction")
        _unit.reset(token)  # type: ignore[arg-type]

    def _close_unit(self, unit: _Unit) -> None:
        unit.writing = False
        if unit.tx_token is not None:
            _current_tx.reset(unit.tx_token)
        unit.conn = None
        unit.tx_token = None
        self._lock.release()

    # --- the writer's hand-offs ---------------------------------------------------------

    async def _on_writer(self, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work` on the writer's thread, after the queued statements, in one hand-off."""
        queued, self._queued = self._queued, []
        if not queued:
            return await _on_thread(self.writer, work)

        def after_queued(raw: sqlite3.Connection) -> T:
            for statement, params in queued:
                raw.execute(statement, params)
            return work(raw)

        return await _on_thread(self.writer, after_queued)

    async def _commit(self) -> None:
        if self._queued == [("BEGIN IMMEDIATE", ())]:
            self._queued = []  # nothing was written: nothing to begin or commit
            return
        await self._on_writer(lambda raw: raw.commit())

    async def _rollback(self) -> None:
        # Queued statements never ran: a queued BEGIN means nothing to undo, and ROLLBACK
        # undoes the savepoints of the transaction that did begin.
        self._queued = []
        await _rollback(self.writer)

    async def _rollback_to(self, name: str) -> None:
        savepoint = (f"SAVEPOINT {name}", ())
        if savepoint in self._queued:  # the block never sent a statement: drop it all
            del self._queued[self._queued.index(savepoint):]
            return

        def undo(raw: sqlite3.Connection) -> None:
            raw.execute(f"ROLLBACK TO {name}")
            raw.execute(f"RELEASE {name}")

        # A failed BEGIN (the database busy) left no savepoint: nothing of the block to undo.
        with contextlib.suppress(sqlite3.OperationalError):
            await self._on_writer(undo)

    async def execute(self, sql: str, params: Params = ()) -> aiosqlite.Cursor:
        """Execute a write; it must run inside `transaction()`."""
        conn = _tx_conn(self)
        if conn is None:
            raise StorageError("write outside a transaction")
        cursor = await self._on_writer(lambda raw: raw.execute(sql, params))
        return aiosqlite.Cursor(conn, cursor)

    def execute_later(self, sql: str, params: Params = ()) -> None:
        """A write inside `transaction()` whose outcome nobody reads: sent with the
        transaction's next statement or its COMMIT (one hand-off fewer); an error then
        fails that statement or the commit, and the transaction rolls back as usual."""
        if _tx_conn(self) is None:
            raise StorageError("write outside a transaction")
        self._queued.append((sql, params))

    async def executemany(self, sql: str, rows: Iterable[Params]) -> None:
        """Execute a write for many rows; it must run inside `transaction()`."""
        conn = _tx_conn(self)
        if conn is None:
            raise StorageError("write outside a transaction")
        await self._on_writer(lambda raw: raw.executemany(sql, rows))

    async def write_batch(self, statements: Sequence[tuple[str, Sequence[Params]]]) -> int:
        """A fixed write pattern as one transaction of its own: BEGIN IMMEDIATE, each
        statement for each of its parameter rows, COMMIT, in one hand-off to the writer's
        thread (no commit hook runs). Inside a transaction, the statements join it instead.
        Return the rows changed."""
        if _tx_conn(self) is not None or self._unit() is not None:
            changed = 0
            async with self.transaction():
                for sql, rows in statements:
                    before = self.writer.total_changes
                    await self.executemany(sql, rows)
                    changed += self.writer.total_changes - before
            return changed

        def batch(raw: sqlite3.Connection) -> int:
            before = raw.total_changes
            raw.execute("BEGIN IMMEDIATE")
            try:
                for sql, rows in statements:
                    raw.executemany(sql, rows)
                raw.commit()
            except BaseException:
                raw.rollback()
                raise
            return raw.total_changes - before

        async with self._lock:
            return await _on_thread(self.writer, batch)

    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        """Return all rows of a query.

        The statement runs to completion in one call on aiosqlite's thread. With separate
        execute/fetch calls, another task's query could start on the shared reader while this
        one is open and so read inside its older snapshot, missing a commit made just before.
        """
        conn = self._read_conn()
        if conn is self._writer:
            # Inside a transaction (own writes visible): after its queued statements.
            found: list[aiosqlite.Row] = await self._on_writer(
                lambda raw: raw.execute(sql, params).fetchall())
            return found
        rows = await conn.execute_fetchall(sql, params)
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


async def _rollback(conn: aiosqlite.Connection) -> None:
    # "no transaction is active": the BEGIN never ran, nothing to undo.
    with contextlib.suppress(sqlite3.OperationalError):
        await conn.execute("ROLLBACK")
