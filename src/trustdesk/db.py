"""Engine, declarative base and the unit of work shared by every capability.

SQLite runs in WAL mode with foreign keys on; write transactions start with `BEGIN IMMEDIATE` so
that two writers never both read the audit chain's head and fork it. PostgreSQL gets the same
models.

Writers take a turn at the database's `WriterGate` before they begin (see `gate.py`): on SQLite
one writer per process, queued in-process instead of spinning on the busy timeout. No statement
may run on a thread that is running an event loop: it would stall every request the loop serves,
and a writer that needs the loop to commit would wait for it forever. Both engines refuse such a
statement (`BlockingCallOnEventLoop`), so the whole test suite finds one.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import DateTime, Engine, MetaData, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

from trustdesk.gate import BlockingCallOnEventLoop, WriterGate, refuse_on_event_loop
from trustdesk.private_files import private_file

__all__ = ["Base", "BlockingCallOnEventLoop", "Database", "UTCDateTime", "utcnow"]

# More pooled connections than the server's worker threads (40): a worker thread does not wait for
# a connection held by a request that is between its route and its commit.
_POOL_SIZE, _POOL_OVERFLOW = 10, 40
_PG_WRITERS = 8  # concurrent writers per process on PostgreSQL: well below the 40 worker threads

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def utcnow() -> datetime:
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC on every engine (SQLite forgets the zone; we restore it)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; TrustDesk stores timezone-aware UTC only")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _refuse_on_event_loop(
    _conn: Any, _cursor: Any, statement: str, *_args: Any, **_kwargs: Any
) -> None:
    refuse_on_event_loop(f"the statement {statement[:60]!r}")


def _prepare_sqlite(engine: Engine, immediate: bool) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.isolation_level = None  # we emit BEGIN ourselves
        cur = dbapi_conn.cursor()
        cur.execute("PRAGMA journal_mode=WAL")
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA synchronous=NORMAL")
        cur.execute("PRAGMA busy_timeout=30000")
        # 64 MiB of page cache (default 2 MiB): a bulk write into indexed tables (a recompute's
        # statistics, a large import) otherwise spills and re-reads index pages constantly.
        cur.execute("PRAGMA cache_size=-65536")
        cur.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def _no_autocheckpoint(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA wal_autocheckpoint=0")
    cur.close()


def make_engine(url: str, *, immediate: bool = False, **kwargs: Any) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if (
            parsed.database
            and parsed.database != ":memory:"
            and not parsed.database.startswith("file:")
        ):
            private_file(Path(parsed.database))  # owner-only before SQLite creates it
            kwargs = {"pool_size": _POOL_SIZE, "max_overflow": _POOL_OVERFLOW, **kwargs}
        engine = create_engine(url, **kwargs)
        _prepare_sqlite(engine, immediate)
    else:
        kwargs = {"pool_size": _POOL_SIZE, "max_overflow": _POOL_OVERFLOW, **kwargs}
        engine = create_engine(url, pool_pre_ping=True, **kwargs)
    event.listen(engine, "before_cursor_execute", _refuse_on_event_loop)
    return engine


class Database:
    """One main database: a write engine and a read engine over the same URL."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url, immediate=True)
        self.is_sqlite = self.engine.dialect.name == "sqlite"
        # On SQLite, readers use deferred transactions so they never wait for the write lock.
        self.read_engine = make_engine(url) if self.is_sqlite else self.engine
        self._writes = sessionmaker(self.engine, expire_on_commit=False)
        self._reads = sessionmaker(self.read_engine, expire_on_commit=False)
        # SQLite takes one writer at a time: they queue here, not on the file lock's busy timeout.
        self.writers = WriterGate(1 if self.is_sqlite else _PG_WRITERS)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """Unit of work: commits if the block ends normally, rolls back on any exception.

        Waits for a writer's turn unless the caller holds one already (a request's `WriterTurn`).
        """
        with self.writers.turn_in_thread():
            session = self._writes()
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise
            finally:
                session.close()

    @contextmanager
    def reading(self) -> Iterator[Session]:
        """A read-only session; anything written in it is rolled back."""
        session = self._reads()
        try:
            yield session
        finally:
            # close() rolls back any writes but, unlike rollback(), keeps loaded objects readable.
            session.close()

    def checkpoint_in_background(self, interval_s: float = 1.0) -> Callable[[], None]:
        """SQLite: copy the write-ahead log into the database from a thread of its own.

        By default the commit that fills the log to 1,000 pages does that copy itself, and takes
        10-100 ms instead of 0.1: a latency-bound server (payment scoring) moves it off the
        request path. Returns the function that stops it and restores the default.
        """
        database = self.engine.url.database
        if not self.is_sqlite or not database or database == ":memory:":
            return lambda: None
        event.listen(self.engine, "connect", _no_autocheckpoint)
        self.engine.dispose()  # pooled connections reopen without the in-commit checkpoint
        stop = threading.Event()

        def run() -> None:
            conn = sqlite3.connect(database, isolation_level=None, check_same_thread=False)
            try:
                while not stop.wait(interval_s):
                    try:
                        conn.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    except sqlite3.OperationalError:  # busy: the next round catches up
                        continue
            finally:
                conn.close()

        thread = threading.Thread(target=run, name="sqlite-checkpoints", daemon=True)
        thread.start()

        def halt() -> None:
            stop.set()
            thread.join(timeout=10)
            event.remove(self.engine, "connect", _no_autocheckpoint)
            self.engine.dispose()

        return halt

    def dispose(self) -> None:
        self.engine.dispose()
        if self.read_engine is not self.engine:
            self.read_engine.dispose()
