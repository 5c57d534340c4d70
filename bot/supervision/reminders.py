"""Everything the scheduler puts in the outbox, derived from the database alone.

Each generator looks at "now" and the schedules, assignments, alerts and
milestones, and enqueues rows with deterministic keys. Running one twice, or on
two replicas at once, adds nothing: the database is the source of truth and a
restart loses nothing.

The supervisee ladder for each reporting window:

1. ``checkin_eve``   the day before the window, 08:00 (Vietnam time)
2. ``checkin_open``  the window's first day, 08:00
3. ``missed_mentor`` the window and its grace period are over and there is no
                     check-in: the mentor is told
4. alert ``missed_checkin`` 24 hours later, still nothing: the officers are alerted,
   only while the person has a legal duty to report (a community sentence, or a
   status an officer has not confirmed yet; ``bot.supervision.people.has_legal_duty``).
   After a community sentence's last day the person is moved to voluntary
   check-ins and told (``duty_ended``); voluntary check-ins never reach an officer.

Mentors also get ``mentor_visit`` (every N days of an assignment) and
``quarterly_report`` (the first 5 days of each quarter); officers a daily
``digest`` at 08:00; supervisees ``milestone_expungement`` on the date they
asked to be congratulated on, and ``streak`` notes (see ``bot.supervision.checkins``).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache

from sqlalchemy import Engine, delete, inspect, select, text, update
from sqlalchemy.orm import Session

from bot.supervision.alerts import mentors_of, raise_alert
from bot.supervision.people import active_schedule, audit, has_legal_duty
from vietnamese.clock import vietnam_date
from bot.domain.knowledge import KnowledgeBase
from bot.domain.periods import Period
from bot.domain.schedule import Window, next_window, window_on_or_before
from bot.outbox import enqueue, local_time
from bot.storage.db import insert_for
from bot.storage.models import (
    COMMUNITY_SENTENCES,
    Alert,
    CallbackPayload,
    ChannelIdentity,
    Checkin,
    CheckinSchedule,
    EnrollmentAttempt,
    Heartbeat,
    InboundEvent,
    MentorAssignment,
    Milestone,
    OfficerCommune,
    Person,
    OutboxMessage,
    OutboxStatus,
    WebInboxMessage,
)

REMINDER_HOUR = 8            # local time reminders are due
OFFICER_ESCALATION = dt.timedelta(hours=24)
STREAK_MILESTONES = (3, 6, 12, 24, 36, 48)
SCHEDULER = "scheduler"
STALLED_AFTER = dt.timedelta(minutes=10)


def _kw(schedule: CheckinSchedule) -> dict[str, int | None]:
    return {"weekday": schedule.weekday, "day_of_month": schedule.day_of_month, "window_days": schedule.window_days}


def upcoming_window(schedule: CheckinSchedule, today: dt.date) -> Window:
    current = window_on_or_before(schedule.kind, today, **_kw(schedule))
    return current if current.end >= today else next_window(schedule.kind, today, **_kw(schedule))


def last_ended_window(schedule: CheckinSchedule, today: dt.date) -> Window:
    current = window_on_or_before(schedule.kind, today, **_kw(schedule))
    if current.end < today:
        return current
    return window_on_or_before(schedule.kind, current.start - dt.timedelta(days=1), **_kw(schedule))


def window_deadline(schedule: CheckinSchedule, window: Window) -> dt.datetime:
    """The end of the window's last day (Vietnam time) plus the grace period."""
    return local_time(window.end + dt.timedelta(days=1), 0) + dt.timedelta(hours=schedule.grace_hours)


def checked_in(s: Session, person_id: str, window_start: dt.date) -> bool:
    return s.scalar(select(Checkin.id).where(Checkin.person_id == person_id,
                                             Checkin.window_start == window_start)) is not None


def _active_schedules(s: Session) -> list[tuple[CheckinSchedule, Person]]:
    return list(s.execute(select(CheckinSchedule, Person).join(Person, Person.id == CheckinSchedule.person_id)
                          .where(CheckinSchedule.active.is_(True), Person.erased_at.is_(None))).all())


