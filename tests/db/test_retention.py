"""Retention covers everything personal (issue 11, point 6): the daily purge of
the real scheduler tick removes, on the retention settings, Rasa's
conversation histories, the chats of people who never enrolled, inbound event
ids and stored button payloads, on SQLite and PostgreSQL, with a controllable
clock. The tracker table is Rasa's own (created by Rasa's SQLTrackerStore in
the running product: tests/product/test_faults_stack.py); here it is created with the
same columns."""

from __future__ import annotations

import dataclasses
import datetime as dt
import os

from sqlalchemy import func, select, text

from bot.supervision import people, reminders

from bot.delivery import scheduler
from bot.conversation.inbound import claim_event, store_payload
from bot.config import load_settings
from bot.conversation.core import resolve_identity
from bot.storage.models import (
    CallbackPayload,
    ChannelIdentity,
    EnrollmentAttempt,
    InboundEvent,
    OutboxMessage,
    WebInboxMessage,
)

DAY = dt.timedelta(days=1)
EVENTS = """CREATE TABLE IF NOT EXISTS events (
    id SERIAL PRIMARY KEY, sender_id VARCHAR(255) NOT NULL, type_name VARCHAR(255) NOT NULL,
    timestamp FLOAT, intent_name VARCHAR(255), action_name VARCHAR(255), data TEXT)"""


def _settings(**kw):
    return dataclasses.replace(load_settings(), checkin_retention_days=730, outbox_retention_days=90, **kw)


def _count(sessions, model, *where) -> int:
    with sessions() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def test_daily_purge_forgets_idle_unenrolled_chats_old_events_and_payloads(own_sessions, clock):
    sessions = own_sessions  # a database of its own: the retention heartbeat is per database
    tag = os.urandom(3).hex()
    start = clock.now
    old_user, old_member, fresh_user = f"old-{tag}", f"member-{tag}", f"fresh-{tag}"
    old_id, _ = resolve_identity(sessions, "web", old_user, None)
    member_id, _ = resolve_identity(sessions, "web", old_member, None)
    with sessions.begin() as s:
        person = people.add_person(s, "supervisee", "Anh B", people.add_commune(s, f"Xã {tag}", "t").name, "t")
        s.get(ChannelIdentity, member_id).person_id = person.id
        s.add(EnrollmentAttempt(identity_id=old_id, at=start, succeeded=False))
        s.add(WebInboxMessage(key=f"k-{tag}", identity_id=old_id, body='{"text": "x"}', created_at=start))
    assert claim_event(sessions, "telegram", f"old-{tag}", now=start)
    old_payload = store_payload(sessions, '/alert_action{"alert_id": "1"}')[3:]

    clock.now = start + 60 * DAY
    fresh_id, _ = resolve_identity(sessions, "web", fresh_user, None)
    assert claim_event(sessions, "telegram", f"fresh-{tag}", now=clock.now)
    fresh_payload = store_payload(sessions, "/affirm")[3:]

    clock.now = start + 91 * DAY      # 91 days after the old ones, 31 after the fresh ones
    assert scheduler.tick(sessions, _settings(), clock.now) is not None
    with sessions() as s:
        assert s.get(ChannelIdentity, old_id) is None                 # never enrolled, idle 91 days
        assert s.get(ChannelIdentity, member_id) is not None          # enrolled: kept however idle
        assert s.get(ChannelIdentity, fresh_id) is not None
        assert s.get(CallbackPayload, old_payload) is None and s.get(CallbackPayload, fresh_payload) is not None
        events = set(s.scalars(select(InboundEvent.event_id).where(InboundEvent.event_id.like(f"%-{tag}"))))
        assert events == {f"fresh-{tag}"}
    assert _count(sessions, EnrollmentAttempt, EnrollmentAttempt.identity_id == old_id) == 0
    assert _count(sessions, WebInboxMessage, WebInboxMessage.identity_id == old_id) == 0

    # Writing again after the purge is a new chat, and nothing breaks.
    again, _ = resolve_identity(sessions, "web", old_user, None)
    assert again != old_id


def test_purge_runs_once_a_day_only(own_sessions, clock):
    sessions = own_sessions  # a database of its own: the retention heartbeat is per database
    start = clock.now
    scheduler.tick(sessions, _settings(), start)                        # today's purge
    clock.now = start - 100 * DAY
    old_id, _ = resolve_identity(sessions, "web", f"late-{os.urandom(3).hex()}", None)   # idle 100 days
    clock.now = start + dt.timedelta(hours=23)
    assert scheduler.tick(sessions, _settings(), clock.now) is not None   # no second purge the same day
    assert _count(sessions, ChannelIdentity, ChannelIdentity.id == old_id) == 1
    clock.now = start + dt.timedelta(hours=25)
    scheduler.tick(sessions, _settings(), clock.now)
    assert _count(sessions, ChannelIdentity, ChannelIdentity.id == old_id) == 0


def test_tracker_events_older_than_the_retention_are_deleted(own_sessions, clock):
    sessions = own_sessions  # a database of its own: the retention heartbeat is per database
    """Rasa's conversation histories, in their own table (on PostgreSQL the
    tracker store shares the app database, as in production)."""
    engine = sessions.kw["bind"]
    tag = os.urandom(3).hex()
    old, new = clock.now - 100 * DAY, clock.now - 10 * DAY
    with engine.begin() as conn:
        conn.execute(text(EVENTS if engine.dialect.name == "postgresql" else EVENTS.replace("SERIAL", "INTEGER")))
        for sender, at in ((f"a-{tag}", old), (f"a-{tag}", new), (f"b-{tag}", old)):
            conn.execute(text("INSERT INTO events (sender_id, type_name, timestamp, data) "
                              "VALUES (:s, 'user', :t, :d)"),
                         {"s": sender, "t": at.timestamp(), "d": '{"text": "nhà sắp hết gạo"}'})
    purged = scheduler.tick(sessions, _settings(), clock.now, trackers=lambda: engine)
    assert purged is not None
    with engine.connect() as conn:
        left = conn.execute(text("SELECT sender_id FROM events WHERE sender_id LIKE :p"),
                            {"p": f"%-{tag}"}).scalars().all()
    assert left == [f"a-{tag}"]


def test_a_tracker_store_without_events_or_failing_does_not_stop_the_tick(own_sessions, clock):
    sessions = own_sessions  # a database of its own: the retention heartbeat is per database
    engine = sessions.kw["bind"]

    def broken():
        raise OSError("tracker store unreachable")

    assert reminders.purge_trackers(engine, clock.now) >= 0
    assert scheduler.tick(sessions, _settings(), clock.now, trackers=broken) is not None
    assert scheduler.tick(sessions, _settings(), clock.now, trackers=lambda: None) is not None


def test_pending_replies_of_an_enrolled_person_are_never_purged(own_sessions, clock):
    sessions = own_sessions  # a database of its own: the retention heartbeat is per database
    """The identity purge touches only people who never enrolled."""
    tag = os.urandom(3).hex()
    ident, _ = resolve_identity(sessions, "web", f"keep-{tag}", None)
    with sessions.begin() as s:
        person = people.add_person(s, "mentor", "Chị M", people.add_commune(s, f"Xã {tag}", "t").name, "t")
        s.get(ChannelIdentity, ident).person_id = person.id
    clock.now = clock.now + 400 * DAY
    scheduler.tick(sessions, _settings(), clock.now)
    assert _count(sessions, ChannelIdentity, ChannelIdentity.id == ident) == 1
    assert _count(sessions, OutboxMessage, OutboxMessage.identity_id == ident) == 0
