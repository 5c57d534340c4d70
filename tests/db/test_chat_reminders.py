"""Chat buttons of the messages the product sends first: "Đã nhận" on a
reminder, handling an alert in three taps with a reason code, and remembering
the expungement date. Unit tests on both databases, then the same flows
through the running product."""

from __future__ import annotations

import datetime as dt
import json
import os

import pytest
from sqlalchemy import select

from actions.expungement import case_inputs, milestone_date, remember_milestone
from actions.outbox_buttons import REASON_LABELS, acknowledge, alert_step
from bot.supervision import alerts, enrollment, messages, people, privacy
from bot.conversation import offered
from bot import outbox
from bot.config import load_settings
from bot.domain.knowledge import KnowledgeBase
from bot.storage.db import make_engine, make_sessionmaker
from bot.storage.models import Alert, AuditEntry, ChannelIdentity, Milestone, Person, OutboxMessage

NOW = dt.datetime(2026, 11, 22, 3, tzinfo=dt.timezone.utc)
NOT_OFFERED_VI = ("Xin lỗi, tôi không thể thực hiện việc này từ một lệnh gõ tay. Anh/chị vui lòng bấm các nút tôi "
                  "đã gửi.")
TODAY = dt.date(2026, 11, 22)
# tù 3 năm, ra tù 01/06/2025, adult, nothing else: cleared automatically from 02/06/2027
FUTURE_CASE = {"exp_penalty": "prison", "exp_prison_term": "P3Y", "exp_completed_on": "2025-06-01",
               "exp_age_group": "adult", "exp_special_chapter": False, "exp_new_crime": False,
               "exp_supplementary": "none", "exp_other_done": True}
CLEARED_ON = dt.date(2027, 6, 2)


def chat(s, person=None) -> str:
    """A chat identity, linked to ``person`` if given; returns its conversation id."""
    identity = ChannelIdentity(channel="web", external_id=f"u-{os.urandom(4).hex()}",
                               person_id=person.id if person is not None else None)
    s.add(identity)
    s.flush()
    return identity.id


def world(s):
    commune = people.add_commune(s, f"Xã {os.urandom(3).hex()}", "test")
    other = people.add_commune(s, f"Xã {os.urandom(3).hex()}", "test")
    mentor = people.add_person(s, "mentor", "Chị Lan", commune.name, "test")
    officer = people.add_person(s, "officer", "Anh CA", commune.name, "test")
    stranger = people.add_person(s, "officer", "Cán bộ xã khác", other.name, "test")
    sup = people.add_person(s, "supervisee", "Anh Bình", commune.name, "test", mentor_id=mentor.id)
    return sup, mentor, officer, stranger


def reminder(s, person, kind="checkin_open") -> OutboxMessage:
    key = f"{kind}:{person.id}:{os.urandom(4).hex()}"
    outbox.enqueue(s, key, kind, person.id, NOW, subject_id=person.id)
    return s.scalar(select(OutboxMessage).where(OutboxMessage.key == key))


# --- "Đã nhận" ------------------------------------------------------------------------


def test_the_recipient_acknowledges_their_reminder_once(s):
    sup, *_ = world(s)
    row = reminder(s, sup)
    conversation = chat(s, sup)
    assert acknowledge(s, conversation, str(row.id), NOW)
    assert row.acknowledged_at == NOW
    later = NOW + dt.timedelta(hours=1)
    assert acknowledge(s, conversation, str(row.id), later)  # pressed again: still thanked, first time kept
    assert row.acknowledged_at == NOW
    assert s.scalar(select(AuditEntry.actor).where(AuditEntry.action == "ack_reminder",
                                                   AuditEntry.subject_id == sup.id)) == f"person:{sup.id}"


@pytest.mark.parametrize("who, rid", [("other person", "own"), ("anonymous", "own"), ("recipient", "missing"),
                                      ("recipient", "not a number"), ("recipient", None)])
def test_nobody_else_acknowledges_and_nothing_changes(s, who, rid):
    sup, mentor, *_ = world(s)
    row = reminder(s, sup)
    conversation = {"other person": lambda: chat(s, mentor), "anonymous": lambda: chat(s),
                    "recipient": lambda: chat(s, sup)}[who]()
    reminder_id = {"own": str(row.id), "missing": str(row.id + 10_000), "not a number": "1 OR 1=1", None: None}[rid]
    assert not acknowledge(s, conversation, reminder_id, NOW)
    assert row.acknowledged_at is None