def checkin_reminders(s: Session, now: dt.datetime) -> int:
    """Steps 1 and 2 of the ladder for each supervisee's upcoming window."""
    today = vietnam_date(now)
    added = 0
    for schedule, person in _active_schedules(s):
        window = upcoming_window(schedule, today)
        if checked_in(s, person.id, window.start):
            continue
        for kind, day in (("checkin_eve", window.start - dt.timedelta(days=1)), ("checkin_open", window.start)):
            if day < today:  # the day is gone: a late reminder would only confuse
                continue
            added += enqueue(s, f"{kind}:{person.id}:{window.start.isoformat()}", kind, person.id,
                             local_time(day, REMINDER_HOUR), subject_id=person.id)
    return added


def overdue_window(s: Session, schedule: CheckinSchedule, now: dt.datetime) -> Window | None:
    """The last window that has ended, if its grace period is over and it has no
    check-in. Windows that began before the schedule existed do not count."""
    window = last_ended_window(schedule, vietnam_date(now))
    if now < window_deadline(schedule, window) or schedule.created_at > local_time(window.start, 0):
        return None
    return None if checked_in(s, schedule.person_id, window.start) else window


def missed_checkins(s: Session, now: dt.datetime) -> int:
    """Steps 3 and 4 of the ladder."""
    added = 0
    for schedule, person in _active_schedules(s):
        window = overdue_window(s, schedule, now)
        if window is None:
            continue
        deadline = window_deadline(schedule, window)
        for mentor in mentors_of(s, person):
            added += enqueue(s, f"missed_mentor:{person.id}:{window.start.isoformat()}:{mentor}", "missed_mentor",
                             mentor, deadline, subject_id=person.id)
        # The officer rung only while a legal duty to report exists (a community
        # sentence); a voluntary check-in never goes to the police.
        if now >= deadline + OFFICER_ESCALATION and has_legal_duty(person, vietnam_date(deadline)):
            key = f"missed:{person.id}:{window.start.isoformat()}"
            if s.scalar(select(Alert.id).where(Alert.key == key)) is None:
                raise_alert(s, person, key, "missed_checkin", "high", now, mentor=False)
                added += 1
    return added


def mentor_visits(s: Session, now: dt.datetime) -> int:
    """A visit reminder every ``visit_every_days`` of an assignment (only today's
    or yesterday's is generated: old ones are not worth sending late)."""
    today = vietnam_date(now)
    added = 0
    rows = s.execute(select(MentorAssignment, Person).join(Person, Person.id == MentorAssignment.supervisee_id)
                     .where(MentorAssignment.ended_at.is_(None), Person.erased_at.is_(None))).all()
    for assignment, supervisee in rows:
        every = max(1, assignment.visit_every_days)
        start = vietnam_date(assignment.assigned_at)
        elapsed = (today - start).days
        if elapsed < every:
            continue
        due_day = start + dt.timedelta(days=elapsed - elapsed % every)
        if (today - due_day).days > 1:
            continue
        added += enqueue(s, f"mentor_visit:{assignment.id}:{due_day.isoformat()}", "mentor_visit",
                         assignment.mentor_id, local_time(due_day, REMINDER_HOUR), subject_id=supervisee.id)
    return added


@lru_cache(maxsize=1)
def _knowledge() -> KnowledgeBase:
    return KnowledgeBase.load()


def quarterly_report_days(day: dt.date, kb: KnowledgeBase | None = None) -> int:
    """How many days at the start of a quarter the helper has for the quarterly
    report (TT 10/2024/TT-BCA Điều 10 khoản 4a), from the knowledge data."""
    try:
        return Period.parse((kb or _knowledge()).value("tt10.quarterly_report_days", day)).days
    except KeyError:
        return 0  # no rule that day: no quarterly report is due


def quarter_start(day: dt.date) -> dt.date:
    return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)


