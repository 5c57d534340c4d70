"""People, communes, roles, legal status, assignments and schedules, and who may
see whom: the service layer used by the admin CLI and the chat (enrollment
codes: bot.supervision.enrollment; export and erasure: bot.supervision.privacy). Every read or change of a person's data is
written to the audit log with who did it; message bodies are never logged.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from vietnamese.clock import utcnow
from bot.i18n import N_, gettext
from bot.storage.models import (
    COMMUNITY_SENTENCES,
    LEGAL_STATUSES,
    ROLES,
    SCHEDULE_KINDS,
    Alert,
    AuditEntry,
    CheckinSchedule,
    Commune,
    MentorAssignment,
    OfficerCommune,
    Person,
)


# Chats that cannot be linked to a person: the web chat without its cookie.
ANONYMOUS_CHANNELS = frozenset({"web-anon"})
# What such a chat is told when it asks for more than questions and answers.
ANONYMOUS_ONLY = N_(
    "In this web chat without sign-in I can only answer questions. To register with a code, report, handle "
    "reminders and alerts or erase data, please open the Lối Về chat page in your browser and write there.")


class _Problem(Exception):
    """A refusal with an English message id (``N_``) and its values: ``str()``
    is the English text, ``text(locale)`` the translated one (the CLI and the
    console show it in the user's language)."""

    def __init__(self, message: str, **values: Any) -> None:
        super().__init__(message.format(**values))
        self.message, self.values = message, values

    def text(self, locale: str | None) -> str:
        return gettext(self.message, locale).format(**self.values)


class NotFound(_Problem, LookupError):
    pass


class Invalid(_Problem, ValueError):
    pass


def audit(s: Session, actor: str, action: str, subject_id: str | None, **detail: Any) -> None:
    s.add(AuditEntry(actor=actor, action=action, subject_id=subject_id,
                     detail=json.dumps(detail, ensure_ascii=False)[:500] if detail else None))


def _same_name(a: str, b: str) -> bool:
    return " ".join(a.split()).casefold() == " ".join(b.split()).casefold()


def find_commune(s: Session, name: str) -> Commune | None:
    """The commune of this name, in any case and spacing ("xã an bình" is "Xã An Bình")."""
    exact = s.scalar(select(Commune).where(Commune.name == name.strip()))
    return exact or next((c for c in s.scalars(select(Commune)) if _same_name(c.name, name)), None)


def commune_by_name(s: Session, name: str) -> Commune:
    commune = find_commune(s, name)
    if commune is None:
        raise NotFound(N_("commune \u201c{name}\u201d not found (add it with: admin add-commune \"{name}\")"), name=name.strip())
    return commune


def add_commune(s: Session, name: str, actor: str) -> Commune:
    name = name.strip()
    if not name:
        raise Invalid(N_("the commune name is empty"))
    existing = find_commune(s, name)
    if existing:
        return existing
    commune = Commune(name=name)
    s.add(commune)
    s.flush()
    audit(s, actor, "add_commune", None, commune_id=commune.id)
    return commune


def person(s: Session, person_id: str) -> Person:
    p = s.get(Person, person_id)
    if p is None or p.erased_at is not None:
        raise NotFound(N_("no person with id {id}"), id=person_id)
    return p


def add_person(s: Session, role: str, name: str, commune_name: str, actor: str,
               mentor_id: str | None = None, legal_status: str | None = None,
               legal_duty_until: dt.date | None = None) -> Person:
    if role not in ROLES:
        raise Invalid(N_("role must be one of {values}"), values=", ".join(ROLES))
    if not name.strip():
        raise Invalid(N_("the name is empty"))
    commune = commune_by_name(s, commune_name)
    if mentor_id and role != "supervisee":
        raise Invalid(N_("--mentor is only for a supervisee"))
    if (legal_status or legal_duty_until) and role != "supervisee":
        raise Invalid(N_("--legal-status is only for a supervisee"))
    p = Person(role=role, display_name=name.strip(), commune_id=commune.id,
               legal_status="unconfirmed" if role == "supervisee" else None)
    if legal_status:
        _check_legal_status(legal_status, legal_duty_until)
        p.legal_status, p.legal_duty_until = legal_status, legal_duty_until
    s.add(p)
    s.flush()
    if role == "officer":
        s.add(OfficerCommune(officer_id=p.id, commune_id=commune.id))
    if mentor_id:
        assign_mentor(s, p.id, mentor_id, actor)
    audit(s, actor, "add_person", p.id, role=role, commune_id=commune.id)
    return p


def set_on_duty(s: Session, person_id: str, on_duty: bool, actor: str) -> Person:
    """Mark staff (mentor, officer, admin) on or off duty for crisis handovers
    from people who are not enrolled (bot.supervision.handover). Audited."""
    p = person(s, person_id)
    if p.role == "supervisee":
        raise Invalid(N_("only staff (mentor, officer, admin) can be on duty"))
    p.on_duty = on_duty
    audit(s, actor, "set_on_duty", p.id, on_duty=on_duty)
    return p


def _check_legal_status(status: str, until: dt.date | None) -> None:
    if status not in LEGAL_STATUSES:
        raise Invalid(N_("legal status must be one of {values}"), values=", ".join(LEGAL_STATUSES))
    if status in COMMUNITY_SENTENCES and until is None:
        raise Invalid(N_("a community sentence needs its end date (--until YYYY-MM-DD)"))
    if status not in COMMUNITY_SENTENCES and until is not None:
        raise Invalid(N_("--until is only for a community sentence"))


def set_legal_status(s: Session, person_id: str, status: str, until: dt.date | None, actor: str) -> Person:
    """An officer confirms a supervisee's legal status: the community sentence
    being served and its end date, or "completed" (voluntary check-ins only)."""
    p = person(s, person_id)
    if p.role != "supervisee":
        raise Invalid(N_("a legal status is only for a supervisee"))
    _check_legal_status(status, until)
    p.legal_status, p.legal_duty_until = status, until
    audit(s, actor, "set_legal_status", p.id, status=status)
    return p


def has_legal_duty(p: Person, today: dt.date) -> bool:
    """Does the person have a legal duty to report today? Only a community
    sentence until its end date. "unconfirmed" keeps the former behaviour until
    an officer confirms the status (the admin listing shows them)."""
    if p.legal_status in (None, "unconfirmed"):
        return p.role == "supervisee"  # a row from before the status existed counts as unconfirmed
    return p.legal_status in COMMUNITY_SENTENCES and (p.legal_duty_until is None or today <= p.legal_duty_until)


def assign_mentor(s: Session, supervisee_id: str, mentor_id: str, actor: str, visit_every_days: int = 30) -> None:
    supervisee, mentor = person(s, supervisee_id), person(s, mentor_id)
    if supervisee.role != "supervisee" or mentor.role != "mentor":
        raise Invalid(N_("a mentor (role mentor) is assigned to a supervisee (role supervisee)"))
    if not 1 <= visit_every_days <= 366:
        raise Invalid(N_("--visit-days must be 1 to 366"))
    now = utcnow()
    s.execute(update(MentorAssignment)
              .where(MentorAssignment.supervisee_id == supervisee_id, MentorAssignment.ended_at.is_(None))
              .values(ended_at=now))  # one helper at a time
    s.add(MentorAssignment(mentor_id=mentor_id, supervisee_id=supervisee_id, assigned_at=now,
                           visit_every_days=visit_every_days))
    audit(s, actor, "assign_mentor", supervisee_id, mentor_id=mentor_id)


def active_schedule(s: Session, person_id: str) -> CheckinSchedule | None:
    """The person's reporting schedule, if it is active (one place for this query)."""
    return s.scalar(select(CheckinSchedule).where(CheckinSchedule.person_id == person_id,
                                                  CheckinSchedule.active.is_(True)))


def set_schedule(s: Session, person_id: str, kind: str, actor: str, *, weekday: int | None = None,
                 day_of_month: int | None = None, window_days: int = 1, grace_hours: int = 24) -> CheckinSchedule:
    p = person(s, person_id)
    if p.role != "supervisee":
        raise Invalid(N_("check-in schedules are for supervisees"))
    if kind not in SCHEDULE_KINDS:
        raise Invalid(N_("kind must be one of {values}"), values=", ".join(SCHEDULE_KINDS))
    if kind == "weekly" and (weekday is None or not 0 <= weekday <= 6):
        raise Invalid(N_("a weekly schedule needs --weekday 0 (Monday) to 6 (Sunday)"))
    if kind == "monthly" and (day_of_month is None or not 1 <= day_of_month <= 28):
        raise Invalid(N_("a monthly schedule needs --day 1 to 28"))
    if kind == "monthly_window" and not 1 <= window_days <= 28:
        raise Invalid(N_("--window-days must be 1 to 28"))
    if not 0 <= grace_hours <= 24 * 14:
        raise Invalid(N_("--grace-hours must be 0 to 336"))
    sched = s.scalar(select(CheckinSchedule).where(CheckinSchedule.person_id == person_id))
    if sched is None:
        sched = CheckinSchedule(person_id=person_id, kind=kind)
        s.add(sched)
    sched.kind, sched.weekday, sched.day_of_month = kind, weekday, day_of_month
    sched.window_days, sched.grace_hours, sched.active = window_days, grace_hours, True
    audit(s, actor, "set_schedule", person_id, kind=kind)
    return sched


# --- lists ---------------------------------------------------------------------


def list_people(s: Session, actor: str, commune_name: str | None = None, role: str | None = None) -> list[Person]:
    q = select(Person).where(Person.erased_at.is_(None)).order_by(Person.created_at)
    if commune_name:
        q = q.where(Person.commune_id == commune_by_name(s, commune_name).id)
    if role:
        q = q.where(Person.role == role)
    people = list(s.scalars(q))
    audit(s, actor, "list_people", None, count=len(people))
    return people


def list_alerts(s: Session, actor: str, status: str | None = "open") -> list[Alert]:
    q = select(Alert).order_by(Alert.created_at)
    if status:
        q = q.where(Alert.status == status)
    alerts = list(s.scalars(q))
    audit(s, actor, "list_alerts", None, count=len(alerts))
    return alerts


# --- who may see whom ------------------------------------------------------------


def visible_people(s: Session, viewer_id: str) -> list[Person]:
    """The people a viewer may see: a mentor their current supervisees, an
    officer the people of their communes, an admin everyone, anyone else nobody
    but themselves. Audited."""
    viewer = person(s, viewer_id)
    q = select(Person).where(Person.erased_at.is_(None))
    if viewer.role == "mentor":
        q = q.where(Person.id.in_(select(MentorAssignment.supervisee_id).where(
            MentorAssignment.mentor_id == viewer.id, MentorAssignment.ended_at.is_(None))))
    elif viewer.role == "officer":
        q = q.where(Person.commune_id.in_(select(OfficerCommune.commune_id).where(
            OfficerCommune.officer_id == viewer.id)))
    elif viewer.role != "admin":
        q = q.where(Person.id == viewer.id)
    found = list(s.scalars(q.order_by(Person.created_at)))
    audit(s, f"person:{viewer.id}", "list_people", None, count=len(found))
    return found


def may_see(s: Session, viewer_id: str, subject_id: str) -> bool:
    return any(p.id == subject_id for p in visible_people(s, viewer_id))