def test_a_mentor_acknowledges_the_reminder_sent_to_them(s):
    sup, mentor, *_ = world(s)
    row = reminder(s, mentor, "mentor_visit")
    assert acknowledge(s, chat(s, mentor), str(row.id), NOW) and row.acknowledged_at == NOW
    assert not acknowledge(s, chat(s, sup), str(row.id), NOW)  # the person it is about cannot


# --- alerts ------------------------------------------------------------------------------


def raise_one(s, sup) -> Alert:
    return alerts.raise_alert(s, sup, f"worrying:{os.urandom(4).hex()}", "worrying_checkin", "critical", NOW,
                              detail="no_shelter,low_wellbeing")


def test_an_officer_handles_an_alert_in_three_steps(s):
    sup, _, officer, _ = world(s)
    alert = raise_one(s, sup)
    conversation = chat(s, officer)

    shown = alert_step(s, conversation, str(alert.id), None, None, "vi")
    assert shown.text.startswith(f"Cảnh báo #{alert.id} về Anh Bình") and "không có chỗ ở" in shown.text
    assert [b["payload"] for b in shown.buttons] == [
        messages.payload("alert_action", alert_id=str(alert.id), alert_status=status)
        for status in ("acknowledged", "excused", "resolved")]

    asked = alert_step(s, conversation, str(alert.id), "resolved", None, "vi")
    assert "Lý do" in asked.text and "Anh Bình" not in asked.text
    assert [b["title"] for b in asked.buttons] == ["Đã liên lạc", "Đã đến thăm", "Đã sắp xếp hỗ trợ",
                                                   "Miễn: lý do sức khỏe", "Miễn: lý do công việc",
                                                   "Miễn: lý do khác", "Báo nhầm", "Khác"]
    payload = asked.buttons[0]["payload"]
    assert json.loads(payload[len("/alert_action"):]) == {"alert_id": str(alert.id), "alert_status": "resolved",
                                                          "reason_code": "contacted"}
    assert alert.status == "open"  # nothing changes before the reason is given

    done = alert_step(s, conversation, str(alert.id), "resolved", "contacted", "vi", NOW)
    assert done.text == f"Cảnh báo #{alert.id} đã được ghi là đã xử lý (lý do: Đã liên lạc). Cảm ơn anh/chị."
    assert (alert.status, alert.reason_code, alert.updated_by) == ("resolved", "contacted", officer.id)
    again = alert_step(s, conversation, str(alert.id), None, None, "vi")
    assert "Đã được ghi là đã xử lý (lý do: Đã liên lạc)." in again.text
    actions = set(s.scalars(select(AuditEntry.action).where(AuditEntry.actor == f"person:{officer.id}")))
    assert {"view_alert", "act_on_alert"} <= actions


def test_the_mentor_may_handle_it_too_in_english(s):
    sup, mentor, _, _ = world(s)
    alert = raise_one(s, sup)
    done = alert_step(s, chat(s, mentor), str(alert.id), "excused", "excused_health", "en", NOW)
    assert done.text == f"Alert #{alert.id} is now marked excused (reason: Excused: health). Thank you."


@pytest.mark.parametrize("who", ["stranger", "supervisee", "anonymous", "erased officer"])
@pytest.mark.parametrize("step", [(None, None), ("resolved", None), ("resolved", "contacted")])
def test_everyone_else_gets_one_refusal_that_reveals_nothing(s, who, step):
    sup, _, officer, stranger = world(s)
    alert = raise_one(s, sup)
    conversation = {"stranger": lambda: chat(s, stranger), "supervisee": lambda: chat(s, sup),
                    "anonymous": lambda: chat(s), "erased officer": lambda: chat(s, officer)}[who]()
    if who == "erased officer":
        privacy.erase_person(s, officer.id, "test")
    refusal = alert_step(s, conversation, "999999999", *step, "vi")
    answer = alert_step(s, conversation, str(alert.id), *step, "vi", NOW)
    assert answer == refusal and answer.buttons == [] and "Anh Bình" not in answer.text
    assert alert.status == "open" and alert.reason_code is None


