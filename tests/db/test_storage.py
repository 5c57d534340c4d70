"""Storage on SQLite and PostgreSQL: migrations and identity resolution."""

from __future__ import annotations

import datetime as dt
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import inspect, select

from bot.conversation.core import resolve_identity
from bot.storage.db import make_engine, make_sessionmaker, normalize_url
from bot.storage.migrate import upgrade
from bot.storage.models import ChannelIdentity


def test_postgres_urls_use_psycopg3():
    assert normalize_url("postgres://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("postgresql://u@h/db").drivername == "postgresql+psycopg"
    assert normalize_url("sqlite:///x.db").drivername == "sqlite"


def test_migrations_are_idempotent(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    upgrade(engine)
    assert {"alembic_version", "channel_identities"} <= set(inspect(engine).get_table_names())
    engine.dispose()


def test_migrations_match_the_models(db_url):
    """Every model change has its migration: autogenerate finds nothing to do."""
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from bot.storage.models import Base

    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as conn:
        # Only our tables: Rasa's tracker store may share the database.
        ours = set(Base.metadata.tables) | {"alembic_version"}
        ctx = MigrationContext.configure(conn, opts={
            "compare_type": False,
            "include_object": lambda obj, name, type_, reflected, compare_to: (
                type_ != "table" or name in ours) and (getattr(obj, "table", None) is None or obj.table.name in ours),
        })
        diff = compare_metadata(ctx, Base.metadata)
    engine.dispose()
    assert diff == []


def test_first_messages_at_once_create_one_identity(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with ThreadPoolExecutor(8) as pool:
        ids = set(pool.map(lambda _: resolve_identity(sessions, "web", "same-user", "vi")[0], range(16)))
    assert len(ids) == 1
    other, locale = resolve_identity(sessions, "telegram", "same-user", "en")
    assert other not in ids and locale == "en"
    with sessions() as s:
        row = s.scalars(
            select(ChannelIdentity).where(
                ChannelIdentity.channel == "web", ChannelIdentity.external_id == "same-user"
            )
        ).one()
        assert row.last_inbound_at.tzinfo is not None
        assert row.last_inbound_at >= row.created_at
        assert dt.datetime.now(dt.timezone.utc) - row.last_inbound_at < dt.timedelta(minutes=1)
    engine.dispose()
