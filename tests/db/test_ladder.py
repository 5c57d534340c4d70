"""The reminder ladder, end to end through the real dispatcher and the web-chat
inbox, with a controllable clock, on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import datetime as dt
import os

from sqlalchemy import select

from bot.supervision import checkins, people, privacy, reminders
from bot.supervision.alerts import act_on_alert
from bot.channels import web_inbox
from bot.delivery.dispatcher import Dispatcher
from vietnamese.clock import VIETNAM_TZ
from bot.domain.knowledge import KnowledgeBase
from bot.storage.models import Alert, ChannelIdentity, Checkin, CheckinSchedule, MentorAssignment, Milestone, OutboxMessage
from vietnamese.crisis import CrisisLexicon
from tests.conftest import FrozenClock

KB = KnowledgeBase.load()


def vn(y, m, d, h=0, mi=0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=VIETNAM_TZ).astimezone(dt.timezone.utc)


class World:
    """A commune with a supervisee, their mentor and an officer, each linked to
    a web-chat identity, and a dispatcher delivering to the web inbox."""

    def __init__(self, sessions, clock: FrozenClock, locale: str = "en", **schedule) -> None:
        self.sessions, self.clock = sessions, clock
        tag = os.urandom(3).hex()
        with sessions.begin() as s:
            commune = people.add_commune(s, f"Xã {tag}", "test")
            self.commune = commune.name
            self.officer = people.add_person(s, "officer", "Cán bộ C", commune.name, "test").id
            self.mentor = people.add_person(s, "mentor", "Chị M", commune.name, "test").id
            self.supervisee = people.add_person(s, "supervisee", "Anh B", commune.name, "test",
                                                mentor_id=self.mentor).id
            for pid in (self.officer, self.mentor, self.supervisee):
                people.person(s, pid).created_at = clock.now   # not the real date: no test depends on it
            sched = people.set_schedule(s, self.supervisee, actor="test", **schedule)
            sched.created_at = clock.now
            for a in s.scalars(select(MentorAssignment).where(MentorAssignment.supervisee_id == self.supervisee)):
                a.assigned_at = clock.now
            self.users = {}
            for role, pid in (("supervisee", self.supervisee), ("mentor", self.mentor), ("officer", self.officer)):
                user = f"{role}-{tag}"
                s.add(ChannelIdentity(channel="web", external_id=user, locale=locale, person_id=pid,
                                      created_at=clock.now, last_inbound_at=clock.now))
                self.users[role] = user
        self.dispatcher = Dispatcher(sessions, {"web": web_inbox.WebInboxSender(sessions)}, KB,
                                     worker=f"test-{tag}", clock=clock)

    def add_officer(self, user: str) -> str:
        """Another officer of the commune, added now, with a web chat."""
        with self.sessions.begin() as s:
            officer = people.add_person(s, "officer", "Cán bộ D", self.commune, "test")
            officer.created_at = self.clock.now
            s.add(ChannelIdentity(channel="web", external_id=user, locale="en", person_id=officer.id,
                                  created_at=self.clock.now, last_inbound_at=self.clock.now))
            self.users[user] = user
            return officer.id

    def at(self, when: dt.datetime) -> None:
        """Move the clock, tick, and let the dispatcher drain what is due."""
        self.clock.now = when
        with self.sessions.begin() as s:
            reminders.tick(s, when)
        while asyncio.run(self.dispatcher.run_once()):
            pass

    def inbox(self, role: str) -> list[dict]:
        return web_inbox.fetch(self.sessions, self.users[role])

    def ack(self, role: str) -> None:
        msgs = self.inbox(role)
        if msgs:
            web_inbox.fetch(self.sessions, self.users[role], after=max(m["id"] for m in msgs))

    def check_in(self, answers: checkins.Answers) -> list[str]:
        with self.sessions.begin() as s:
            person = people.person(s, self.supervisee)
            today = self.clock.now.astimezone(VIETNAM_TZ).date()
            _, reasons = checkins.record(s, person, "web", answers, CrisisLexicon.load(), today, self.clock.now)
        return reasons




def texts(msgs: list[dict]) -> list[str]:
    return [m["text"] for m in msgs]


def test_a_missed_window_walks_the_whole_ladder(sessions, clock):
    w = World(sessions, clock.at(vn(2026, 11, 22, 9)), kind="monthly_window", window_days=5, grace_hours=24)
    w.at(vn(2026, 11, 29, 12))
    assert w.inbox("supervisee") == []

    # 1. The eve of the window, 08:00: neutral text, "Report now" and "Got it".
    w.at(vn(2026, 11, 30, 8, 1))
    [eve] = w.inbox("supervisee")
    assert "regular report" in eve["text"] and "tomorrow" in eve["text"]
    assert [b["payload"] for b in eve["buttons"]][0] == "/checkin"
    assert eve["buttons"][1]["payload"].startswith('/ack_reminder{"reminder_id":')
    w.ack("supervisee")

    # 2. First day of the window.
    w.at(vn(2026, 12, 1, 8, 0))
    [first] = w.inbox("supervisee")
    assert "starts today" in first["text"] and "1 Dec 2026 to 5 Dec 2026" in first["text"]
    w.ack("supervisee")

    # Nothing more while the window and its grace period run.
    w.at(vn(2026, 12, 6, 23, 59))
    assert w.inbox("mentor") == [] and w.inbox("officer") == []

    # 3. Grace over (end of 05/12 + 24 h), no check-in: the mentor is told,
    # in the morning (00:00 is in the quiet hours).
    w.at(vn(2026, 12, 7, 0, 0))
    assert w.inbox("mentor") == []
    w.at(vn(2026, 12, 7, 7, 0))
    [missed] = w.inbox("mentor")
    assert "Anh B has not sent the report for the period starting 1 Dec 2026" in missed["text"]
    assert w.inbox("officer") == [] and w.inbox("supervisee") == []
    w.ack("mentor")

    # 4. 24 hours later, still nothing: an officer alert, held by quiet hours
    # (00:00 is night in Vietnam) until 07:00; the mentor is not told twice.
    w.at(vn(2026, 12, 8, 0, 0))
    assert w.inbox("officer") == []
    w.at(vn(2026, 12, 8, 7, 0))
    [alert] = w.inbox("officer")
    assert "Alert #" in alert["text"] and "missed check-in" in alert["text"]
    *actions, message = alert["buttons"]    # the last one answers the person (issue 15)
    assert [b["payload"].split('"alert_status":')[1] for b in actions] == [
        '"acknowledged"}', '"excused"}', '"resolved"}']
    assert message["payload"].startswith("/relay_open")
    assert w.inbox("mentor") == []
    w.ack("officer")

    # The officer's 08:00 digest lists the open alert and the overdue person.
    w.at(vn(2026, 12, 8, 8, 0))
    [digest] = w.inbox("officer")
    assert "1 open alert" in digest["text"] and "1 person has not reported on time" in digest["text"]
    assert "Not reported: Anh B" in digest["text"]
    assert digest["buttons"][0]["payload"].startswith('/alert_action{"alert_id":')
    w.ack("officer")

    # Ticking again (or on another replica) adds nothing new.
    w.at(vn(2026, 12, 8, 8, 5))
    assert w.inbox("officer") == [] and w.inbox("mentor") == [] and w.inbox("supervisee") == []

    # Resolved with a reason code, the alert leaves the next digest.
    with sessions.begin() as s:
        alert_id = s.scalar(select(Alert.id).where(Alert.person_id == w.supervisee))
        act_on_alert(s, alert_id, "excused", "excused_health", w.officer)
    with sessions.begin() as s:
        sched = s.scalar(select(CheckinSchedule).where(CheckinSchedule.person_id == w.supervisee))
        sched.active = False  # and nobody is overdue any more
    w.at(vn(2026, 12, 9, 8, 0))
    assert w.inbox("officer") == []  # an empty digest is not sent


def test_an_officer_added_after_eight_gets_the_first_digest_next_morning(sessions, clock):
    """Not a "morning summary" in the evening repeating alerts just sent: the
    day's digest is made only for officers who were there at 08:00."""
    w = World(sessions, clock.at(vn(2026, 11, 22, 9)), kind="monthly_window", window_days=5, grace_hours=24)
    w.at(vn(2026, 12, 8, 7, 0))                     # the missed-check-in alert is open
    assert "missed check-in" in w.inbox("officer")[0]["text"]
    w.clock.now = vn(2026, 12, 8, 10, 0)
    w.add_officer("officer-late")                   # at 10:00
    for hour in (10, 12, 19, 23):                   # ticks all day, day and night
        w.at(vn(2026, 12, 8, hour, 30))
        assert w.inbox("officer-late") == []
    w.at(vn(2026, 12, 9, 8, 0))
    [digest] = w.inbox("officer-late")
    assert "1 open alert" in digest["text"] and "Not reported: Anh B" in digest["text"]


