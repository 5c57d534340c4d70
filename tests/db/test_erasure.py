""""Xóa dữ liệu của tôi": the person's data (when enrolled) and the chat history
(always) are erased after a confirmation; what is kept is said. Unit tests on
both databases, then through the running product, where the Rasa tracker
itself must no longer hold what was said."""

from __future__ import annotations

import datetime as dt
import json
import os

import httpx
import pytest
from rasa_sdk import Tracker
from sqlalchemy import create_engine, select, text

from actions.privacy import ERASE_CONVERSATION, asked_just_before
from bot.supervision import checkins, enrollment, people, privacy
from bot import outbox
from bot.config import Settings, load_settings
from bot.conversation.core import controls, tracker_database_url, wipe_conversations
from bot.conversation.rasa_client import parse_rest_output
from bot.storage.db import make_engine, make_sessionmaker
from bot.storage.models import (
    AuditEntry,
    ChannelIdentity,
    Checkin,
    Milestone,
    Person,
    OutboxMessage,
    WebInboxMessage,
)
from vietnamese.crisis import CrisisLexicon

NOW = dt.datetime(2026, 11, 22, 3, tzinfo=dt.timezone.utc)


def chat(s, person=None, channel="web") -> ChannelIdentity:
    identity = ChannelIdentity(channel=channel, external_id=f"u-{os.urandom(4).hex()}",
                               person_id=person.id if person is not None else None, last_choices='["/affirm"]')
    s.add(identity)
    s.flush()
    return identity


def inbox(s, identity, n=2) -> None:
    for _ in range(n):
        s.add(WebInboxMessage(key=f"k-{os.urandom(6).hex()}", identity_id=identity.id, body='{"text": "Nhắc lịch"}'))
    outbox.enqueue_reply(s, f"reply:web:{os.urandom(4).hex()}:0", identity.id, '{"text": "Ghi chú: mẹ em ốm"}', NOW)
    s.flush()


def supervisee(s):
    commune = people.add_commune(s, f"Xã {os.urandom(3).hex()}", "test")
    mentor = people.add_person(s, "mentor", "Chị Lan", commune.name, "test")
    sup = people.add_person(s, "supervisee", "Anh Bình", commune.name, "test", mentor_id=mentor.id)
    people.set_schedule(s, sup.id, "monthly_window", "test", window_days=5)
    checkins.record(s, sup, "web", checkins.Answers("same", "working", 4, "nothing", "mẹ em ốm"),
                    CrisisLexicon.load(), dt.date(2026, 11, 3))
    s.add(Milestone(person_id=sup.id, kind="expungement", on_date=dt.date(2027, 6, 2)))
    s.flush()
    return sup


def test_an_enrolled_person_erases_their_data_and_every_linked_chat(s):
    sup = supervisee(s)
    here, there = chat(s, sup), chat(s, sup, "telegram")
    inbox(s, here)
    inbox(s, there)
    platform_id = here.external_id

    assert privacy.erase_from_chat(s, here.id) == [here.id, there.id]

    person = s.get(Person, sup.id)
    assert person.erased_at is not None and person.display_name == ""
    for model in (Checkin, Milestone):
        assert list(s.scalars(select(model).where(model.person_id == sup.id))) == []
    assert list(s.scalars(select(WebInboxMessage).where(WebInboxMessage.identity_id.in_([here.id, there.id])))) == []
    assert list(s.scalars(select(OutboxMessage).where(OutboxMessage.identity_id.in_([here.id, there.id])))) == []
    # This chat keeps its address so the confirmation reaches it; the other one is forgotten.
    assert (here.person_id, here.external_id, here.last_choices) == (None, platform_id, None)
    assert (there.person_id, there.external_id, there.last_choices) == (None, f"erased:{there.id}", None)
    # Kept for accountability: the audit log, written as the person themself.
    actors = {a.action: a.actor for a in s.scalars(select(AuditEntry).where(AuditEntry.subject_id == sup.id))}
    assert actors["erase_person"] == f"person:{sup.id}" and actors["erase_chat"] == f"identity:{here.id}"
    assert actors["checkin"] == f"person:{sup.id}"


def test_anyone_erases_their_chat_without_touching_others(s):
    sup = supervisee(s)
    anonymous, bystander = chat(s), chat(s, sup)
    inbox(s, anonymous)
    inbox(s, bystander)
    assert privacy.erase_from_chat(s, anonymous.id) == [anonymous.id]
    assert list(s.scalars(select(WebInboxMessage).where(WebInboxMessage.identity_id == anonymous.id))) == []
    assert len(list(s.scalars(select(WebInboxMessage).where(WebInboxMessage.identity_id == bystander.id)))) == 2
    assert s.get(Person, sup.id).erased_at is None and bystander.person_id == sup.id
    assert privacy.erase_from_chat(s, "no-such-chat") == []


