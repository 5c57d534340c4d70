"""The reminder outbox: rows generated from schedules with deterministic keys,
and claimed safely by any number of dispatcher processes.

* Generation is idempotent: ``kind:person:window-start`` keys with INSERT … ON
  CONFLICT DO NOTHING, so regenerating (every tick, on every replica) adds nothing.
* Claiming: PostgreSQL ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)
  RETURNING``, so concurrent dispatchers never claim the same row; SQLite runs the
  same UPDATE under its single write lock, which is just as exclusive.
* A claim is a lease: rows claimed by a dispatcher that died are requeued once
  the lease expires, and marking a row sent or failed is fenced on the claimant,
  so a late worker cannot overwrite a newer claim.
* Quiet hours (21:00–07:00 in Vietnam) hold back everything but critical rows.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import and_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.domain.clock import VIETNAM_TZ
from bot.domain.schedule import Window, next_window, window_on_or_before
from bot.storage.models import CheckinSchedule, Person, Reminder

QUIET_FROM_HOUR, QUIET_UNTIL_HOUR = 21, 7     # product policy: no reminders at night
REMINDER_HOUR = 8                             # local time reminders are due
MAX_ATTEMPTS = 5


def in_quiet_hours(now: dt.datetime) -> bool:
    local = now.astimezone(VIETNAM_TZ)
    return local.hour >= QUIET_FROM_HOUR or local.hour < QUIET_UNTIL_HOUR


def local_time(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), VIETNAM_TZ).astimezone(dt.timezone.utc)


def upcoming_window(schedule: CheckinSchedule, today: dt.date) -> Window:
    kw = {"weekday": schedule.weekday, "day_of_month": schedule.day_of_month, "window_days": schedule.window_days}
    current = window_on_or_before(schedule.kind, today, **kw)
    return current if current.end >= today else next_window(schedule.kind, today, **kw)


def _insert(s: Session):  # noqa: ANN202
    return {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[s.get_bind().dialect.name]


def generate_checkin_reminders(s: Session, now: dt.datetime) -> int:
    """The eve and first-day reminders of each supervisee's upcoming window.
    Safe to run any number of times; returns how many rows were new."""
    today = now.astimezone(VIETNAM_TZ).date()
    schedules = s.execute(select(CheckinSchedule).join(Person, Person.id == CheckinSchedule.person_id)
                          .where(CheckinSchedule.active.is_(True), Person.erased_at.is_(None))).scalars()
    insert = _insert(s)
    added = 0
    for schedule in schedules:
        window = upcoming_window(schedule, today)
        for kind, day in (("checkin_eve", window.start - dt.timedelta(days=1)), ("checkin_open", window.start)):
            due = local_time(day, REMINDER_HOUR)
            if day < today:  # the day is gone: a late eve reminder would only confuse
                continue
            inserted = s.execute(insert(Reminder).values(
                key=f"{kind}:{schedule.person_id}:{window.start.isoformat()}", kind=kind,
                person_id=schedule.person_id, due_at=due, next_attempt_at=due, critical=False,
                status="pending", attempts=0,
            ).on_conflict_do_nothing(index_elements=["key"]).returning(Reminder.id)).all()
            added += len(inserted)
    return added


def claim(s: Session, worker: str, now: dt.datetime, limit: int = 100,
          lease: dt.timedelta = dt.timedelta(minutes=5)) -> list[int]:
    """Claim up to ``limit`` due rows for ``worker``; returns their ids."""
    s.execute(update(Reminder)
              .where(Reminder.status == "claimed", Reminder.claimed_at < now - lease)
              .values(status="pending", claimed_by=None, claimed_at=None))
    due = [Reminder.status == "pending", Reminder.next_attempt_at <= now]
    if in_quiet_hours(now):
        due.append(Reminder.critical.is_(True))
    pick = select(Reminder.id).where(and_(*due)).order_by(Reminder.next_attempt_at, Reminder.id).limit(limit)
    if s.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    rows = s.execute(update(Reminder).where(Reminder.id.in_(pick.scalar_subquery()))
                     .values(status="claimed", claimed_by=worker, claimed_at=now)
                     .returning(Reminder.id)).scalars().all()
    return sorted(rows)


def _fenced(reminder_id: int, worker: str):  # noqa: ANN202
    return and_(Reminder.id == reminder_id, Reminder.status == "claimed", Reminder.claimed_by == worker)


def mark_sent(s: Session, reminder_id: int, worker: str, now: dt.datetime) -> bool:
    """True when recorded; False when the claim was lost (lease expired, reclaimed)."""
    return bool(s.execute(update(Reminder).where(_fenced(reminder_id, worker))
                          .values(status="sent", sent_at=now)).rowcount)


def mark_failed(s: Session, reminder_id: int, worker: str, now: dt.datetime, error: str) -> bool:
    """Retry later with exponential back-off (1, 2, 4, 8 minutes), then give up as failed."""
    row = s.get(Reminder, reminder_id)
    if row is None or row.status != "claimed" or row.claimed_by != worker:
        return False
    attempts = row.attempts + 1
    values = {"attempts": attempts, "last_error": error[:200], "claimed_by": None, "claimed_at": None}
    if attempts >= MAX_ATTEMPTS:
        values["status"] = "failed"
    else:
        values.update(status="pending", next_attempt_at=now + dt.timedelta(minutes=2 ** (attempts - 1)))
    return bool(s.execute(update(Reminder).where(_fenced(reminder_id, worker)).values(**values)).rowcount)