def quarterly_reports(s: Session, now: dt.datetime) -> int:
    """Each mentor with a current supervisee, on the first day of the quarter.
    The report is about the quarter that ended, so a mentor assigned since the
    quarter began has nothing to report yet and is not reminded."""
    today = vietnam_date(now)
    start = quarter_start(today)
    if (today - start).days >= quarterly_report_days(start):
        return 0
    mentors = s.scalars(select(MentorAssignment.mentor_id).join(Person, Person.id == MentorAssignment.mentor_id)
                        .where(MentorAssignment.ended_at.is_(None), Person.erased_at.is_(None),
                               MentorAssignment.assigned_at < local_time(start, 0)).distinct())
    quarter = f"{start.year}-Q{(start.month - 1) // 3 + 1}"
    return sum(enqueue(s, f"quarterly_report:{mentor}:{quarter}", "quarterly_report", mentor,
                       local_time(start, REMINDER_HOUR)) for mentor in mentors)


def officer_digests(s: Session, now: dt.datetime) -> int:
    """One digest a day at 08:00 for each officer; its text is made when it is
    sent (open alerts, overdue check-ins), and an empty one is not sent.
    Generated late only if the product was down at 08:00: an officer added
    after 08:00 gets the first digest the next morning, not a "morning
    summary" in the evening repeating the alerts they have just been sent."""
    today = vietnam_date(now)
    due = local_time(today, REMINDER_HOUR)
    if now < due:
        return 0
    officers = s.scalars(select(OfficerCommune.officer_id).join(Person, Person.id == OfficerCommune.officer_id)
                         .where(Person.erased_at.is_(None), Person.created_at <= due).distinct())
    return sum(enqueue(s, f"digest:{officer}:{today.isoformat()}", "digest", officer, due) for officer in officers)


def milestones(s: Session, now: dt.datetime) -> int:
    """The congratulation on the day (or within a week after, if the product was down)."""
    today = vietnam_date(now)
    rows = s.execute(select(Milestone, Person).join(Person, Person.id == Milestone.person_id)
                     .where(Milestone.on_date <= today, Milestone.on_date >= today - dt.timedelta(days=7),
                            Person.erased_at.is_(None))).all()
    return sum(enqueue(s, f"milestone_{m.kind}:{p.id}:{m.on_date.isoformat()}", f"milestone_{m.kind}", p.id,
                       local_time(m.on_date, REMINDER_HOUR), subject_id=p.id) for m, p in rows)


def streak_length(s: Session, schedule: CheckinSchedule, window: Window) -> int:
    """Consecutive windows with a check-in, ending with ``window``."""
    count, current = 0, window
    while checked_in(s, schedule.person_id, current.start):
        count += 1
        if local_time(current.start, 0) < schedule.created_at:
            break
        current = window_on_or_before(schedule.kind, current.start - dt.timedelta(days=1), **_kw(schedule))
    return count


def streak_note(s: Session, person_id: str, window_start: dt.date, now: dt.datetime) -> bool:
    schedule = active_schedule(s, person_id)
    if schedule is None:
        return False
    window = window_on_or_before(schedule.kind, window_start, **_kw(schedule))
    n = streak_length(s, schedule, window)
    if n not in STREAK_MILESTONES:
        return False
    return enqueue(s, f"streak:{person_id}:{n}:{window.start.isoformat()}", "streak", person_id, now,
                   subject_id=person_id)


def legal_status_ends(s: Session, now: dt.datetime) -> int:
    """After the last day of a community sentence the person has no duty to
    report: they move to voluntary check-ins with their mentor, and are told."""
    today = vietnam_date(now)
    ended = s.scalars(select(Person).where(Person.role == "supervisee", Person.erased_at.is_(None),
                                           Person.legal_status.in_(COMMUNITY_SENTENCES),
                                           Person.legal_duty_until < today)).all()
    added = 0
    for person in ended:
        until = person.legal_duty_until
        person.legal_status = "completed"
        audit(s, "system", "legal_duty_ended", person.id)
        added += enqueue(s, f"duty_ended:{person.id}:{until.isoformat()}", "duty_ended", person.id, now,
                         subject_id=person.id)
    return added


# --- the tick -------------------------------------------------------------------

GENERATORS = {
    "legal_status": legal_status_ends,
    "checkin": checkin_reminders,
    "missed": missed_checkins,
    "visits": mentor_visits,
    "quarterly": quarterly_reports,
    "digest": officer_digests,
    "milestones": milestones,
}


def beat(s: Session, name: str, now: dt.datetime) -> None:
    s.execute(insert_for(s)(Heartbeat).values(name=name, at=now)
              .on_conflict_do_update(index_elements=["name"], set_={"at": now}))