# --- the tracker wipe ----------------------------------------------------------------------

EVENTS = """CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id VARCHAR(255) NOT NULL,
            type_name VARCHAR(255) NOT NULL, timestamp FLOAT, intent_name VARCHAR(255),
            action_name VARCHAR(255), data TEXT)"""


def test_the_wipe_deletes_only_this_turns_chat_and_really_erased_ones(s, tmp_path):
    """Rasa's events table (here in a SQLite file, its schema as Rasa 3.6 makes it)."""
    sup = supervisee(s)
    here, erased_other, live_other, untouched = chat(s, sup), chat(s, sup), chat(s), chat(s)
    erased_other.external_id = f"erased:{erased_other.id}"
    s.commit()  # the wipe reads identities in its own session
    trackers = create_engine(f"sqlite:///{tmp_path / 'trackers.db'}")
    with trackers.begin() as conn:
        conn.execute(text(EVENTS))
        for sender in (here.id, erased_other.id, live_other.id, untouched.id):
            for ts, said in ((100.0, "mẹ em ốm"), (200.0, "/affirm")):
                conn.execute(text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES "
                                  "(:s, 'user', :t, :d)"), {"s": sender, "t": ts, "d": json.dumps({"text": said})})
        conn.execute(text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, 'user', 300, '{}')"),
                     {"s": here.id})  # a later turn: kept
    sessions = make_sessionmaker(s.get_bind())
    assert wipe_conversations(sessions, trackers, here.id, [here.id, erased_other.id, live_other.id], 250.0) == 4
    with trackers.connect() as conn:
        left = conn.execute(text("SELECT sender_id, timestamp FROM events ORDER BY id")).all()
    assert sorted(left) == sorted([(live_other.id, 100.0), (live_other.id, 200.0), (untouched.id, 100.0),
                                   (untouched.id, 200.0), (here.id, 300.0)])
    assert wipe_conversations(sessions, trackers, here.id, [], 250.0) == 0  # idempotent
    empty = create_engine(f"sqlite:///{tmp_path / 'none.db'}")
    assert wipe_conversations(sessions, empty, here.id, [], 250.0) == 0  # Rasa never wrote: nothing to do
    trackers.dispose()
    empty.dispose()


def test_the_tracker_database_is_the_one_rasa_is_given(tmp_path):
    pg = tracker_database_url(Settings(database_url="postgresql://loive:s3cret@db.example:5433/app",
                                       var_dir=tmp_path))
    assert pg.render_as_string(hide_password=False) == "postgresql+psycopg://loive:s3cret@db.example:5433/app"
    own = tracker_database_url(Settings(database_url="sqlite:///x.db", rasa_tracker_url="postgres://r@h/t",
                                        var_dir=tmp_path))
    assert (own.drivername, own.host, own.database) == ("postgresql+psycopg", "h", "t")
    lite = tracker_database_url(Settings(var_dir=tmp_path))
    assert (lite.drivername, lite.database) == ("sqlite", str(tmp_path / "rasa-trackers.db"))


def test_the_control_message_is_read_by_the_gateway_and_never_shown():
    items = [{"recipient_id": "x", "text": "Đã xóa cuộc trò chuyện này."},
             {"recipient_id": "x", "custom": {"loive": ERASE_CONVERSATION, "conversations": ["x"]}},
             {"recipient_id": "x", "custom": {"something": "else"}}]
    assert [r.text for r in parse_rest_output(items)] == ["Đã xóa cuộc trò chuyện này."]
    assert controls(items) == [{"loive": ERASE_CONVERSATION, "conversations": ["x"]}]
    assert controls({"not": "a list"}) == []


class FakeRasa:
    """Rasa's REST output for one turn of the erasure, as the gateway receives it."""

    def __init__(self, others: list[str]) -> None:
        self.others = others

    async def send_raw(self, sender_id: str, text_: str, metadata: dict) -> list[dict]:
        return [{"recipient_id": sender_id, "text": "Đã xóa cuộc trò chuyện này."},
                {"recipient_id": sender_id, "custom": {"loive": ERASE_CONVERSATION, "conversations": self.others}}]


