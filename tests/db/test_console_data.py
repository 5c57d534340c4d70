"""What the console's pages count (bot/console/queries.py), on SQLite and
PostgreSQL, at a fixed instant: the caseload lists, role scoping of the
aggregated chart numbers, and the audit entries of each read."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.console import queries
from bot.storage.models import AuditEntry, ChannelIdentity, Checkin, CheckinSchedule, OutboxMessage
from bot.supervision import conversations, people
from bot.supervision.alerts import act_on_alert, raise_alert

UTC = dt.timezone.utc


def world(s):  # noqa: ANN001
    people.add_commune(s, "Xã Một", "test")
    people.add_commune(s, "Xã Hai", "test")
    officer = people.add_person(s, "officer", "Cán Bộ", "Xã Một", "test")
    mentor = people.add_person(s, "mentor", "Người Hướng Dẫn", "Xã Một", "test")
    a = people.add_person(s, "supervisee", "An", "Xã Một", "test", mentor_id=mentor.id)
    b = people.add_person(s, "supervisee", "Bình", "Xã Một", "test")
    c = people.add_person(s, "supervisee", "Chi", "Xã Hai", "test")
    people.set_schedule(s, a.id, "weekly", "test", weekday=0)
    people.set_schedule(s, c.id, "weekly", "test", weekday=0)
    for sc in s.scalars(select(CheckinSchedule)):
        sc.created_at = dt.datetime(2026, 11, 1, tzinfo=UTC)
    s.add(ChannelIdentity(channel="telegram", external_id="1", person_id=a.id,
                          unreachable_at=dt.datetime(2026, 11, 20, tzinfo=UTC)))
    for who, start, needs in ((a, "2026-11-09", "job"), (a, "2026-11-23", "nothing"), (c, "2026-11-09", "loan")):
        day = dt.date.fromisoformat(start)
        s.add(Checkin(key=f"{who.id}:{start}", person_id=who.id, window_start=day, channel="telegram",
                      at=dt.datetime.combine(day, dt.time(3), UTC), wellbeing=4, needs=needs))
    for day, acked in (("2026-11-16", True), ("2026-11-23", False)):
        at = dt.datetime.fromisoformat(day + "T01:00:00+00:00")
        s.add(OutboxMessage(key=f"checkin_open:{a.id}:{day}", kind="checkin_open", person_id=a.id, due_at=at,
                            next_attempt_at=at, status="sent", sent_at=at, acknowledged_at=at if acked else None))
    s.flush()
    return officer, mentor, a, b, c


def test_caseload_lists_and_scope(s, clock):
    officer, mentor, a, b, c = world(s)
    rows = {r.person.display_name: r for r in queries.caseload(s, officer, clock.now)}
    assert set(rows) == {"An", "Bình"}                       # Chi is another commune's
    assert rows["An"].lists == {"attention", "due_soon", "unreachable"}   # 16/11 missed, due today
    assert rows["An"].overdue and rows["An"].mentor == "Người Hướng Dẫn"
    assert rows["Bình"].lists == {"no_channel"} and rows["Bình"].next_due is None
    mine = queries.caseload(s, mentor, clock.now)
    assert [r.person.display_name for r in mine] == ["An"]
    by_alerts = queries.caseload(s, officer, clock.now, sort="next_due")
    assert [r.person.display_name for r in by_alerts] == ["An", "Bình"]
    assert [r.person.display_name for r in queries.caseload(s, officer, clock.now, q="bình")] == ["Bình"]
    actions = [(e.actor, e.action) for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "console_caseload"))]
    assert (f"person:{officer.id}", "console_caseload") in actions


def test_chart_numbers_are_aggregated_over_the_viewers_people_only(s, clock):
    officer, mentor, a, b, c = world(s)
    alert = raise_alert(s, a, "k1", "worrying_checkin", "high", clock.now)
    clock.now = clock.now + dt.timedelta(hours=2)
    act_on_alert(s, alert.id, "acknowledged", "contacted", officer.id, now=clock.now)
    data = queries.chart_data(s, officer, clock.now)
    assert data.population == 2
    assert data.weeks[-1] == dt.date(2026, 11, 23) and len(data.weeks) == 8
    # Weekly on Mondays since 1/11: windows 2, 9, 16, 23 November; check-ins on 9 and 23.
    assert data.completion[-4:] == [(0, 1), (1, 1), (0, 1), (1, 1)]
    assert data.completion[:4] == [(0, 0)] * 4
    assert data.reminders[-2:] == [(1, 1), (0, 1)]
    assert data.alert_types == [("worrying_checkin", 1)]
    assert data.ack_hours == [("worrying_checkin", 2.0, 1)]
    assert data.needs == {"job": [0, 0, 0, 0, 0, 1, 0, 0]}     # Chi's "loan" is another commune's
    # A mentor's chart covers the people they help.
    assert queries.chart_data(s, mentor, clock.now).population == 1
    assert queries.chart_data(s, officer, clock.now, mentor_id=mentor.id).population == 1


def test_a_person_out_of_scope_is_not_found_and_a_read_is_audited(s, clock):
    officer, mentor, a, b, c = world(s)
    for pid in (c.id, "x" * 32, "short", mentor.id + "0"):
        try:
            queries.detail(s, officer, pid, clock.now)
        except people.NotFound:
            pass
        else:
            raise AssertionError(f"{pid} was shown")
    d = queries.detail(s, officer, a.id, clock.now)
    assert [c.window_start.isoformat() for c in d.checkins] == ["2026-11-23", "2026-11-09"]
    assert [m.display_name for m in d.mentors] == ["Người Hướng Dẫn"]
    viewed = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "console_view_person")))
    assert [(e.actor, e.subject_id) for e in viewed] == [(f"person:{officer.id}", a.id)]


# --- relayed conversations (issue 15) on the console ---------------------------------------------


def at(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text + "+00:00")


def relay_world(s, officer, mentor, a, b, c):  # noqa: ANN001
    """Requests for a person in the week of 16/11 and today (Monday 23/11, 03:00 UTC = 10:00 in Vietnam)."""
    officer2 = people.add_person(s, "officer", "Cán Bộ Hai", "Xã Hai", "test")
    for p, staff, asked, reply in ((a, mentor, "2026-11-16T02:00", "2026-11-16T02:10"),    # 10 min
                                   (a, mentor, "2026-11-18T02:00", "2026-11-18T03:00"),    # 60 min: late
                                   (b, officer, "2026-11-17T01:00", "2026-11-17T01:20")):  # 20 min
        got = conversations.request(s, p, f"k:{asked}", ["cần giúp"], at(asked), staff=staff)
        conversations.append(s, got.conversation, "staff", "Chào anh", f"r:{asked}", at(reply))
        conversations.close(s, got.conversation, "staff", at(reply) + dt.timedelta(minutes=10))
    # Chi (Xã Hai): asked on 17/11, nobody answered, still open: late, but not the first commune's.
    conversations.request(s, c, "k:chi", [], at("2026-11-17T05:00"), staff=officer2)
    # An asked 15 minutes ago and wrote once: waiting, not late yet (30 minutes).
    waiting = conversations.request(s, a, "k:now", [], at("2026-11-23T02:45"), staff=mentor).conversation
    conversations.append(s, waiting, "person", "Anh ơi em cần giúp", "m:now", at("2026-11-23T02:46"))
    # The officer opened one with Bình: not a request, no response time.
    conversations.staff_open(s, officer.id, b.id, at("2026-11-23T02:50"))
    s.flush()
    return waiting


def test_handoff_response_times_by_week_in_the_viewers_scope(s, clock):
    officer, mentor, a, b, c = world(s)
    relay_world(s, officer, mentor, a, b, c)
    within = dt.timedelta(minutes=30)
    empty = [(0, None, 0)] * 6
    data = queries.chart_data(s, officer, clock.now, answer_within=within)
    assert data.handoff == [*empty, (3, 20.0, 1), (1, None, 0)]        # median of 10, 20, 60 minutes
    mentor_scope = queries.chart_data(s, officer, clock.now, mentor_id=mentor.id, answer_within=within)
    assert mentor_scope.handoff == [*empty, (2, 35.0, 1), (1, None, 0)]   # An only: 10 and 60 minutes
    assert queries.chart_data(s, mentor, clock.now, answer_within=within).handoff == mentor_scope.handoff
    # A longer allowance: the 60-minute answer is in time; Chi's open request (Xã Hai) never counts here.
    assert queries.chart_data(s, officer, clock.now, answer_within=dt.timedelta(hours=2)).handoff[-2] == (3, 20.0, 0)
    # Later, An's request is past the 30 minutes.
    assert queries.chart_data(s, officer, clock.now + dt.timedelta(minutes=20), answer_within=within
                              ).handoff[-1] == (1, None, 1)


def test_caseload_and_person_show_the_open_conversation_read_with_an_audit(s, clock):
    officer, mentor, a, b, c = world(s)
    waiting = relay_world(s, officer, mentor, a, b, c)
    rows = {r.person.display_name: r for r in queries.caseload(s, officer, clock.now)}
    assert rows["An"].conversation.id == waiting.id and rows["An"].conversation.first_reply_at is None
    assert rows["Bình"].conversation.opened_by == "staff"
    d = queries.detail(s, mentor, a.id, clock.now)
    assert d.conversation.id == waiting.id and d.conversation_staff.id == mentor.id
    assert [(m.sender, m.text) for m in d.messages] == [("person", "Anh ơi em cần giúp")]
    reads = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "relay_read")))
    assert [(e.actor, e.subject_id) for e in reads] == [(f"person:{mentor.id}", a.id)]
    assert queries.detail(s, officer, b.id, clock.now).messages == []


def test_relay_health_counts_open_and_unanswered_requests(s, clock):
    officer, mentor, a, b, c = world(s)
    relay_world(s, officer, mentor, a, b, c)
    within = dt.timedelta(minutes=30)
    assert queries.relay_health(s, clock.now, within) == queries.RelayHealth(open=3, waiting=2, late=1)
    assert queries.relay_health(s, clock.now + dt.timedelta(minutes=20), within).late == 2
