"""Alerts about a person, for their mentor and commune officers: raised once per
key with one outbox row per recipient, and acted on (acknowledged, excused,
resolved) with a reason code by someone allowed to see that person."""

from __future__ import annotations

import datetime as dt
import json

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.i18n import N_, gettext
from bot.outbox import Button, enqueue
from bot.supervision.people import Invalid, NotFound, audit, may_see, person
from vietnamese.clock import utcnow
from bot.storage.models import ALERT_STATUSES, Alert, ChannelIdentity, MentorAssignment, OfficerCommune, Person

ALERT_TYPES = {
    "worrying_checkin": N_("a worrying check-in"),
    "missed_checkin": N_("a missed check-in, still missing 24 hours after the deadline"),
    "unreachable": N_("reminders cannot reach them"),
    "crisis": N_("a message in crisis: please contact them now"),
    "handover": N_("they ask to talk to a person"),
    "distress": N_("they are having a hard time and asked that you be told"),
}
WORRYING_REASONS = {
    "no_shelter": N_("has no place to live"),
    "low_wellbeing": N_("is not doing well"),
    "urgent_help": N_("asks for urgent help"),
    "crisis_words": N_("wrote something worrying"),
    "hunger": N_("may not have enough to eat"),
    "asks_help": N_("asks for help in their note"),
}
ALERT_ACTIONS = (("acknowledged", N_("Seen")), ("excused", N_("Excuse")), ("resolved", N_("Resolved")))
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
        raise Invalid(N_("status must be one of {values}"), values=", ".join(x for x in ALERT_STATUSES if x != "open"))
    if reason not in REASON_CODES:
        raise Invalid(N_("reason must be one of {values}"), values=", ".join(REASON_CODES))
    actor = person(s, actor_id)
    alert = s.get(Alert, alert_id)
    if alert is None or not may_see(s, actor.id, alert.person_id) or actor.role not in ("mentor", "officer", "admin"):
        raise NotFound(N_("no alert {id} that {actor} may act on"), id=alert_id, actor=actor_id)
    alert.status, alert.reason_code = status, reason
    alert.updated_at, alert.updated_by = now or utcnow(), actor.id
    audit(s, f"person:{actor.id}", "act_on_alert", alert.person_id, alert_id=alert.id, status=status, reason=reason)
    return alert


def chat_unreachable(s: Session, identity: ChannelIdentity, now: dt.datetime) -> None:
    """A chat the platform no longer lets us reach (a refused send, an unfollow):
    stop using it until the person writes again, and tell an enrolled
    supervisee's mentor and commune officers (one alert per chat and day)."""
    identity.unreachable_at = now
    person = s.get(Person, identity.person_id) if identity.person_id else None
    if person is not None and person.role == "supervisee" and person.erased_at is None:
        raise_alert(s, person, f"unreachable:{identity.id}:{now.date().isoformat()}", "unreachable", "normal", now)


# --- what an alert says: the same in a pushed message and in a chat's answer ---


def payload(intent: str, **entities: str) -> str:
    return f"/{intent}{json.dumps(entities, separators=(',', ':'))}" if entities else f"/{intent}"


def display_name(p: Person | None, locale: str) -> str:
    return p.display_name if p is not None and p.display_name else gettext("(name erased)", locale)


def alert_buttons(alert: Alert, locale: str) -> tuple[Button, ...]:
    return tuple(Button(gettext(title, locale), payload("alert_action", alert_id=str(alert.id), alert_status=status))
                 for status, title in ALERT_ACTIONS)


def alert_text(s: Session, alert: Alert, locale: str) -> str:
    subject = s.get(Person, alert.person_id)
    what = gettext(ALERT_TYPES.get(alert.type, alert.type), locale)
    text = gettext("Alert #{id} about {name}: {what}.", locale).format(id=alert.id, name=display_name(subject, locale),
                                                                      what=what)
    if alert.type == "worrying_checkin" and alert.detail:
        reasons = [gettext(WORRYING_REASONS[x], locale) for x in alert.detail.split(",") if x in WORRYING_REASONS]
        if reasons:
            text += " " + gettext("They {reasons}.", locale).format(reasons=", ".join(reasons))
    if alert.note:
        text += "\n" + gettext("Their words: \u201c{note}\u201d", locale).format(note=alert.note)
    return text