@pytest.mark.parametrize("status, reason", [("open", "contacted"), ("deleted", None), ("resolved", "because"),
                                            ("resolved", "Contacted")])
def test_invalid_statuses_and_reasons_are_refused(s, status, reason):
    sup, _, officer, _ = world(s)
    alert = raise_one(s, sup)
    answer = alert_step(s, chat(s, officer), str(alert.id), status, reason, "vi", NOW)
    assert answer.buttons == [] and answer.text.startswith("Xin lỗi")
    assert alert.status == "open"


def test_every_reason_code_has_a_label():
    assert tuple(REASON_LABELS) == alerts.REASON_CODES


# --- remembering the expungement date ---------------------------------------------------


def test_the_date_is_recomputed_and_stored_once_per_person(s):
    sup, *_ = world(s)
    conversation = chat(s, sup)
    assert remember_milestone(s, conversation, FUTURE_CASE, TODAY, NOW) == ("saved", CLEARED_ON)
    later = {**FUTURE_CASE, "exp_completed_on": "2025-09-01"}
    assert remember_milestone(s, conversation, later, TODAY, NOW) == ("saved", dt.date(2027, 9, 2))
    [row] = s.scalars(select(Milestone).where(Milestone.person_id == sup.id))
    assert (row.kind, row.on_date) == ("expungement", dt.date(2027, 9, 2))
    [entry] = s.scalars(select(AuditEntry).where(AuditEntry.action == "remember_milestone",
                                                 AuditEntry.subject_id == sup.id).limit(1))
    assert "2025" not in (entry.detail or "") and "prison" not in (entry.detail or "")


@pytest.mark.parametrize("inputs", [
    None, {},
    {**FUTURE_CASE, "exp_completed_on": "2023-06-01"},   # already cleared: nothing to look forward to
    {**FUTURE_CASE, "exp_other_done": False},            # blocked: compensation unpaid
    {**FUTURE_CASE, "exp_age_group": "child"},           # no record at all
])
def test_no_future_date_nothing_stored(s, inputs):
    sup, *_ = world(s)
    assert remember_milestone(s, chat(s, sup), inputs, TODAY, NOW) == ("no_date", None)
    assert list(s.scalars(select(Milestone).where(Milestone.person_id == sup.id))) == []


def test_only_an_enrolled_supervisee_can_store_a_date(s):
    sup, mentor, *_ = world(s)
    for conversation in (chat(s), chat(s, mentor)):
        assert remember_milestone(s, conversation, FUTURE_CASE, TODAY, NOW) == ("not_enrolled", None)
    assert list(s.scalars(select(Milestone).where(Milestone.person_id.in_([sup.id, mentor.id])))) == []


def test_only_the_calculators_inputs_are_kept():
    slots = {**FUTURE_CASE, "ci_note": "mẹ em ốm", "exp_cancelled": None, "requested_slot": None}
    assert case_inputs(slots) == FUTURE_CASE
    assert milestone_date(case_inputs(slots), TODAY) == CLEARED_ON
    assert milestone_date(case_inputs(slots), CLEARED_ON) is None  # on the day itself: nothing to come


# --- through the running product ---------------------------------------------------------


class Stack:
    """Direct access to the running product's database, for setting up people."""

    def __init__(self, product) -> None:
        self.product = product
        self.settings = load_settings(product.env)
        self.engine = make_engine(product.env["DATABASE_URL"])
        self.sessions = make_sessionmaker(self.engine)

    def world(self):
        with self.sessions.begin() as s:
            sup, mentor, officer, stranger = world(s)
            people.set_schedule(s, sup.id, "monthly_window", "test", window_days=5)
            return sup.id, mentor.id, officer.id, stranger.id

    def offer(self, user: str, buttons) -> None:  # noqa: ANN001
        """Record buttons as shown in this chat, as the dispatcher does when it sends them."""
        conversation = self.product.chat(user).conversation(self.sessions, self.settings.secret())
        with self.sessions.begin() as s:
            offered.record(s, conversation, [b.payload for b in buttons], NOW)

    def enroll(self, person_id: str) -> str:
        user = f"cr-{os.urandom(5).hex()}"
        with self.sessions.begin() as s:
            code = enrollment.issue_enrollment_code(s, person_id, self.settings.secret(), 7, "test").code
        self.product.chat(user).say(code)
        assert "đã được đăng ký" in self.product.chat(user).say("/affirm")[0]["text"]
        return user