def test_the_gateway_wipes_after_the_turn_and_once_more_later(db_url, tmp_path, monkeypatch):
    """A turn queued behind the erasing one may save its stale copy of the
    events back (Rasa's SQL tracker store appends what it thinks is missing):
    the second pass removes it, and keeps what was said after the erasure."""
    import asyncio
    import time

    from bot.conversation import core as core_module
    from bot.storage.migrate import upgrade

    monkeypatch.setattr(core_module, "SECOND_WIPE_AFTER_S", 0.2)
    engine = make_engine(db_url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    settings = Settings(var_dir=tmp_path)
    trackers = create_engine(tracker_database_url(settings))
    with trackers.begin() as conn:
        conn.execute(text(EVENTS))
    user = f"u-{os.urandom(4).hex()}"

    def add(sender: str, ts: float) -> None:
        with trackers.begin() as conn:
            conn.execute(text("INSERT INTO events (sender_id, type_name, timestamp, data) VALUES (:s, 'user', :t, "
                              "'{\"text\": \"mẹ em ốm\"}')"), {"s": sender, "t": ts})

    def count(sender: str) -> int:
        with trackers.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": sender}).scalar()

    async def scenario() -> None:
        core = core_module.Core(sessions, FakeRasa(["not-erased-someone-else"]), settings)
        conversation, _ = core_module.resolve_identity(sessions, "web", user, None)
        add(conversation, time.time() - 60)
        add("not-erased-someone-else", time.time() - 60)
        replies = await core.handle(core_module.Inbound("web", user, "/affirm"))
        assert [r.text for r in replies] == ["Đã xóa cuộc trò chuyện này."]
        assert count(conversation) == 0 and count("not-erased-someone-else") == 1
        add(conversation, time.time() - 30)   # a stale copy saved back by a queued turn
        add(conversation, time.time() + 5)    # a message after the erasure
        await asyncio.sleep(0.6)
        assert count(conversation) == 1 and count("not-erased-someone-else") == 1

    asyncio.run(scenario())
    trackers.dispose()
    engine.dispose()


def _tracker(*events: dict) -> Tracker:
    return Tracker("c", {}, {"intent": {"name": "affirm"}}, list(events), False, None, None, "action_listen")


def test_a_yes_erases_only_right_after_the_question():
    ask = [{"event": "action", "name": "action_erase_ask"}, {"event": "bot", "text": "Xóa ngay bây giờ chứ ạ?"},
           {"event": "action", "name": "action_listen"}]
    yes = {"event": "user", "text": "/affirm"}
    assert asked_just_before(_tracker({"event": "user", "text": "xóa dữ liệu"}, *ask, yes))
    later = [{"event": "user", "text": "vay vốn"}, {"event": "action", "name": "action_loan_start"},
             {"event": "action", "name": "action_listen"}]
    assert not asked_just_before(_tracker(*ask, *later, yes))
    assert not asked_just_before(_tracker(yes))


# --- through the running product --------------------------------------------------------------


@pytest.fixture(scope="module")
def app_db(product):
    engine = make_engine(product.env["DATABASE_URL"])
    yield make_sessionmaker(engine)
    engine.dispose()


def conversation_of(product, sessions, user: str) -> str:
    return product.chat(user).conversation(sessions, product.secret())


def tracker_texts(product, conversation: str) -> list[str]:
    r = httpx.get(f"http://127.0.0.1:{product.env['LOIVE_RASA_PORT']}/conversations/{conversation}/tracker",
                  params={"token": product.env["LOIVE_RASA_TOKEN"], "include_events": "ALL"}, timeout=30)
    r.raise_for_status()
    return [e.get("text") or "" for e in r.json()["events"] if e.get("event") in ("user", "bot")]


def stored_events(product, conversation: str) -> int:
    """Rows in Rasa's own events table for this conversation (all sessions)."""
    url = tracker_database_url(load_settings(product.env))
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return conn.execute(text("SELECT count(*) FROM events WHERE sender_id = :s"), {"s": conversation}).scalar()
    finally:
        engine.dispose()


def enroll(product, sessions, person_id: str) -> str:
    user = f"er-{os.urandom(5).hex()}"
    with sessions.begin() as s:
        code = enrollment.issue_enrollment_code(s, person_id, load_settings(product.env).secret(), 7, "test").code
    product.chat(user).say(code)
    assert "đã được đăng ký" in product.chat(user).say("/affirm")[0]["text"]
    return user


@pytest.mark.stack
def test_an_enrolled_person_erases_everything_from_the_chat(product, app_db):
    with app_db.begin() as s:
        sup = supervisee(s).id
    user, other_chat = enroll(product, app_db, sup), enroll(product, app_db, sup)
    for turn in ("báo cáo", '/inform{"choice": "same"}', "dang di lam", "4", '/inform{"choice": "nothing"}',
                 "mẹ em ốm nặng", "/affirm"):
        product.chat(user).say(turn)
    product.chat(other_chat).say("vay vốn làm ăn")
    here, there = conversation_of(product, app_db, user), conversation_of(product, app_db, other_chat)
    assert "mẹ em ốm nặng" in tracker_texts(product, here)

    [ask] = product.chat(user).say("xóa dữ liệu của tôi")
    assert ask["text"].startswith("Tôi sẽ xóa dữ liệu của anh/chị") and "nhật ký ai đã xem" in ask["text"]
    assert "vẫn phải báo cáo với công an xã" in ask["text"]
    assert [(b["title"], b["payload"]) for b in ask["buttons"]] == [("Xóa", "/affirm"), ("Không", "/deny")]
    done = product.chat(user).say("/affirm")
    assert len(done) == 1  # the control message is not shown
    assert done[0]["text"].startswith("Đã xóa dữ liệu của anh/chị và cuộc trò chuyện này")
    assert "nhật ký ai đã xem hoặc thay đổi dữ liệu" in done[0]["text"]

    with app_db() as s:
        assert s.get(Person, sup).erased_at is not None
        assert list(s.scalars(select(Checkin).where(Checkin.person_id == sup))) == []
        assert s.scalar(select(ChannelIdentity.external_id).where(ChannelIdentity.id == there)) == f"erased:{there}"
    for conversation in (here, there):
        assert stored_events(product, conversation) == 0
        said = tracker_texts(product, conversation)
        assert not any(t for t in said), said  # no user or bot text survives, not even the erasure turn

    again = product.chat(user).say("xin chào")  # the same chat goes on, as a new user's
    assert again[0]["text"].startswith("Xin chào anh/chị")
    assert "dành cho người đã đăng ký" in product.chat(user).say("báo cáo")[0]["text"]


@pytest.mark.stack
def test_anyone_can_erase_the_conversation_typed_without_diacritics(product, app_db):
    user = f"browser-{os.urandom(4).hex()}"   # any browser with the page's cookie, registered or not
    product.chat(user).say("toi bi tu 3 nam, ra tu 01/06/2023, khi nao xoa an tich")
    conversation = conversation_of(product, app_db, user)
    [ask] = product.chat(user).say("xoa du lieu cua toi")
    assert ask["text"].startswith("Tôi sẽ xóa cuộc trò chuyện này")
    assert [r["text"] for r in product.chat(user).say("co")] == ["Đã xóa cuộc trò chuyện này."]
    assert stored_events(product, conversation) == 0
    assert not any(tracker_texts(product, conversation))


@pytest.mark.stack
def test_no_keeps_everything_and_a_yes_out_of_the_blue_erases_nothing(product, app_db):
    with app_db.begin() as s:
        sup = supervisee(s).id
    user = enroll(product, app_db, sup)
    product.chat(user).say("e mún xóa hết thông tin cá nhân")
    assert product.chat(user).say("/deny")[0]["text"] == "Vâng, tôi không xóa gì cả."
    product.chat(user).say("vay vốn")
    product.chat(user).say("/affirm")  # a yes long after the question
    with app_db() as s:
        assert s.get(Person, sup).erased_at is None
        assert len(list(s.scalars(select(Checkin).where(Checkin.person_id == sup)))) == 1
    assert stored_events(product, conversation_of(product, app_db, user)) > 0


@pytest.mark.stack
def test_an_anonymous_sender_cannot_erase_a_conversation(product, app_db):
    """Knowing someone's web ``user`` string is not enough to erase anything."""
    victim = f"anon-{os.urandom(4).hex()}"
    product.say(victim, "toi bi tu 3 nam, ra tu 01/06/2023, khi nao xoa an tich")
    with app_db() as s:
        conversation = s.scalar(select(ChannelIdentity.id).where(ChannelIdentity.channel == "web-anon",
                                                                 ChannelIdentity.external_id == victim))
    before = stored_events(product, conversation)
    [asked] = product.say(victim, "xoa du lieu cua toi")
    assert asked["text"].startswith("Trong trò chuyện web chưa xác thực này, tôi chỉ trả lời câu hỏi"), asked
    assert asked["buttons"] == []
    for turn in ("/affirm", "co"):
        assert not any(r["text"].startswith("Đã xóa") for r in product.say(victim, turn))
    assert stored_events(product, conversation) > before   # nothing wiped
    assert any("01/06/2023" in t for t in tracker_texts(product, conversation))
