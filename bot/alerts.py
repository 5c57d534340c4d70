"""Alerts about a person, for their mentor and commune officers: raised once per
key with one outbox row per recipient, and acted on (acknowledged, excused,
resolved) with a reason code by someone allowed to see that person."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.people import Invalid, NotFound, audit, may_see, person
from bot.storage.models import ALERT_STATUSES, Alert, MentorAssignment, OfficerCommune, Person, Reminder, utcnow

REASON_CODES = ("contacted", "visited", "help_arranged", "excused_health", "excused_work", "excused_other",
                "false_alarm", "other")


def recipients(s: Session, person: Person) -> list[str]:
    """Who is told about this person: the active mentor and the commune's officers."""
    mentors = s.scalars(select(MentorAssignment.mentor_id).where(
        MentorAssignment.supervisee_id == person.id, MentorAssignment.ended_at.is_(None)))
    officers = s.scalars(select(OfficerCommune.officer_id).where(OfficerCommune.commune_id == person.commune_id))
    return list(dict.fromkeys([*mentors, *officers]))


def raise_alert(s: Session, person: Person, key: str, kind: str, severity: str, now: dt.datetime) -> Alert:
    """One alert per key, and one outbox row per recipient: critical ones bypass
    quiet hours. Idempotent: the same key raises nothing new."""
    alert = s.scalar(select(Alert).where(Alert.key == key))
    if alert is not None:
        return alert
    alert = Alert(key=key, person_id=person.id, commune_id=person.commune_id, type=kind, severity=severity,
                  created_at=now, updated_at=now)
    s.add(alert)
    s.flush()
    for recipient in recipients(s, person):
        s.add(Reminder(key=f"alert:{alert.id}:{recipient}", kind=f"alert_{kind}", person_id=recipient,
                       due_at=now, next_attempt_at=now, critical=severity == "critical"))
    audit(s, "system", "raise_alert", person.id, alert_id=alert.id, type=kind, severity=severity)
    return alert


def act_on_alert(s: Session, alert_id: int, status: str, reason: str, actor_id: str,
                 now: dt.datetime | None = None) -> Alert:
    if status not in ALERT_STATUSES or status == "open":
        raise Invalid(f"status must be one of {', '.join(x for x in ALERT_STATUSES if x != 'open')}")
    if reason not in REASON_CODES:
        raise Invalid(f"reason must be one of {', '.join(REASON_CODES)}")
    actor = person(s, actor_id)
    alert = s.get(Alert, alert_id)
    if alert is None or not may_see(s, actor.id, alert.person_id) or actor.role not in ("mentor", "officer", "admin"):
        raise NotFound(f"no alert {alert_id} that {actor_id} may act on")
    alert.status, alert.reason_code = status, reason
    alert.updated_at, alert.updated_by = now or utcnow(), actor.id
    audit(s, f"person:{actor.id}", "act_on_alert", alert.person_id, alert_id=alert.id, status=status, reason=reason)
    return alert
