"""Supervision follows the person's legal status (issue 13, point 2): reporting
duties, reminder wording and the officer rung of the ladder only while a
community sentence runs; afterwards voluntary check-ins with the mentor."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from sqlalchemy import create_engine, select, text

from bot.supervision import people
from bot.storage.migrate import upgrade
from bot.storage.models import Alert
from tests.db.test_ladder import World, texts, vn


def walk_to_the_officer_rung(w: World) -> None:
    for when in (vn(2026, 11, 30, 8, 1), vn(2026, 12, 1, 8, 0), vn(2026, 12, 7, 7, 0), vn(2026, 12, 8, 7, 0)):
        w.at(when)


def alerts_for(sessions, person_id: str) -> list[Alert]:
    with sessions() as s:
        return list(s.scalars(select(Alert).where(Alert.person_id == person_id, Alert.type == "missed_checkin")))


def set_status(w: World, status: str, until: dt.date | None = None) -> None:
    with w.sessions.begin() as s:
        people.set_legal_status(s, w.supervisee, status, until, "test")


def test_a_completed_prison_term_never_reaches_the_officer(sessions, clock):
    w = World(sessions, clock.at(vn(2026, 11, 22, 9)), kind="monthly_window", window_days=5, grace_hours=24)
    set_status(w, "completed")
    w.at(vn(2026, 11, 30, 8, 1))
    [eve] = w.inbox("supervisee")
    assert "voluntary" in eve["text"] and "regular report" not in eve["text"]
    walk_to_the_officer_rung(w)
    assert any("has not sent the report" in t for t in texts(w.inbox("mentor")))  # the mentor still helps
    assert alerts_for(sessions, w.supervisee) == [] and w.inbox("officer") == []


def test_a_community_sentence_keeps_the_officer_rung(sessions, clock):
    w = World(sessions, clock.at(vn(2026, 11, 22, 9)), kind="monthly_window", window_days=5, grace_hours=24)
    set_status(w, "suspended", dt.date(2027, 6, 30))
    walk_to_the_officer_rung(w)
    assert len(alerts_for(sessions, w.supervisee)) == 1


def test_after_the_end_date_the_person_moves_to_voluntary_and_is_told(sessions, clock):
    w = World(sessions, clock.at(vn(2026, 11, 22, 9)), kind="monthly_window", window_days=5, grace_hours=24)
    set_status(w, "early_release", dt.date(2026, 11, 25))
    w.at(vn(2026, 11, 25, 12))
    assert w.inbox("supervisee") == []  # still the last day of the duty
    w.at(vn(2026, 11, 26, 9))
    [told] = w.inbox("supervisee")
    assert "no longer have a legal duty to report" in told["text"] and "25 Nov 2026" in told["text"]
    with sessions() as s:
        assert people.person(s, w.supervisee).legal_status == "completed"
    w.ack("supervisee")
    walk_to_the_officer_rung(w)
    assert alerts_for(sessions, w.supervisee) == []


def test_unconfirmed_status_keeps_the_former_ladder_until_an_officer_confirms(sessions, clock):
    w = World(sessions, clock.at(vn(2026, 11, 22, 9)), kind="monthly_window", window_days=5, grace_hours=24)
    with sessions() as s:
        assert people.person(s, w.supervisee).legal_status == "unconfirmed"
    walk_to_the_officer_rung(w)
    assert len(alerts_for(sessions, w.supervisee)) == 1


@pytest.mark.parametrize("status, until, message", [
    ("suspended", None, "end date"), ("completed", dt.date(2027, 1, 1), "only for a community sentence"),
    ("jailed", None, "must be one of"),
])
def test_invalid_statuses_are_refused(s, status, until, message):
    c = people.add_commune(s, f"Xã {os.urandom(3).hex()}", "test")
    p = people.add_person(s, "supervisee", "X", c.name, "test")
    with pytest.raises(people.Invalid, match=message):
        people.set_legal_status(s, p.id, status, until, "test")


def test_migration_marks_existing_supervisees_for_confirmation(tmp_path):
    engine = create_engine(f"sqlite:///{tmp_path / 'old.db'}")
    upgrade(engine, "0004")
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO communes (name, created_at) VALUES ('Xã A', '2026-01-01 00:00:00+00:00')"))
        cid = conn.execute(text("SELECT id FROM communes")).scalar()
        for pid, role in (("a" * 32, "supervisee"), ("b" * 32, "mentor")):
            conn.execute(text("INSERT INTO people (id, role, display_name, commune_id, created_at) "
                              "VALUES (:i, :r, 'N', :c, '2026-01-01 00:00:00+00:00')"), {"i": pid, "r": role, "c": cid})
    upgrade(engine)
    with engine.begin() as conn:
        rows = dict(conn.execute(text("SELECT role, legal_status FROM people")).all())
    assert rows == {"supervisee": "unconfirmed", "mentor": None}
    engine.dispose()


def test_admin_sets_and_lists_legal_status(tmp_path):
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'a.db'}", "LOIVE_LOCALE": "en",
           "LOIVE_VAR_DIR": str(tmp_path)}

    def admin(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run([sys.executable, "-m", "bot", "admin", *args], capture_output=True, text=True,
                              env=env, timeout=120)

    assert admin("add-commune", "Xã B").returncode == 0
    sup = admin("add-person", "--role", "supervisee", "--name", "Anh T", "--commune", "Xã B").stdout.split()[-1]
    done = admin("add-person", "--role", "supervisee", "--name", "Chị H", "--commune", "Xã B",
                 "--legal-status", "completed").stdout.split()[-1]
    listed = admin("list-people", "--needs-confirmation").stdout
    assert sup in listed and "needs officer confirmation" in listed and done not in listed
    r = admin("set-legal-status", sup, "--status", "suspended", "--until", "2027-06-30")
    assert r.returncode == 0 and "suspended\t2027-06-30" in r.stdout
    assert sup not in admin("list-people", "--needs-confirmation").stdout
    bad = admin("set-legal-status", sup, "--status", "suspended")
    assert bad.returncode == 2 and "end date" in bad.stderr and "Traceback" not in bad.stderr
