"""Engine and sessions. SQLite file by default, PostgreSQL (psycopg 3) when configured."""

from __future__ import annotations

import os
from pathlib import Path

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import URL, make_url
from sqlalchemy.orm import Session, sessionmaker


def insert_for(s: Session):  # noqa: ANN201
    """The dialect's INSERT (with ON CONFLICT) for this session's database:
    every idempotent write (outbox keys, identities, events, inbox) uses it."""
    return {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[s.get_bind().dialect.name]


def normalize_url(url: str) -> URL:
    """Accept the usual spellings: ``postgres://`` and ``postgresql://`` use psycopg 3."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    u = make_url(url)
    if u.drivername == "postgresql":
        u = u.set(drivername="postgresql+psycopg")
    return u


def private_sqlite_file(path: Path) -> None:
    """Create a SQLite database file readable by its owner only (0600), in a
    directory created 0700, before SQLite creates it with the umask's mode.
    (SQLite gives its -wal and -shm files the database file's mode.)"""
    if not path.parent.exists():
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
    except FileExistsError:
        pass


def make_engine(url: str) -> Engine:
    u = normalize_url(url)
    if u.get_backend_name() == "sqlite":
        if u.database and u.database != ":memory:":
            private_sqlite_file(Path(u.database))
        engine = create_engine(u, connect_args={"timeout": 30})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):  # noqa: ANN001
            cur = dbapi_conn.cursor()
            # WAL lets the gateway read while another process writes;
            # foreign keys are off by default in SQLite.
            cur.execute("PRAGMA journal_mode=WAL")
            cur.execute("PRAGMA foreign_keys=ON")
            cur.execute("PRAGMA busy_timeout=30000")
            cur.close()

        return engine
    return create_engine(u, pool_pre_ping=True, pool_size=5, max_overflow=10)


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