@pytest.fixture(scope="module")
def stack(product):
    st = Stack(product)
    yield st
    st.engine.dispose()


@pytest.mark.stack
def test_reminder_buttons_through_the_chat(stack, product):
    sup, mentor, *_ = stack.world()
    user, mentor_user = stack.enroll(sup), stack.enroll(mentor)
    kb = KnowledgeBase.load()
    window = dt.date(2026, 12, 1)
    with stack.sessions.begin() as s:
        far = dt.datetime.now(dt.timezone.utc) + dt.timedelta(days=30)  # not due: the dispatcher leaves it
        outbox.enqueue(s, f"checkin_open:{sup}:{window.isoformat()}", "checkin_open", sup, far, subject_id=sup)
        row = s.scalar(select(OutboxMessage).where(OutboxMessage.key == f"checkin_open:{sup}:{window.isoformat()}"))
        rendered = messages.render(s, row, kb, frozenset({"web"}), NOW)
        rid = row.id
    report, got_it = rendered.buttons
    assert (report.title, got_it.title) == ("Báo cáo ngay", "Đã nhận")
    stack.offer(user, rendered.buttons)   # as the dispatcher does when it sends the reminder to that chat

    # Typed by someone it was not sent to: refused before Rasa, nothing changes.
    assert product.chat(mentor_user).say(got_it.payload)[0]["text"] == NOT_OFFERED_VI
    stack.offer(mentor_user, rendered.buttons)   # even if it had been shown there, it is not theirs
    assert product.chat(mentor_user).say(got_it.payload)[0]["text"] == "Xin lỗi, tôi không tìm thấy lời nhắc này. " \
                                                                       "Có thể lời nhắc đã cũ."
    with stack.sessions() as s:
        assert s.get(OutboxMessage, rid).acknowledged_at is None
    assert product.chat(user).say(got_it.payload)[0]["text"] == "Cảm ơn anh/chị, đã ghi nhận."
    with stack.sessions() as s:
        assert s.get(OutboxMessage, rid).acknowledged_at is not None

    started = product.chat(user).say(report.payload)  # "Báo cáo ngay" starts the check-in
    assert started[-1]["text"].startswith("Báo cáo định kỳ. Anh/chị hiện vẫn ở")
    assert [b["title"] for b in started[-1]["buttons"]] == ["Vẫn ở đó", "Đã chuyển chỗ ở", "Không có chỗ ở"]


@pytest.mark.stack
def test_an_officer_handles_an_alert_by_buttons_and_a_stranger_cannot(stack, product):
    sup, _, officer, stranger = stack.world()
    officer_user, stranger_user, sup_user = stack.enroll(officer), stack.enroll(stranger), stack.enroll(sup)
    with stack.sessions.begin() as s:
        alert_id = raise_one(s, s.get(Person, sup)).id
    opening = messages.payload("alert_action", alert_id=str(alert_id))  # the digest's "Xử lý #id" button
    stack.offer(officer_user, [messages.Button("Xử lý", opening)])   # the digest went to the officer's chat
    stack.offer(stranger_user, [messages.Button("Xử lý", opening)])  # shown by mistake: still not theirs
    forged = messages.payload("alert_action", alert_id=str(alert_id), alert_status="resolved",
                            reason_code="false_alarm")

    anonymous = f"anon-{os.urandom(4).hex()}"
    for say in (product.chat(stranger_user).say, product.chat(sup_user).say, lambda t: product.say(anonymous, t)):
        for turn in (opening, forged):
            [refusal] = say(turn)
            assert refusal["text"].startswith(("Xin lỗi, tôi không thể thực hiện việc này",
                                               "Trong trò chuyện web chưa xác thực này")), refusal
            assert refusal["buttons"] == [] and "Anh Bình" not in refusal["text"]
    # Typed by the officer: the reason step's payload was never shown to them yet.
    assert product.chat(officer_user).say(forged)[0]["text"] == NOT_OFFERED_VI
    with stack.sessions() as s:
        assert s.get(Alert, alert_id).status == "open"

    [shown] = product.chat(officer_user).say(opening)
    assert shown["text"].startswith(f"Cảnh báo #{alert_id} về Anh Bình")
    assert [b["title"] for b in shown["buttons"]] == ["Đã nắm", "Miễn", "Đã xử lý"]
    [asked] = product.chat(officer_user).say(shown["buttons"][0]["payload"])
    assert len(asked["buttons"]) == len(alerts.REASON_CODES)
    [done] = product.chat(officer_user).say(asked["buttons"][1]["payload"])
    assert done["text"] == f"Cảnh báo #{alert_id} đã được ghi là đã nắm (lý do: Đã đến thăm). Cảm ơn anh/chị."
    with stack.sessions() as s:
        alert = s.get(Alert, alert_id)
        assert (alert.status, alert.reason_code, alert.updated_by) == ("acknowledged", "visited", officer)


