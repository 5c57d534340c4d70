"""Admin CLI contracts and the people service, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import subprocess
import sys

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import select

from bot import PROJECT_ROOT

from bot.supervision import enrollment, people, privacy
from bot.storage.db import make_engine
from bot.storage.migrate import upgrade
from bot.storage.models import AuditEntry, Base, ChannelIdentity, EnrollmentCode, MentorAssignment, Person

SECRET = b"test-secret"


def admin(db_url: str, *args: str, stdin: str | None = None, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "bot", "admin", *args], cwd=PROJECT_ROOT, text=True,
                          capture_output=True, input=stdin, env={**os.environ, "DATABASE_URL": db_url, **env})


def last_line(out: str) -> str:
    return out.strip().splitlines()[-1]


def test_cli_contracts(db_url, tmp_path):
    commune = f"Xã Đông Quan {os.urandom(3).hex()}"
    assert admin(db_url, "add-commune", commune).returncode == 0
    mentor = admin(db_url, "add-person", "--role", "mentor", "--name", "Chị Lan", "--commune", commune)
    assert mentor.returncode == 0 and re.fullmatch(r"[0-9a-f]{32}", last_line(mentor.stdout))
    sup = admin(db_url, "add-person", "--role", "supervisee", "--name", "Anh Tuấn", "--commune", commune,
                "--mentor", last_line(mentor.stdout))
    sup_id = last_line(sup.stdout)
    code = admin(db_url, "enroll-code", sup_id, TELEGRAM_BOT_USERNAME="loive_bot",
                 LOIVE_VAR_DIR=str(tmp_path))
    assert code.returncode == 0
    value = last_line(code.stdout)
    assert re.fullmatch(f"[{enrollment.CODE_ALPHABET}]{{10}}", value)
    assert f"https://t.me/loive_bot?start={value}" in code.stdout
    listed = admin(db_url, "list-people", "--commune", commune)
    assert sup_id in listed.stdout and "Anh Tuấn" in listed.stdout


@pytest.mark.parametrize("args, message, english", [
    (["add-person", "--role", "mentor", "--name", "X", "--commune", "Không có xã này"],
     "không tìm thấy xã “Không có xã này” (thêm bằng lệnh: admin add-commune", "add-commune"),
    (["enroll-code", "0" * 32], "không có người nào mang mã", "no person"),
    (["erase", "0" * 32, "--yes"], "không có người nào mang mã", "no person"),
    (["set-schedule", "0" * 32, "--kind", "weekly"], "không có người nào mang mã", "no person"),
])
def test_cli_errors_are_clear_and_vietnamese_by_default(db_url, args, message, english):
    r = admin(db_url, *args)
    assert r.returncode == 2 and message in r.stderr and "Traceback" not in r.stderr
    r = admin(db_url, *args, LOIVE_LOCALE="en")
    assert r.returncode == 2 and english in r.stderr


def test_commune_names_are_accepted_in_any_case(db_url):
    assert admin(db_url, "add-commune", "Xã Đông Hòa").returncode == 0
    again = admin(db_url, "add-commune", "xã  đông hòa")
    first = admin(db_url, "add-person", "--role", "mentor", "--name", "Chị Lan", "--commune", "XÃ ĐÔNG HÒA")
    assert again.returncode == 0 and first.returncode == 0, first.stderr
    listed = admin(db_url, "list-people", "--commune", "xã đông hòa")
    assert "Chị Lan" in listed.stdout


def test_an_admin_password_is_set_from_stdin(db_url):
    commune = admin(db_url, "add-commune", "Xã Mật Khẩu")
    assert commune.returncode == 0
    staff = last_line(admin(db_url, "add-person", "--role", "admin", "--name", "Quản Trị", "--commune",
                            "Xã Mật Khẩu").stdout)
    short = admin(db_url, "set-password", staff, stdin="ngắn\n")
    assert short.returncode == 2 and "ít nhất 12 ký tự" in short.stderr
    ok = admin(db_url, "set-password", staff, stdin="một mật khẩu đủ dài\n")
    assert ok.returncode == 0 and "Đã đặt mật khẩu" in ok.stdout


def test_help_is_vietnamese_by_default_and_english_on_request(db_url):
    assert "thêm một xã" in admin(db_url, "--help").stdout
    assert "add a commune" in admin(db_url, "--help", LOIVE_LOCALE="en").stdout


@pytest.fixture
def session(db_session):
    return db_session


def make_people(s):
    commune = people.add_commune(s, f"Xã {os.urandom(3).hex()}", "test")
    mentor = people.add_person(s, "mentor", "Chị Lan", commune.name, "test")
    sup = people.add_person(s, "supervisee", "Anh Tuấn", commune.name, "test", mentor_id=mentor.id)
    return commune, mentor, sup


def test_codes_are_stored_hashed_single_and_expiring(session):
    _, _, sup = make_people(session)
    now = dt.datetime(2026, 11, 22, tzinfo=dt.timezone.utc)
    first = enrollment.issue_enrollment_code(session, sup.id, SECRET, 7, "test", now=now)
    second = enrollment.issue_enrollment_code(session, sup.id, SECRET, 7, "test", now=now)
    rows = list(session.scalars(select(EnrollmentCode).where(EnrollmentCode.person_id == sup.id)))
    assert all(first.code not in r.code_hash and second.code not in r.code_hash for r in rows)
    live = [r for r in rows if r.expires_at > now]
    assert [r.code_hash for r in live] == [enrollment.code_digest(second.code, SECRET)]  # the new code replaced the old
    assert second.expires_at == now + dt.timedelta(days=7)
    assert enrollment.code_digest(second.code.lower(), SECRET) == enrollment.code_digest(f" {second.code} ", SECRET)


def test_one_mentor_at_a_time(session):
    commune, mentor, sup = make_people(session)
    other = people.add_person(session, "mentor", "Anh Ba", commune.name, "test")
    people.assign_mentor(session, sup.id, other.id, "test")
    active = list(session.scalars(select(MentorAssignment).where(
        MentorAssignment.supervisee_id == sup.id, MentorAssignment.ended_at.is_(None))))
    assert [a.mentor_id for a in active] == [other.id]
    with pytest.raises(people.Invalid):
        people.assign_mentor(session, other.id, sup.id, "test")


def test_schedule_rules(session):
    _, mentor, sup = make_people(session)
    s = people.set_schedule(session, sup.id, "monthly_window", "test", window_days=5)
    assert (s.kind, s.window_days) == ("monthly_window", 5)
    with pytest.raises(people.Invalid, match="weekday"):
        people.set_schedule(session, sup.id, "weekly", "test")
    with pytest.raises(people.Invalid, match="supervisees"):
        people.set_schedule(session, mentor.id, "monthly", "test", day_of_month=3)


def test_export_then_erase_keeps_only_what_accountability_needs(session):
    _, _, sup = make_people(session)
    identity = ChannelIdentity(channel="telegram", external_id="123456789", person_id=sup.id)
    session.add(identity)
    session.flush()
    exported = privacy.export_person(session, sup.id, "test")
    assert exported["person"]["display_name"] == "Anh Tuấn"
    assert exported["channels"][0]["external_id"] == "123456789"
    json.dumps(exported)  # serialisable
    counts = privacy.erase_person(session, sup.id, "test")
    assert counts["channels"] == 1
    row = session.get(Person, sup.id)
    assert row.display_name == "" and row.erased_at is not None
    assert session.get(ChannelIdentity, identity.id).external_id.startswith("erased:")
    with pytest.raises(people.NotFound):
        privacy.export_person(session, sup.id, "test")
    actions = [a.action for a in session.scalars(select(AuditEntry).where(AuditEntry.subject_id == sup.id))]
    assert "export_person" in actions and "erase_person" in actions


def test_models_and_migrations_agree(db_url):
    engine = make_engine(db_url)
    upgrade(engine)
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    engine.dispose()
    assert diff == [], "models changed without a migration: python -m bot db revision"
