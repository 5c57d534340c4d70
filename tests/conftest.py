"""Fixtures. Everything is real: a trained Rasa model, the product started with
its own run command, SQLite files and (when LOIVE_TEST_DATABASE_URL is set, as
`make test` does when PostgreSQL is reachable and CI always does) a throwaway
PostgreSQL database."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from sqlalchemy.engine import make_url

from bot.config import load_settings
from bot.rasa_env import ensure_model
from tests.helpers import Product, migrated_sessions, private_database, start_product

PG_URL = os.environ.get("LOIVE_TEST_DATABASE_URL", "")


def _pg_admin_dsn(url: str) -> str:
    return make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """A fresh PostgreSQL database for this test session, dropped afterwards."""
    if not PG_URL:
        pytest.skip("PostgreSQL pass not enabled (set LOIVE_TEST_DATABASE_URL)")
    name = f"loive_test_{uuid.uuid4().hex[:10]}"
    admin = _pg_admin_dsn(PG_URL)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def module_pg_url(pg_url: str) -> Iterator[str]:
    """A PostgreSQL database for one test module, apart from the session's
    shared one. The running product's dispatcher works on that shared database
    in real time; the tests here move a fake clock, and rows they make "due"
    in the past would be claimed from under them by a product that happens to
    be running at the same moment."""
    with private_database(pg_url) as url:
        yield url


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'app.db'}"
    return request.getfixturevalue("module_pg_url")


@pytest.fixture
def own_db_url(db_url: str) -> Iterator[str]:
    """Like ``db_url``, but on PostgreSQL a fresh database of this test's own:
    for tests whose dispatchers would otherwise claim other tests' due rows in
    the module's database (and the reverse)."""
    with private_database(db_url) as url:
        yield url


@pytest.fixture(scope="session")
def trained_model() -> str:
    """The real model, trained once (reused while its inputs are unchanged)."""
    return str(ensure_model(load_settings()))


@pytest.fixture(scope="session")
def stack_db_url(request: pytest.FixtureRequest, tmp_path_factory) -> str:
    """App data and Rasa trackers of the running product: PostgreSQL in the
    PostgreSQL pass, else a SQLite file."""
    if PG_URL:
        return request.getfixturevalue("pg_url")
    return f"sqlite:///{tmp_path_factory.mktemp('stackdb') / 'loive.db'}"


@pytest.fixture(scope="session")
def product(trained_model, stack_db_url, tmp_path_factory) -> Iterator[Product]:
    """The whole product started by its run command, on free ports."""
    p = start_product(tmp_path_factory.mktemp("product"), stack_db_url)
    try:
        p.wait_ready()
        yield p
    finally:
        p.stop()


@pytest.fixture
def sessions(db_url):
    """A sessionmaker on the migrated database (SQLite, or PostgreSQL in that pass)."""
    with migrated_sessions(db_url) as made:
        yield made


@pytest.fixture
def own_sessions(own_db_url):
    """A sessionmaker on a migrated database of this test's own (see own_db_url)."""
    with migrated_sessions(own_db_url) as made:
        yield made


@pytest.fixture
def db_session(sessions):
    """A session on the migrated database, rolled back after the test."""
    with sessions() as session:
        yield session
        session.rollback()


@pytest.fixture
def s(db_session):
    """``db_session`` under the short name the domain tests write ``s.``… with."""
    return db_session