def last_beat(s: Session, name: str = SCHEDULER) -> dt.datetime | None:
    return s.scalar(select(Heartbeat.at).where(Heartbeat.name == name))


def tick(s: Session, now: dt.datetime) -> dict[str, int]:
    """Generate everything due; record the heartbeat. Returns rows added per kind."""
    counts = {name: gen(s, now) for name, gen in GENERATORS.items()}
    beat(s, SCHEDULER, now)
    return counts


def watchdog(s: Session, now: dt.datetime) -> bool:
    """If the scheduler has not ticked for 10 minutes, tell the admins (critical,
    once per stall). Run by the dispatcher loop, which does not depend on the
    scheduler. True if an alert was queued."""
    at = last_beat(s)
    if at is None or now - at < STALLED_AFTER:
        return False
    admins = s.scalars(select(Person.id).where(Person.role == "admin", Person.erased_at.is_(None)))
    return any([enqueue(s, f"scheduler_stalled:{admin}:{at.isoformat()}", "scheduler_stalled", admin, now,
                        critical=True) for admin in admins])


# --- retention ------------------------------------------------------------------


def purge(s: Session, now: dt.datetime, checkin_days: int, outbox_days: int) -> dict[str, int]:
    """Delete what is no longer needed: check-ins older than ``checkin_days``
    (and the person's words in alerts); finished outbox rows, web messages,
    inbound event ids and stored button payloads older than ``outbox_days``; the
    chats of people who never enrolled and have not written for ``outbox_days``
    (with everything kept for them); enrollment attempts older than 30 days.
    Alerts and the audit log are kept. Rasa's conversation histories:
    :func:`purge_trackers`."""
    old_outbox = now - dt.timedelta(days=outbox_days)
    counts = {
        "alert_notes": s.execute(update(Alert).where(Alert.note.is_not(None),
                                                     Alert.created_at < now - dt.timedelta(days=checkin_days))
                                 .values(note=None)).rowcount,
        "checkins": s.execute(delete(Checkin).where(Checkin.at < now - dt.timedelta(days=checkin_days))).rowcount,
        "reminders": s.execute(delete(OutboxMessage).where(OutboxMessage.status.in_((OutboxStatus.SENT, OutboxStatus.FAILED, OutboxStatus.CANCELLED)),
                                                      OutboxMessage.due_at < old_outbox)).rowcount,
        "web_inbox": s.execute(delete(WebInboxMessage).where(WebInboxMessage.created_at < old_outbox)).rowcount,
        "enrollment_attempts": s.execute(delete(EnrollmentAttempt).where(
            EnrollmentAttempt.at < now - dt.timedelta(days=30))).rowcount,
        "inbound_events": s.execute(delete(InboundEvent).where(InboundEvent.received_at < old_outbox)).rowcount,
        "callback_payloads": s.execute(delete(CallbackPayload).where(
            CallbackPayload.created_at < old_outbox)).rowcount,
    }
    idle = select(ChannelIdentity.id).where(ChannelIdentity.person_id.is_(None),
                                            ChannelIdentity.last_inbound_at < old_outbox)
    s.execute(delete(EnrollmentAttempt).where(EnrollmentAttempt.identity_id.in_(idle)))
    s.execute(delete(WebInboxMessage).where(WebInboxMessage.identity_id.in_(idle)))
    s.execute(delete(OutboxMessage).where(OutboxMessage.person_id.is_(None), OutboxMessage.identity_id.in_(idle)))
    counts["identities"] = s.execute(delete(ChannelIdentity).where(ChannelIdentity.id.in_(idle))).rowcount
    return counts


def purge_trackers(trackers: Engine, before: dt.datetime) -> int:
    """Delete Rasa's tracker events (message texts, slots) stamped before
    ``before``: a conversation's session expires after an idle hour, so only
    old sessions go; the chats purged above have no newer events. Returns rows."""
    with trackers.begin() as conn:
        if not inspect(conn).has_table("events"):
            return 0
        return conn.execute(text("DELETE FROM events WHERE timestamp < :before"),
                            {"before": before.timestamp()}).rowcount
