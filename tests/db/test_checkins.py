"""Check-ins: once per window, worrying answers alert mentor and officers once."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from actions.checkin import extract
from bot import PROJECT_ROOT
from bot.supervision import alerts, checkins, people
from bot.storage.db import make_engine, make_sessionmaker
from bot.storage.models import Alert, Checkin, Person, OutboxMessage
from vietnamese.crisis import CrisisLexicon

TODAY = dt.date(2026, 11, 3)
OK = checkins.Answers(address="same", activity="working", wellbeing=4, need="nothing")


@pytest.fixture(scope="module")
def lexicon() -> CrisisLexicon:
    return CrisisLexicon.load()


def setup(s):
    commune = people.add_commune(s, f"Xã {os.urandom(3).hex()}", "test")
    other = people.add_commune(s, f"Xã {os.urandom(3).hex()}", "test")
    mentor = people.add_person(s, "mentor", "Chị Lan", commune.name, "test")
    officer = people.add_person(s, "officer", "Anh CA", commune.name, "test")
    people.add_person(s, "officer", "Cán bộ xã khác", other.name, "test")
    sup = people.add_person(s, "supervisee", "Anh B", commune.name, "test", mentor_id=mentor.id)
    people.set_schedule(s, sup.id, "monthly_window", "test", window_days=5)
    return sup, mentor, officer


def test_one_checkin_per_window_resubmission_updates(s, lexicon):
    sup, _, _ = setup(s)
    first, _ = checkins.record(s, sup, "web", OK, lexicon, TODAY)
    again, _ = checkins.record(s, sup, "web", checkins.Answers("same", "looking", 3, "job"), lexicon, TODAY)
    rows = list(s.scalars(select(Checkin).where(Checkin.person_id == sup.id)))
    assert len(rows) == 1 and rows[0].activity == "looking" and rows[0].window_start == dt.date(2026, 11, 1)
    nxt, _ = checkins.record(s, sup, "web", OK, lexicon, dt.date(2026, 12, 2))
    assert nxt.window_start == dt.date(2026, 12, 1)


@pytest.mark.parametrize("answers, reasons", [
    (OK, []),
    (checkins.Answers("none", "other", 3, "housing"), ["no_shelter"]),
    (checkins.Answers("same", "working", 2, "nothing"), ["low_wellbeing"]),
    (checkins.Answers("same", "working", 4, "urgent"), ["urgent_help"]),
    (checkins.Answers("same", "working", 4, "nothing", "em chán sống lắm rồi"), ["crisis_words"]),
])
def test_worrying_answers(lexicon, answers, reasons):
    assert checkins.worrying_reasons(answers, lexicon) == reasons


def test_worrying_checkin_alerts_mentor_and_own_officers_once(s, lexicon):
    sup, mentor, officer = setup(s)
    bad = checkins.Answers("same", "looking", 1, "urgent")
    _, reasons = checkins.record(s, sup, "web", bad, lexicon, TODAY)
    checkins.record(s, sup, "web", bad, lexicon, TODAY)  # resubmitted: no second alert
    [alert] = s.scalars(select(Alert).where(Alert.person_id == sup.id))
    assert (alert.status, alert.severity, alert.type) == ("open", "critical", "worrying_checkin")
    outbox = list(s.scalars(select(OutboxMessage).where(OutboxMessage.key.like(f"alert:{alert.id}:%"))))
    assert sorted(r.person_id for r in outbox) == sorted([mentor.id, officer.id])  # not the other commune's
    assert all(r.critical and r.status == "pending" for r in outbox)


def test_calm_checkin_raises_nothing(s, lexicon):
    sup, _, _ = setup(s)
    checkins.record(s, sup, "web", OK, lexicon, TODAY)
    assert list(s.scalars(select(Alert).where(Alert.person_id == sup.id))) == []


def test_invalid_answers_are_refused(s, lexicon):
    sup, _, _ = setup(s)
    with pytest.raises(ValueError):
        checkins.record(s, sup, "web", checkins.Answers("same", "working", 9, "nothing"), lexicon, TODAY)


def _m(text, intent="inform", choice=None):
    ents = [{"entity": "choice", "value": choice}] if choice else []
    return {"text": text, "intent": {"name": intent}, "entities": ents}


@pytest.mark.parametrize("message, requested, out", [
    (_m('/inform{"choice": "none"}', choice="none"), "ci_address", {"ci_address": "none"}),
    (_m("vẫn ở nhà"), "ci_address", {"ci_address": "same"}),
    (_m("khong co cho o"), "ci_address", {"ci_address": "none"}),
    (_m("dang tim viec"), "ci_activity", {"ci_activity": "looking"}),
    (_m("chắc 2 thôi"), "ci_wellbeing", {"ci_wellbeing": 2}),
    (_m("cần vay vốn"), "ci_need", {"ci_need": "loan"}),
    (_m("ko", "deny"), "ci_need", {"ci_need": "nothing"}),
    (_m("/deny", "deny"), "ci_note", {"ci_note": ""}),
    (_m("mẹ em ốm"), "ci_note", {"ci_note": "mẹ em ốm"}),
    # A "no" typed instead of the button is no note; a note that starts with "không" is a note.
    (_m("ko", "deny"), "ci_note", {"ci_note": ""}),
    (_m("Không có gì ạ, cảm ơn chị", "deny"), "ci_note", {"ci_note": ""}),
    (_m("k can them gi"), "ci_note", {"ci_note": ""}),
    (_m("ko, em cần tiền gấp", "deny"), "ci_note", {"ci_note": "ko, em cần tiền gấp"}),
    (_m("không có việc làm, cần giúp"), "ci_note", {"ci_note": "không có việc làm, cần giúp"}),
    (_m("dang di phu ho"), "ci_activity", {"ci_activity": "working"}),
    (_m("tệ lắm, tối ko ngủ dc"), "ci_wellbeing", {"ci_wellbeing": 1}),   # low, not the crisis reply
    (_m("/affirm", "affirm"), "ci_confirm", {"ci_confirm": True}),
    (_m("hủy"), "ci_activity", {"ci_cancelled": True}),
    (_m("abc xyz"), "ci_activity", {}),
])
def test_checkin_answers_are_understood(message, requested, out):
    assert extract(message, requested) == out


@pytest.mark.stack
def test_enrolled_person_checks_in_and_a_worrying_answer_alerts(product):
    env = dict(product.env)

    def admin(*args):
        return subprocess.run([sys.executable, "-m", "bot", "admin", *args], cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]

    commune = f"Xã CI {os.urandom(3).hex()}"
    admin("add-commune", commune)
    mentor = admin("add-person", "--role", "mentor", "--name", "Chị Lan", "--commune", commune)
    admin("add-person", "--role", "officer", "--name", "Anh CA", "--commune", commune)
    sup = admin("add-person", "--role", "supervisee", "--name", "Anh B", "--commune", commune, "--mentor", mentor)
    # The mentor has a chat, so the person is truthfully told that the mentor was told.
    mentor_user = f"ci-m-{os.urandom(4).hex()}"
    product.chat(mentor_user).say(admin("enroll-code", mentor))
    product.chat(mentor_user).say("/affirm")
    code = admin("enroll-code", sup)
    user = f"ci-{os.urandom(4).hex()}"
    assert "dành cho người đã đăng ký" in product.chat(user).say("bao cao")[0]["text"]
    product.chat(user).say(code)
    product.chat(user).say("/affirm")
    # Wellbeing 1 with a note asking for help is critical: told at once, at any hour (a
    # non-critical one is truthfully said to wait for 07:00 at night: tests/db/test_crisis.py).
    for turn in ("báo cáo", '/inform{"choice": "same"}', "dang tim viec", "1", '/inform{"choice": "job"}',
                 "em cần người giúp"):
        replies = product.chat(user).say(turn)
    assert "Báo cáo của anh/chị" in replies[0]["text"]
    done = product.chat(user).say("/affirm")
    assert done[0]["text"] == "Cảm ơn anh/chị, báo cáo đã được ghi nhận."
    assert "đã báo cho người giúp đỡ" in done[1]["text"]
    engine = make_engine(env["DATABASE_URL"])
    with make_sessionmaker(engine)() as s:
        assert s.scalar(select(Checkin.wellbeing).where(Checkin.person_id == sup)) == 1
        [alert] = s.scalars(select(Alert).where(Alert.person_id == sup))
        assert len(list(s.scalars(select(OutboxMessage).where(OutboxMessage.key.like(f"alert:{alert.id}:%"))))) == 2
    engine.dispose()


def test_alerts_are_acted_on_within_scope_with_a_reason(s, lexicon):
    sup, mentor, officer = setup(s)
    checkins.record(s, sup, "web", checkins.Answers("same", "looking", 1, "nothing"), lexicon, TODAY)
    [alert] = s.scalars(select(Alert).where(Alert.person_id == sup.id))
    outsider = s.scalar(select(Person).where(Person.display_name == "Cán bộ xã khác",
                                        Person.commune_id != sup.commune_id))
    with pytest.raises(people.NotFound):
        alerts.act_on_alert(s, alert.id, "resolved", "contacted", outsider.id)
    with pytest.raises(people.Invalid):
        alerts.act_on_alert(s, alert.id, "resolved", "because", officer.id)
    done = alerts.act_on_alert(s, alert.id, "acknowledged", "contacted", officer.id)
    assert (done.status, done.reason_code, done.updated_by) == ("acknowledged", "contacted", officer.id)
    assert alerts.act_on_alert(s, alert.id, "resolved", "help_arranged", mentor.id).status == "resolved"


@pytest.mark.stack
@pytest.mark.parametrize("activity, feeling", [("dang di phu ho", "te lam, toi ko ngu dc"),
                                               ("đang đi phụ hồ", "tệ lắm, tối ko ngủ dc")])
def test_answers_in_words_are_understood_and_a_bad_night_is_not_a_crisis(product, activity, feeling):
    """Issue 14: "đang đi phụ hồ" answers "đang làm gì?", "tệ lắm, tối ko ngủ dc" answers the
    wellbeing question as a low answer, with care; the form goes on (crisis words still win:
    tests/unit/test_answer_first.py)."""
    env = dict(product.env)

    def admin(*args):
        return subprocess.run([sys.executable, "-m", "bot", "admin", *args], cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]

    commune = f"Xã CW {os.urandom(3).hex()}"
    admin("add-commune", commune)
    sup = admin("add-person", "--role", "supervisee", "--name", "Anh C", "--commune", commune)
    user = f"cw-{os.urandom(4).hex()}"
    product.chat(user).say(admin("enroll-code", sup))
    product.chat(user).say("/affirm")
    product.chat(user).say("báo cáo")
    product.chat(user).say('/inform{"choice": "same"}')
    asked_wellbeing = product.chat(user).say(activity)
    assert "1" in str(asked_wellbeing[-1].get("buttons"))  # the wellbeing question, not the menu
    after = product.chat(user).say(feeling)
    said = "\n".join(r["text"] for r in after)
    assert "Tôi đã ghi vào báo cáo (1/5)" in said and "115" not in said  # care, not the crisis reply
    for turn in ('/inform{"choice": "nothing"}', "/deny"):
        replies = product.chat(user).say(turn)
    assert "Báo cáo của anh/chị" in replies[0]["text"]  # the summary to confirm: the form went on
    product.chat(user).say("/affirm")
    engine = make_engine(env["DATABASE_URL"])
    with make_sessionmaker(engine)() as s:
        assert s.scalar(select(Checkin.wellbeing).where(Checkin.person_id == sup)) == 1
        assert s.scalar(select(Checkin.activity).where(Checkin.person_id == sup)) == "working"
    engine.dispose()
