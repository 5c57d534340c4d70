"""The reminder outbox on SQLite and PostgreSQL: idempotent generation, quiet
hours, exclusive claims under concurrency, leases and fencing, back-off."""

from __future__ import annotations

import datetime as dt
import os
import threading

from sqlalchemy import select

from bot import outbox

from bot.supervision import people, reminders
from vietnamese.clock import VIETNAM_TZ
from bot.storage.models import OutboxMessage


def vn(y, m, d, h=0, mi=0) -> dt.datetime:
    return dt.datetime(y, m, d, h, mi, tzinfo=VIETNAM_TZ).astimezone(dt.timezone.utc)




def supervisee(s, **schedule):
    commune = people.add_commune(s, f"Xã {os.urandom(3).hex()}", "test")
    p = people.add_person(s, "supervisee", "Anh B", commune.name, "test")
    if schedule:
        people.set_schedule(s, p.id, actor="test", **schedule)
    return p


def test_generation_is_idempotent_and_keyed(sessions):
    with sessions.begin() as s:
        p = supervisee(s, kind="monthly_window", window_days=5)
        reminders.checkin_reminders(s, vn(2026, 11, 22, 9))
        assert reminders.checkin_reminders(s, vn(2026, 11, 22, 9, 1)) == 0  # nothing new, for anyone
        rows = {r.key: r for r in s.scalars(select(OutboxMessage).where(OutboxMessage.person_id == p.id))}
    assert set(rows) == {f"checkin_eve:{p.id}:2026-12-01", f"checkin_open:{p.id}:2026-12-01"}
    assert rows[f"checkin_eve:{p.id}:2026-12-01"].due_at == vn(2026, 11, 30, 8)


def test_no_stale_reminders_inside_a_running_window(sessions):
    with sessions.begin() as s:
        p = supervisee(s, kind="monthly_window", window_days=5)
        reminders.checkin_reminders(s, vn(2026, 12, 3, 9))
        assert list(s.scalars(select(OutboxMessage).where(OutboxMessage.person_id == p.id))) == []


def add_due(s, person_id, n, *, critical=False, due=None, prefix="r"):
    due = due or vn(2026, 11, 22, 8)
    tag = os.urandom(4).hex()
    for i in range(n):
        s.add(OutboxMessage(key=f"{prefix}:{tag}:{i}", kind="test", person_id=person_id, due_at=due,
                       next_attempt_at=due, critical=critical))


def test_quiet_hours_hold_back_all_but_critical(sessions):
    night = vn(2026, 11, 22, 22, 30)
    assert outbox.in_quiet_hours(night) and outbox.in_quiet_hours(vn(2026, 11, 23, 6, 59))
    assert not outbox.in_quiet_hours(vn(2026, 11, 23, 7))
    with sessions.begin() as s:
        p = supervisee(s)
        add_due(s, p.id, 3)
        add_due(s, p.id, 2, critical=True)
    with sessions.begin() as s:
        claimed = outbox.claim(s, "w1", night)
        kinds = {s.get(OutboxMessage, i).critical for i in claimed}
    assert kinds == {True} and len(claimed) >= 2


def test_concurrent_dispatchers_never_claim_the_same_row(sessions):
    with sessions.begin() as s:
        p = supervisee(s)
        add_due(s, p.id, 200, prefix="conc")
    now = vn(2026, 11, 22, 9)
    claimed: dict[str, list[int]] = {}
    errors: list[BaseException] = []

    def work(name: str) -> None:
        got: list[int] = []
        try:
            while True:
                with sessions.begin() as s:
                    batch = outbox.claim(s, name, now, limit=15)
                    mine = [i for i in batch if s.get(OutboxMessage, i).key.startswith("conc:")]
                if not batch:
                    break
                got += mine
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        claimed[name] = got

    threads = [threading.Thread(target=work, args=(f"w{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(120)
    assert not errors, errors
    everything = [i for ids in claimed.values() for i in ids]
    assert len(everything) == len(set(everything)) == 200


def test_abandoned_claims_come_back_and_late_workers_are_fenced(sessions):
    t0 = vn(2026, 11, 22, 9)
    with sessions.begin() as s:
        p = supervisee(s)
        add_due(s, p.id, 3, prefix="lease")
    with sessions.begin() as s:
        ours = set(s.scalars(select(OutboxMessage.id).where(OutboxMessage.key.like("lease:%"), OutboxMessage.person_id == p.id)))
        first = [i for i in outbox.claim(s, "dead", t0, limit=100_000) if i in ours]
    later = t0 + dt.timedelta(minutes=6)
    with sessions.begin() as s:
        second = [i for i in outbox.claim(s, "alive", later, limit=100_000) if i in ours]
    assert sorted(first) == sorted(second) == sorted(ours)
    with sessions.begin() as s:
        assert not outbox.mark_sent(s, first[0], "dead", later)  # its lease is gone
        assert outbox.mark_sent(s, first[0], "alive", later)
        assert s.get(OutboxMessage, first[0]).status == "sent"


def test_failures_back_off_then_give_up(sessions):
    now = vn(2026, 11, 22, 9)
    with sessions.begin() as s:
        p = supervisee(s)
        add_due(s, p.id, 1, prefix="fail")
        rid = s.scalar(select(OutboxMessage.id).where(OutboxMessage.key.like("fail:%"), OutboxMessage.person_id == p.id))
    waits = []
    for attempt in range(outbox.MAX_ATTEMPTS):
        with sessions.begin() as s:
            row = s.get(OutboxMessage, rid)
            now = max(now, row.next_attempt_at)
            assert rid in outbox.claim(s, "w", now, limit=1000)
            assert outbox.mark_failed(s, rid, "w", now, "HTTP 500")
            row = s.get(OutboxMessage, rid)
            if row.status == "pending":
                waits.append(row.next_attempt_at - now)
    assert waits == [dt.timedelta(minutes=m) for m in (1, 2, 4, 8)]
    with sessions() as s:
        assert s.get(OutboxMessage, rid).status == "failed"


def test_replies_and_critical_alerts_jump_the_queue(sessions):
    # In the year 2000 only this test's rows are due, whatever else the shared database holds.
    with sessions.begin() as s:
        p = supervisee(s)
        add_due(s, p.id, 5, due=vn(1999, 12, 31, 8), prefix="backlog")
        add_due(s, p.id, 1, critical=True, due=vn(1999, 12, 31, 23), prefix="urgent")
    with sessions.begin() as s:
        [first] = outbox.claim(s, "w1", vn(2000, 1, 1, 12), limit=1)
        assert s.get(OutboxMessage, first).key.startswith("urgent:")
