"""Fixtures. Everything is real: a trained Rasa model, the product started with
its own run command, SQLite files and (when LOIVE_TEST_DATABASE_URL is set, as
`make test` does when PostgreSQL is reachable and CI always does) a throwaway
PostgreSQL database."""

from __future__ import annotations

import datetime as dt
import os
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
import time_machine
from sqlalchemy.engine import make_url

from bot.config import load_settings
from bot.runtime.rasa_env import ensure_model
from harness import helpers
from harness.helpers import Product, migrated_sessions, private_database, start_product

PG_URL = os.environ.get("LOIVE_TEST_DATABASE_URL", "")
TIMESHIFT_DIR = Path(__file__).parent / "timeshift"   # its sitecustomize.py shifts Python children


# --- time ----------------------------------------------------------------------------------
# No test may depend on the real date or hour. Tests that need an instant take the
# ``clock`` fixture; CI runs the clock-sensitive modules again with the whole
# process clock (and every Python child's) moved by ``--clock-at`` (Makefile: test).


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--clock-at", default=None, metavar="ISO8601",
                     help="run with the clock of this process and of every Python child it starts moved to "
                          "this instant (it keeps ticking), e.g. 2026-12-01T22:30+07:00")


def pytest_configure(config: pytest.Config) -> None:
    at = config.getoption("--clock-at")
    if not at:
        return
    target = dt.datetime.fromisoformat(at)
    if target.tzinfo is None:
        raise pytest.UsageError("--clock-at needs a UTC offset, e.g. 2026-12-01T22:30+07:00")
    if time_machine.escape_hatch.is_travelling() and os.environ.get("LOIVE_TEST_CLOCK_OFFSET_S"):
        return   # an xdist worker: tests/timeshift already moved it on the parent's timeline
    os.environ["LOIVE_TEST_CLOCK_OFFSET_S"] = repr(target.timestamp() - time.time())
    os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(TIMESHIFT_DIR), os.environ.get("PYTHONPATH")]))
    traveller = time_machine.travel(target, tick=True)
    traveller.start()
    config.stash[_SHIFT] = traveller


_SHIFT = pytest.StashKey[time_machine.travel]()


def pytest_report_header(config: pytest.Config) -> str | None:
    at = config.getoption("--clock-at")
    return f"clock shifted to {at} (this process and its Python children)" if at else None


def pytest_unconfigure(config: pytest.Config) -> None:
    traveller = config.stash.get(_SHIFT, None)
    if traveller is not None:
        traveller.stop()


class FrozenClock:
    """The process clock held still at one instant, through time-machine: every
    ``utcnow()`` and ``today_in_vietnam()`` in the code under test reads it.
    Move it with ``clock.now = instant`` (or ``clock.at(instant)``, which
    returns the clock); call it where code takes a clock callable."""

    def __init__(self, traveller: time_machine.Traveller) -> None:
        self._traveller = traveller

    @property
    def now(self) -> dt.datetime:
        return dt.datetime.now(dt.timezone.utc)

    @now.setter
    def now(self, at: dt.datetime) -> None:
        self._traveller.move_to(at)

    def at(self, at: dt.datetime) -> FrozenClock:
        self.now = at
        return self

    def __call__(self) -> dt.datetime:
        return self.now


# --- what a test needs: pure, db or stack -----------------------------------------------
# ``stack`` (written on the test) means it needs the trained model or the running product;
# ``make test-fast`` runs everything else. ``db`` and ``pure`` are added here, from the
# fixtures a test uses. A test that reaches the model or the product without the ``stack``
# mark stops the run: the fast loop must never start Rasa.

MODEL_FIXTURES = {"trained_model"}          # every product fixture depends on it
DB_FIXTURES = {"db_url", "own_db_url", "sessions", "own_sessions", "db_session", "s", "pg_url",
               "module_pg_url", "stack_db_url"}


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    unmarked = []
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        if item.get_closest_marker("stack"):
            continue
        if names & MODEL_FIXTURES:
            unmarked.append(item.nodeid)
        item.add_marker(pytest.mark.db if names & DB_FIXTURES else pytest.mark.pure)
    if unmarked:
        raise pytest.UsageError("these tests need the trained model or the running product but are not marked "
                                "@pytest.mark.stack:\n  " + "\n  ".join(unmarked))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    helpers.CURRENT_TEST = item      # start_product() checks that the test is marked ``stack``


@pytest.fixture
def clock() -> Iterator[FrozenClock]:
    """A frozen process clock (see FrozenClock); it starts at 10:00 in Vietnam on
    Monday 23/11/2026 until the test moves it."""
    with time_machine.travel(dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.timezone.utc), tick=False) as traveller:
        yield FrozenClock(traveller)


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
    helpers.require_stack_mark("the trained model")
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
