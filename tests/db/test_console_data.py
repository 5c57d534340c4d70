"""What the console's pages count (bot/console/queries.py), on SQLite and
PostgreSQL, at a fixed instant: the caseload lists, role scoping of the
aggregated chart numbers, and the audit entries of each read."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from bot.console import queries
from bot.storage.models import AuditEntry, ChannelIdentity, Checkin, CheckinSchedule, OutboxMessage
from bot.supervision import people
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