FUTURE_QUESTION = "Tôi bị tù 3 năm, chấp hành xong ngày 01/06/2025, đã nộp đủ tiền bồi thường, khi nào được xóa án tích?"
PAST_QUESTION = FUTURE_QUESTION.replace("01/06/2025", "01/06/2023")
FUTURE_ANSWERS = ()  # answered at once, the rest assumed and said (issue 14)


def payloads(reply: dict) -> list[str]:
    return [b["payload"] for b in reply.get("buttons") or []]


@pytest.mark.stack
def test_an_enrolled_supervisee_asks_to_be_reminded_of_the_date(stack, product):
    sup, *_ = stack.world()
    user = stack.enroll(sup)
    assert product.chat(user).say("/remember_milestone")[0]["text"].startswith("Tôi chưa có ngày nào để nhắc")
    for turn in (FUTURE_QUESTION, *FUTURE_ANSWERS):
        replies = product.chat(user).say(turn)
    assert replies[-1]["buttons"][0]["payload"] == "/remember_milestone"
    for turn in (PAST_QUESTION, *FUTURE_ANSWERS):  # a later calculation, already cleared: no button, and
        replies = product.chat(user).say(turn)           # the earlier one's button no longer stores anything
    assert "từ ngày 02/06/2025" in replies[-1]["text"] and "/remember_milestone" not in payloads(replies[-1])
    assert product.chat(user).say("/remember_milestone")[0]["text"].startswith("Tôi chưa có ngày nào để nhắc")
    for turn in (FUTURE_QUESTION, *FUTURE_ANSWERS):
        replies = product.chat(user).say(turn)
    assert "từ ngày 02/06/2027" in replies[-1]["text"]
    assert replies[-1]["buttons"][0] == {"title": "Nhắc tôi vào ngày đó", "payload": "/remember_milestone"}
    [saved] = product.chat(user).say("/remember_milestone")
    assert saved["text"] == ("Đã lưu. Tôi sẽ nhắn cho anh/chị vào ngày 02/06/2027. Hồ sơ của anh/chị chỉ lưu "
                             "ngày này, không lưu gì về bản án.")
    with stack.sessions() as s:
        [m] = s.scalars(select(Milestone).where(Milestone.person_id == sup))
        assert (m.kind, m.on_date) == ("expungement", CLEARED_ON)
    # Pressed again later: the inputs were used up, nothing is taken from the message.
    assert product.chat(user).say("/remember_milestone")[0]["text"].startswith("Tôi chưa có ngày nào để nhắc")


@pytest.mark.stack
def test_anonymous_people_get_the_date_without_the_button(product):
    user = f"anon-{os.urandom(4).hex()}"
    for turn in (FUTURE_QUESTION, *FUTURE_ANSWERS):
        replies = product.say(user, turn)
    assert "từ ngày 02/06/2027" in replies[-1]["text"] and "/remember_milestone" not in payloads(replies[-1])
    assert product.say(user, "/remember_milestone")[0]["text"] == ("Nhắc ngày chỉ dành cho người đã đăng ký với "
                                                                   "cán bộ phụ trách.")