def test_checking_in_stops_the_ladder(sessions, clock):
    w = World(sessions, clock.at(vn(2026, 11, 24, 9)), kind="weekly", weekday=0, grace_hours=12)  # Mondays
    w.at(vn(2026, 11, 29, 8, 0))                     # Sunday: the eve reminder
    assert len(w.inbox("supervisee")) == 1
    w.ack("supervisee")
    w.clock.now = vn(2026, 11, 30, 7, 30)            # reports early on Monday
    assert w.check_in(checkins.Answers("same", "working", 4, "nothing")) == []
    w.at(vn(2026, 11, 30, 8, 0))                     # the first-day reminder is no longer sent
    assert w.inbox("supervisee") == []
    w.at(vn(2026, 12, 2, 0, 0))                      # and nobody is told anything
    assert w.inbox("mentor") == [] and w.inbox("officer") == []
    with sessions.begin() as s:
        statuses = {r.kind: r.status for r in s.scalars(select(OutboxMessage).where(
            OutboxMessage.person_id == w.supervisee, OutboxMessage.key.like("%:2026-11-30")))}
    assert statuses == {"checkin_eve": "sent", "checkin_open": "cancelled"}


def test_a_worrying_check_in_reaches_mentor_and_officer_in_one_dispatcher_cycle(sessions, clock):
    w = World(sessions, clock.at(vn(2026, 11, 23, 22, 30)), kind="weekly", weekday=0)  # Monday night: quiet hours
    assert w.check_in(checkins.Answers("none", "looking", 1, "housing")) == ["no_shelter", "low_wellbeing"]
    asyncio.run(w.dispatcher.run_once())             # critical: bypasses quiet hours
    for role in ("mentor", "officer"):
        [alert] = w.inbox(role)
        assert "Anh B" in alert["text"] and "has no place to live" in alert["text"]
        assert "is not doing well" in alert["text"]
    assert w.inbox("supervisee") == []


