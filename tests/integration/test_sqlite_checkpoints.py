"""The server checkpoints SQLite's write-ahead log from a thread, never inside a request's commit."""

from __future__ import annotations

import time

from sqlalchemy import text

from trustdesk.db import Database


def _autocheckpoint(db: Database) -> int:
    with db.engine.connect() as conn:
        return int(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())


def _write(db: Database, rows: int) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS t (v TEXT)"))
        conn.execute(text("INSERT INTO t (v) VALUES (:v)"), [{"v": "x" * 500}] * rows)


def test_commits_leave_checkpoints_to_the_background_thread_until_it_stops(tmp_path):
    path = tmp_path / "main.db"
    db = Database(f"sqlite:///{path}")
    try:
        assert _autocheckpoint(db) == 1000  # SQLite's default: the unlucky commit does it
        stop = db.checkpoint_in_background(interval_s=3600)
        assert _autocheckpoint(db) == 0
        _write(db, 5000)  # ~3 MB of log: by default that commit would copy it into the file
        assert path.stat().st_size < 100_000
        stop()
        assert _autocheckpoint(db) == 1000
        stop = db.checkpoint_in_background(interval_s=0.05)
        deadline = time.monotonic() + 10
        while path.stat().st_size < 2_000_000 and time.monotonic() < deadline:
            time.sleep(0.05)  # the thread copies the log into the database file by itself
        assert path.stat().st_size >= 2_000_000
        stop()
    finally:
        db.dispose()


def test_other_databases_are_left_alone():
    db = Database("sqlite://")
    try:
        db.checkpoint_in_background()()  # in memory: nothing to checkpoint, nothing started
        assert _autocheckpoint(db) == 1000
    finally:
        db.dispose()
