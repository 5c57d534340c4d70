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
* Sending is two-phase: a row is marked ``sending`` (committed) just before the
  platform call and ``sent`` just after. A row found ``sending`` with an expired
  lease was interrupted mid-send: it is requeued ``in_doubt``, and the next
  dispatcher asks the channel whether it arrived before sending it again.
* Quiet hours (21:00–07:00 in Vietnam) hold back everything but critical rows.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, select, update
from sqlalchemy.orm import Session

from vietnamese.clock import VIETNAM_TZ
from bot.storage.db import insert_for
from bot.storage.models import OutboxMessage, OutboxStatus



@dataclass(frozen=True)
class Button:
    """A button of an outgoing message: a Rasa reply's or a rendered reminder's."""
    title: str
    payload: str


QUIET_FROM_HOUR, QUIET_UNTIL_HOUR = 21, 7     # product policy: no reminders at night
MAX_ATTEMPTS = 5
LEASE = dt.timedelta(minutes=5)


def in_quiet_hours(now: dt.datetime) -> bool:
    local = now.astimezone(VIETNAM_TZ)
    return local.hour >= QUIET_FROM_HOUR or local.hour < QUIET_UNTIL_HOUR


def next_delivery(now: dt.datetime, critical: bool) -> dt.datetime:
    """When a row due ``now`` can go: at once if critical or outside quiet hours,
    else at the end of the quiet hours (07:00 Vietnam time)."""
    if critical or not in_quiet_hours(now):
        return now
    local = now.astimezone(VIETNAM_TZ)
    day = local.date() + dt.timedelta(days=1) if local.hour >= QUIET_FROM_HOUR else local.date()
    return local_time(day, QUIET_UNTIL_HOUR)


def local_time(day: dt.date, hour: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour), VIETNAM_TZ).astimezone(dt.timezone.utc)


def enqueue(s: Session, key: str, kind: str, person_id: str, due: dt.datetime, *, critical: bool = False,
            subject_id: str | None = None, alert_id: int | None = None, body: str | None = None) -> bool:
    """Add one outbox row unless its key exists; True if it was new. Safe from
    any number of ticks on any number of replicas at once. ``body`` carries
    what the text is made from when it cannot be looked up at send time (a
    handover from someone who is not enrolled)."""
    return bool(s.execute(insert_for(s)(OutboxMessage).values(
        key=key, kind=kind, person_id=person_id, subject_id=subject_id, alert_id=alert_id, body=body,
        due_at=due, next_attempt_at=due, critical=critical, status=OutboxStatus.PENDING, attempts=0, in_doubt=False,
    ).on_conflict_do_nothing(index_elements=["key"]).returning(OutboxMessage.id)).all())


def enqueue_reply(s: Session, key: str, identity_id: str, body: str, due: dt.datetime) -> bool:
    """A reply to a conversation: addressed to the identity, pre-rendered, and
    exempt from quiet hours (the person just wrote)."""
    return bool(s.execute(insert_for(s)(OutboxMessage).values(
        key=key, kind="reply", person_id=None, identity_id=identity_id, body=body, due_at=due,
        next_attempt_at=due, critical=True, status=OutboxStatus.PENDING, attempts=0, in_doubt=False,
    ).on_conflict_do_nothing(index_elements=["key"]).returning(OutboxMessage.id)).all())


def claim(s: Session, worker: str, now: dt.datetime, limit: int = 100,
          lease: dt.timedelta = LEASE) -> list[int]:
    """Claim up to ``limit`` due rows for ``worker``; returns their ids."""
    requeue(s, now, lease)
    due = [OutboxMessage.status == OutboxStatus.PENDING, OutboxMessage.next_attempt_at <= now]
    if in_quiet_hours(now):
        due.append(OutboxMessage.critical.is_(True))
    # Replies and critical alerts first: a person who just wrote must not wait
    # behind a morning's worth of reminders.
    pick = (select(OutboxMessage.id).where(and_(*due))
            .order_by(OutboxMessage.critical.desc(), OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))
    if s.get_bind().dialect.name == "postgresql":
        pick = pick.with_for_update(skip_locked=True)
    rows = s.execute(update(OutboxMessage).where(OutboxMessage.id.in_(pick.scalar_subquery()))
                     .values(status=OutboxStatus.CLAIMED, claimed_by=worker, claimed_at=now)
                     .returning(OutboxMessage.id)).scalars().all()
    return sorted(rows)


def requeue(s: Session, now: dt.datetime, lease: dt.timedelta = LEASE) -> int:
    """Give back rows whose claimant's lease ran out: never-started ones as plain
    pending, interrupted sends as pending and in doubt."""
    expired = OutboxMessage.claimed_at < now - lease
    n = s.execute(update(OutboxMessage).where(OutboxMessage.status == OutboxStatus.CLAIMED, expired)
                  .values(status=OutboxStatus.PENDING, claimed_by=None, claimed_at=None)).rowcount
    n += s.execute(update(OutboxMessage).where(OutboxMessage.status == OutboxStatus.SENDING, expired)
                   .values(status=OutboxStatus.PENDING, claimed_by=None, claimed_at=None, in_doubt=True)).rowcount
    return n