def test_mentor_visits_quarterly_report_milestone_and_streak(sessions, clock):
    w = World(sessions, clock.at(vn(2026, 12, 20, 9)), kind="weekly", weekday=0)
    with sessions.begin() as s:
        s.add(Milestone(person_id=w.supervisee, kind="expungement", on_date=dt.date(2027, 1, 4)))
    w.at(vn(2027, 1, 1, 8, 0))
    [quarterly] = [t for t in texts(w.inbox("mentor")) if "quarterly" in t]
    assert "quarterly report, due by 5 Jan 2027" in quarterly
    assert "Circular 10/2024/TT-BCA" in quarterly   # the English page: the citation in English too
    w.ack("mentor")
    late = World(sessions, clock.at(vn(2027, 1, 2, 9)), kind="weekly", weekday=0)   # assigned in the new quarter
    late.at(vn(2027, 1, 3, 8, 0))
    assert not [t for t in texts(late.inbox("mentor")) if "quarterly" in t]   # nothing to report on yet
    w.at(vn(2027, 1, 4, 8, 0))
    sup = texts(w.inbox("supervisee"))
    assert any("Congratulations" in t and "Criminal Record Certificate no. 1" in t for t in sup)
    w.ack("supervisee")
    for week in range(3):                            # three Mondays in a row
        w.clock.now = vn(2027, 1, 11, 9) + dt.timedelta(weeks=week)
        w.check_in(checkins.Answers("same", "working", 4, "nothing"))
        w.at(w.clock.now)
    assert any("3 periods in a row" in t for t in texts(w.inbox("supervisee")))
    w.at(vn(2027, 1, 19, 8, 0))                      # 30 days after the assignment
    assert any("time to visit Anh B" in t for t in texts(w.inbox("mentor")))


def test_the_scheduler_watchdog_alerts_admins_once_per_stall(sessions, clock):
    clock = clock.at(vn(2026, 11, 22, 10))
    with sessions.begin() as s:
        commune = people.add_commune(s, f"Xã {os.urandom(3).hex()}", "test")
        admin = people.add_person(s, "admin", "Quản trị", commune.name, "test")
        s.add(ChannelIdentity(channel="web", external_id=f"admin-{admin.id}", locale="en", person_id=admin.id))
        reminders.beat(s, reminders.SCHEDULER, clock.now)
    d = Dispatcher(sessions, {"web": web_inbox.WebInboxSender(sessions)}, KB, clock=clock)
    clock.now += dt.timedelta(minutes=9)
    assert d.check_scheduler() is False
    clock.now += dt.timedelta(minutes=2)
    assert d.check_scheduler() is True
    assert d.check_scheduler() is False              # once per stall
    asyncio.run(d.run_once())
    [msg] = web_inbox.fetch(sessions, f"admin-{admin.id}")
    assert "has not run for over 10 minutes" in msg["text"]


