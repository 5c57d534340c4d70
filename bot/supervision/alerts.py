"""Alerts about a person, for their mentor and commune officers: raised once per
key with one outbox row per recipient, and acted on (acknowledged, excused,
resolved) with a reason code by someone allowed to see that person."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.outbox import enqueue
from bot.supervision.people import Invalid, NotFound, audit, may_see, person
from vietnamese.clock import utcnow
from bot.storage.models import ALERT_STATUSES, Alert, MentorAssignment, OfficerCommune, Person

SEVERITIES = ("critical", "high", "normal")
REASON_CODES = ("contacted", "visited", "help_arranged", "excused_health", "excused_work", "excused_other",
                "false_alarm", "other")


def mentors_of(s: Session, person: Person) -> list[str]:
    return list(s.scalars(select(MentorAssignment.mentor_id).join(Person, Person.id == MentorAssignment.mentor_id)
                          .where(MentorAssignment.supervisee_id == person.id, MentorAssignment.ended_at.is_(None),
                                 Person.erased_at.is_(None))))


def officers_of(s: Session, commune_id: int) -> list[str]:
    return list(s.scalars(select(OfficerCommune.officer_id).join(Person, Person.id == OfficerCommune.officer_id)
                          .where(OfficerCommune.commune_id == commune_id, Person.erased_at.is_(None))))


def recipients(s: Session, person: Person, mentor: bool = True, officers: bool = True) -> list[str]:
    """Who is told about this person: the active mentor and the commune's officers."""
    return list(dict.fromkeys([*(mentors_of(s, person) if mentor else []),
                               *(officers_of(s, person.commune_id) if officers else [])]))


def raise_alert(s: Session, person: Person, key: str, kind: str, severity: str, now: dt.datetime,
                mentor: bool = True, detail: str | None = None, note: str | None = None,
                officers: bool = True) -> Alert:
    """One alert per key, and one outbox row per recipient (officers unless
    ``officers`` is False, and the mentor unless ``mentor`` is False): critical
    ones bypass quiet hours. ``note`` is the person's own words, shown to those
    recipients. Idempotent: the same key raises nothing new."""
    alert = s.scalar(select(Alert).where(Alert.key == key))
    if alert is not None:
        return alert
    alert = Alert(key=key, person_id=person.id, commune_id=person.commune_id, type=kind, severity=severity,
                  detail=detail, note=(note or None) and note[:2000], created_at=now, updated_at=now)
    s.add(alert)
    s.flush()
    for recipient in recipients(s, person, mentor, officers):
        enqueue(s, f"alert:{alert.id}:{recipient}", "alert", recipient, now, critical=severity == "critical",
                subject_id=person.id, alert_id=alert.id)
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