def _fenced(reminder_id: int, worker: str, *statuses: str):  # noqa: ANN202
    return and_(OutboxMessage.id == reminder_id, OutboxMessage.status.in_(statuses or (OutboxStatus.CLAIMED, OutboxStatus.SENDING)),
                OutboxMessage.claimed_by == worker)


def mark_sending(s: Session, reminder_id: int, worker: str, now: dt.datetime, identity_id: str) -> bool:
    """Phase one, committed before the platform call; renews the lease."""
    return bool(s.execute(update(OutboxMessage).where(_fenced(reminder_id, worker, OutboxStatus.CLAIMED))
                          .values(status=OutboxStatus.SENDING, claimed_at=now, identity_id=identity_id)).rowcount)


def mark_sent(s: Session, reminder_id: int, worker: str, now: dt.datetime) -> bool:
    """True when recorded; False when the claim was lost (lease expired, reclaimed)."""
    return bool(s.execute(update(OutboxMessage).where(_fenced(reminder_id, worker))
                          .values(status=OutboxStatus.SENT, sent_at=now, in_doubt=False)).rowcount)


def mark_cancelled(s: Session, reminder_id: int, worker: str, reason: str) -> bool:
    """No longer worth sending (the check-in came first, the person was erased)."""
    return bool(s.execute(update(OutboxMessage).where(_fenced(reminder_id, worker))
                          .values(status=OutboxStatus.CANCELLED, last_error=reason[:200], in_doubt=False)).rowcount)


def mark_retry(s: Session, reminder_id: int, worker: str, at: dt.datetime, reason: str) -> bool:
    """Back to the queue at ``at`` without counting an attempt (rate limited)."""
    return bool(s.execute(update(OutboxMessage).where(_fenced(reminder_id, worker))
                          .values(status=OutboxStatus.PENDING, next_attempt_at=at, claimed_by=None, claimed_at=None,
                                  last_error=reason[:200])).rowcount)


def mark_waiting(s: Session, reminder_id: int, worker: str, reason: str) -> bool:
    """No channel can reach the person now (blocked, unfollowed, outside Zalo's
    48-hour window): keep the row until they write again (``wake_waiting``)."""
    return bool(s.execute(update(OutboxMessage).where(_fenced(reminder_id, worker))
                          .values(status=OutboxStatus.WAITING, claimed_by=None, claimed_at=None,
                                  last_error=reason[:200])).rowcount)


def wake_waiting(s: Session, person_id: str, now: dt.datetime) -> int:
    """The person wrote: their waiting rows go back to the queue (each is
    re-rendered, so what is stale by now is dropped then)."""
    return s.execute(update(OutboxMessage).where(OutboxMessage.person_id == person_id, OutboxMessage.status == OutboxStatus.WAITING)
                     .values(status=OutboxStatus.PENDING, next_attempt_at=now)).rowcount


def release(s: Session, reminder_id: int, worker: str) -> bool:
    """Give back a claimed row whose send never started (the dispatcher is stopping)."""
    return bool(s.execute(update(OutboxMessage).where(_fenced(reminder_id, worker, OutboxStatus.CLAIMED))
                          .values(status=OutboxStatus.PENDING, claimed_by=None, claimed_at=None)).rowcount)


def mark_failed(s: Session, reminder_id: int, worker: str, now: dt.datetime, error: str,
                permanent: bool = False) -> bool:
    """Retry later with exponential back-off (1, 2, 4, 8 minutes), then give up as
    failed; at once if ``permanent`` (no channel can reach the person)."""
    row = s.get(OutboxMessage, reminder_id)
    if row is None or row.status not in (OutboxStatus.CLAIMED, OutboxStatus.SENDING) or row.claimed_by != worker:
        return False
    attempts = row.attempts + 1
    values = {"attempts": attempts, "last_error": error[:200], "claimed_by": None, "claimed_at": None}
    # A call that failed after it started (timeout, connection reset) may still
    # have arrived: the retry asks the channel first, as after a crash.
    values["in_doubt"] = row.in_doubt or row.status == OutboxStatus.SENDING
    if attempts >= MAX_ATTEMPTS or permanent:
        values["status"] = OutboxStatus.FAILED
    else:
        values.update(status=OutboxStatus.PENDING, next_attempt_at=now + dt.timedelta(minutes=2 ** (attempts - 1)))
    return bool(s.execute(update(OutboxMessage).where(_fenced(reminder_id, worker)).values(**values)).rowcount)