def test_retention_deletes_old_check_ins_and_finished_messages_only(sessions, clock):
    w = World(sessions, clock.at(vn(2024, 1, 1, 9)), kind="weekly", weekday=0)
    w.clock.now = vn(2024, 1, 8, 9)
    w.check_in(checkins.Answers("same", "working", 4, "nothing"))
    w.at(vn(2024, 1, 14, 8, 0))                      # an eve reminder, sent
    w.clock.now = vn(2026, 11, 23, 9)
    w.check_in(checkins.Answers("same", "working", 4, "nothing"))
    now = vn(2026, 11, 23, 10)
    with sessions.begin() as s:
        pending = s.scalar(select(OutboxMessage.id).where(OutboxMessage.person_id == w.supervisee,
                                                     OutboxMessage.status == "pending"))
        reminders.purge(s, now, checkin_days=730, outbox_days=90)
    with sessions.begin() as s:
        left = [c.window_start for c in s.scalars(select(Checkin).where(Checkin.person_id == w.supervisee))]
        assert left == [dt.date(2026, 11, 23)]
        kept = {r.status for r in s.scalars(select(OutboxMessage).where(OutboxMessage.person_id == w.supervisee))}
        assert "sent" not in kept
        assert pending is None or s.get(OutboxMessage, pending) is not None  # unfinished rows are never purged


def test_erasing_a_supervisee_removes_messages_about_them(sessions, clock):
    w = World(sessions, clock.at(vn(2026, 11, 24, 9)), kind="weekly", weekday=0, grace_hours=0)
    w.at(vn(2026, 12, 1, 8, 0))                      # Monday 30/11 missed: the mentor is told
    assert any("Anh B" in t for t in texts(w.inbox("mentor")))
    w.check_in(checkins.Answers("none", "other", 1, "urgent"))
    with sessions.begin() as s:
        privacy.erase_person(s, w.supervisee, "test")
    assert w.inbox("mentor") == [] and w.inbox("supervisee") == []
    with sessions.begin() as s:
        assert list(s.scalars(select(OutboxMessage).where(OutboxMessage.subject_id == w.supervisee))) == []
        assert [a.detail for a in s.scalars(select(Alert).where(Alert.person_id == w.supervisee))] == [None]


def test_a_reminder_waits_while_no_channel_reaches_the_person_and_goes_when_they_write(sessions, clock):
    from bot.conversation.core import resolve_identity

    w = World(sessions, clock.at(vn(2026, 11, 24, 9)), kind="weekly", weekday=0)
    with sessions.begin() as s:  # e.g. Zalo's 48-hour window closed, or the bot was blocked
        s.query(ChannelIdentity).filter(ChannelIdentity.person_id == w.supervisee).update(
            {"unreachable_at": w.clock.now})
    w.at(vn(2026, 11, 29, 8, 0))
    assert w.inbox("supervisee") == []
    with sessions() as s:
        [row] = s.scalars(select(OutboxMessage).where(OutboxMessage.person_id == w.supervisee,
                                                 OutboxMessage.kind == "checkin_eve"))
        assert row.status == "waiting"
    w.clock.now = vn(2026, 11, 29, 10, 0)
    resolve_identity(sessions, "web", w.users["supervisee"], None)   # the person writes
    w.at(vn(2026, 11, 29, 10, 0))
    assert [m["text"] for m in w.inbox("supervisee")][0].startswith("Reminder of your regular report")


def test_a_person_with_no_chat_at_all_is_not_waited_for(sessions, clock):
    w = World(sessions, clock.at(vn(2026, 11, 24, 9)), kind="weekly", weekday=0)
    with sessions.begin() as s:
        s.query(ChannelIdentity).filter(ChannelIdentity.person_id == w.supervisee).update({"person_id": None})
    w.at(vn(2026, 11, 29, 8, 0))
    with sessions() as s:
        [row] = s.scalars(select(OutboxMessage).where(OutboxMessage.person_id == w.supervisee,
                                                 OutboxMessage.kind == "checkin_eve"))
        assert (row.status, row.last_error) == ("failed", "no reachable channel")
