"""People, communes, assignments and enrollment codes: the service layer used by
the admin CLI and (next) the chat. Every read or change of a person's data is
written to the audit log with who did it; message bodies are never logged.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, or_, select, update
from sqlalchemy.orm import Session

from vietnamese.clock import utcnow
from bot.i18n import N_
from bot.storage.models import (
    COMMUNITY_SENTENCES,
    LEGAL_STATUSES,
    ROLES,
    SCHEDULE_KINDS,
    Alert,
    AuditEntry,
    ChannelIdentity,
    Checkin,
    CheckinSchedule,
    Commune,
    Consent,
    EnrollmentAttempt,
    EnrollmentCode,
    MentorAssignment,
    Milestone,
    OfficerCommune,
    Person,
    OutboxMessage,
    WebInboxMessage,
)

# No 0/O, 1/I/L: codes are read aloud and typed from paper. 31^10 ≈ 8.2·10^14,
# so that the hourly limits on failed codes (bot/supervision/enrollment.py) keep the
# chance of guessing any of 10,000 live codes below one in a million (README).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10
# Chats that cannot be linked to a person: the web chat without its cookie.
# The control message an action sends to the gateway after erasing a chat's data
# (actions/privacy.py): the gateway then wipes the conversations' Rasa history
# (bot.conversation.core). Custom JSON, never shown.
ERASE_CONVERSATION = "erase_conversation"

ANONYMOUS_CHANNELS = frozenset({"web-anon"})
# What such a chat is told when it asks for more than questions and answers.
ANONYMOUS_ONLY = N_(
    "In this web chat without sign-in I can only answer questions. To register with a code, report, handle "
    "reminders and alerts or erase data, please open the Lối Về chat page in your browser and write there.")


class NotFound(LookupError):
    pass


class Invalid(ValueError):
    pass


def audit(s: Session, actor: str, action: str, subject_id: str | None, **detail: Any) -> None:
    s.add(AuditEntry(actor=actor, action=action, subject_id=subject_id,
                     detail=json.dumps(detail, ensure_ascii=False)[:500] if detail else None))


def commune_by_name(s: Session, name: str) -> Commune:
    commune = s.scalar(select(Commune).where(Commune.name == name.strip()))
    if commune is None:
        raise NotFound(f"commune {name!r} not found (add it with: admin add-commune {name!r})")
    return commune


def add_commune(s: Session, name: str, actor: str) -> Commune:
    name = name.strip()
    if not name:
        raise Invalid("the commune name is empty")
    existing = s.scalar(select(Commune).where(Commune.name == name))
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
        raise NotFound(f"no person with id {person_id!r}")
    return p


def add_person(s: Session, role: str, name: str, commune_name: str, actor: str,
               mentor_id: str | None = None, legal_status: str | None = None,
               legal_duty_until: dt.date | None = None) -> Person:
    if role not in ROLES:
        raise Invalid(f"role must be one of {', '.join(ROLES)}")
    if not name.strip():
        raise Invalid("the name is empty")
    commune = commune_by_name(s, commune_name)
    if mentor_id and role != "supervisee":
        raise Invalid("--mentor is only for a supervisee")
    if (legal_status or legal_duty_until) and role != "supervisee":
        raise Invalid("--legal-status is only for a supervisee")
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
        raise Invalid("only staff (mentor, officer, admin) can be on duty")
    p.on_duty = on_duty
    audit(s, actor, "set_on_duty", p.id, on_duty=on_duty)
    return p


def _check_legal_status(status: str, until: dt.date | None) -> None:
    if status not in LEGAL_STATUSES:
        raise Invalid(f"legal status must be one of {', '.join(LEGAL_STATUSES)}")
    if status in COMMUNITY_SENTENCES and until is None:
        raise Invalid("a community sentence needs its end date (--until YYYY-MM-DD)")
    if status not in COMMUNITY_SENTENCES and until is not None:
        raise Invalid("--until is only for a community sentence")


def set_legal_status(s: Session, person_id: str, status: str, until: dt.date | None, actor: str) -> Person:
    """An officer confirms a supervisee's legal status: the community sentence
    being served and its end date, or "completed" (voluntary check-ins only)."""
    p = person(s, person_id)
    if p.role != "supervisee":
        raise Invalid("a legal status is only for a supervisee")
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
        raise Invalid("a mentor (role mentor) is assigned to a supervisee (role supervisee)")
    if not 1 <= visit_every_days <= 366:
        raise Invalid("--visit-days must be 1 to 366")
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
        raise Invalid("check-in schedules are for supervisees")
    if kind not in SCHEDULE_KINDS:
        raise Invalid(f"kind must be one of {', '.join(SCHEDULE_KINDS)}")
    if kind == "weekly" and (weekday is None or not 0 <= weekday <= 6):
        raise Invalid("a weekly schedule needs --weekday 0 (Monday) to 6 (Sunday)")
    if kind == "monthly" and (day_of_month is None or not 1 <= day_of_month <= 28):
        raise Invalid("a monthly schedule needs --day 1 to 28")
    if kind == "monthly_window" and not 1 <= window_days <= 28:
        raise Invalid("--window-days must be 1 to 28")
    if not 0 <= grace_hours <= 24 * 14:
        raise Invalid("--grace-hours must be 0 to 336")
    sched = s.scalar(select(CheckinSchedule).where(CheckinSchedule.person_id == person_id))
    if sched is None:
        sched = CheckinSchedule(person_id=person_id, kind=kind)
        s.add(sched)
    sched.kind, sched.weekday, sched.day_of_month = kind, weekday, day_of_month
    sched.window_days, sched.grace_hours, sched.active = window_days, grace_hours, True
    audit(s, actor, "set_schedule", person_id, kind=kind)
    return sched


# --- enrollment codes ------------------------------------------------------------


def code_digest(code: str, secret: bytes) -> str:
    normalized = "".join(ch for ch in code.upper() if ch.isalnum())
    return hmac.new(secret, normalized.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class IssuedCode:
    code: str
    expires_at: dt.datetime


def issue_enrollment_code(s: Session, person_id: str, secret: bytes, days: int, actor: str,
                          now: dt.datetime | None = None) -> IssuedCode:
    p = person(s, person_id)
    now = now or utcnow()
    # A new code replaces any unused one: only the latest piece of paper works.
    s.execute(update(EnrollmentCode)
              .where(EnrollmentCode.person_id == p.id, EnrollmentCode.used_at.is_(None),
                     EnrollmentCode.expires_at > now)
              .values(expires_at=now))
    code = ""
    while not any(ch.isdigit() for ch in code) or code.isdigit():  # find_code() wants letters and digits
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    expires = now + dt.timedelta(days=days)
    s.add(EnrollmentCode(person_id=p.id, code_hash=code_digest(code, secret), created_at=now, expires_at=expires))
    audit(s, actor, "issue_enrollment_code", p.id)
    return IssuedCode(code, expires)


# --- lists, export, erase ---------------------------------------------------------


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


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (dt.date, dt.datetime)) else value


def _row(obj: Any, *fields: str) -> dict[str, Any]:
    return {f: _iso(getattr(obj, f)) for f in fields}


def export_person(s: Session, person_id: str, actor: str) -> dict[str, Any]:
    """Everything stored about one person, for them or for the office that holds it."""
    p = person(s, person_id)
    commune = s.get(Commune, p.commune_id)
    data = {
        "person": {**_row(p, "id", "role", "display_name", "created_at", "legal_status", "legal_duty_until"),
                   "commune": commune.name if commune else None},
        "channels": [_row(i, "channel", "external_id", "locale", "created_at", "last_inbound_at")
                     for i in s.scalars(select(ChannelIdentity).where(ChannelIdentity.person_id == p.id))],
        "consents": [_row(c, "text_version", "accepted", "channel", "at")
                     for c in s.scalars(select(Consent).where(Consent.person_id == p.id))],
        "schedule": [_row(c, "kind", "weekday", "day_of_month", "window_days", "grace_hours", "active")
                     for c in s.scalars(select(CheckinSchedule).where(CheckinSchedule.person_id == p.id))],
        "checkins": [_row(c, "at", "channel", "window_start", "at_registered_address", "activity", "wellbeing",
                          "needs", "note", "worrying")
                     for c in s.scalars(select(Checkin).where(Checkin.person_id == p.id))],
        "alerts": [_row(a, "type", "severity", "status", "reason_code", "detail", "note", "created_at")
                   for a in s.scalars(select(Alert).where(Alert.person_id == p.id))],
        "milestones": [_row(m, "kind", "on_date") for m in s.scalars(select(Milestone).where(Milestone.person_id == p.id))],
        "reminders": [_row(r, "kind", "due_at", "status", "sent_at", "acknowledged_at")
                      for r in s.scalars(select(OutboxMessage).where(OutboxMessage.person_id == p.id))],
        "mentor_assignments": [_row(m, "mentor_id", "supervisee_id", "assigned_at", "ended_at")
                               for m in s.scalars(select(MentorAssignment).where(
                                   (MentorAssignment.supervisee_id == p.id) | (MentorAssignment.mentor_id == p.id)))],
    }
    audit(s, actor, "export_person", p.id)
    return data


def erase_person(s: Session, person_id: str, actor: str) -> dict[str, int]:
    """Erase a person's personal data. Kept: the bare person row (no name) and
    the audit log, so that who accessed what stays accountable; alerts keep
    their type and dates but lose the link to any message."""
    p = person(s, person_id)
    counts = {
        "checkins": len(list(s.scalars(select(Checkin.id).where(Checkin.person_id == p.id)))),
        "channels": len(list(s.scalars(select(ChannelIdentity.id).where(ChannelIdentity.person_id == p.id)))),
    }
    # Messages to or about the person (a mentor's reminder names them), and
    # their copies waiting in web-chat inboxes.
    about = (OutboxMessage.person_id == p.id) | (OutboxMessage.subject_id == p.id)
    keys = select(OutboxMessage.key).where(about)
    identities = select(ChannelIdentity.id).where(ChannelIdentity.person_id == p.id)
    s.execute(delete(WebInboxMessage).where(WebInboxMessage.key.in_(keys) | WebInboxMessage.identity_id.in_(identities)))
    s.execute(delete(OutboxMessage).where(about))
    for model in (Checkin, Consent, CheckinSchedule, EnrollmentCode, Milestone):
        s.query(model).filter(model.person_id == p.id).delete(synchronize_session=False)
    s.execute(update(Alert).where(Alert.person_id == p.id).values(detail=None, note=None))
    # Unlink and forget the platform ids; the conversation ids stay opaque.
    for identity in s.scalars(select(ChannelIdentity).where(ChannelIdentity.person_id == p.id)):
        identity.person_id = None
        identity.external_id = f"erased:{identity.id}"
    s.execute(update(MentorAssignment)
              .where(((MentorAssignment.supervisee_id == p.id) | (MentorAssignment.mentor_id == p.id)),
                     MentorAssignment.ended_at.is_(None))
              .values(ended_at=utcnow()))
    p.display_name = ""
    p.legal_status, p.legal_duty_until = None, None
    p.erased_at = utcnow()
    audit(s, actor, "erase_person", p.id, **counts)
    return counts


# --- enrollment in chat ------------------------------------------------------------

CONSENT_VERSION = "consent-2026-11-30"  # worrying answers alert mentor and commune police
CODE_IN_TEXT = re.compile(rf"(?<![A-Za-z0-9])([{CODE_ALPHABET}{CODE_ALPHABET.lower()}]{{{CODE_LENGTH}}})(?![A-Za-z0-9])")


@dataclass(frozen=True)
class Redemption:
    status: str                  # "ok" | "invalid" | "rate_limited" | "already_linked" | "anonymous"
    person_id: str | None = None


def find_code(text: str) -> str | None:
    """An enrollment code inside a message ("mã của tôi là K7P2QXMA", "/start K7P2QXMA")."""
    for m in CODE_IN_TEXT.finditer(text or ""):
        candidate = m.group(1).upper()
        if any(ch.isdigit() for ch in candidate) and not candidate.isdigit():  # never a word or a number
            return candidate
    return None


def check_code(s: Session, identity_id: str, code: str, secret: bytes, *, max_failures: int,
               window: dt.timedelta, now: dt.datetime | None = None) -> Redemption:
    """Is this code valid for this chat right now? Records the attempt; too many
    failures from one chat within ``window`` refuse further tries (brute force).
    Expired, used and unknown codes all answer "invalid": no oracle for guessers."""
    now = now or utcnow()
    identity = s.get(ChannelIdentity, identity_id)
    if identity is not None and identity.channel in ANONYMOUS_CHANNELS:
        return Redemption("anonymous")
    failures = s.scalar(select(func.count()).select_from(EnrollmentAttempt).where(
        EnrollmentAttempt.identity_id == identity_id, EnrollmentAttempt.succeeded.is_(False),
        EnrollmentAttempt.at > now - window))
    if failures >= max_failures:
        return Redemption("rate_limited")
    row = s.scalar(select(EnrollmentCode).where(EnrollmentCode.code_hash == code_digest(code, secret)))
    ok = row is not None and row.used_at is None and row.expires_at > now
    s.add(EnrollmentAttempt(identity_id=identity_id, at=now, succeeded=ok))
    if not ok:
        return Redemption("invalid")
    identity = s.get(ChannelIdentity, identity_id)
    if identity is not None and identity.person_id == row.person_id:
        return Redemption("already_linked", row.person_id)
    return Redemption("ok", row.person_id)


def enroll(s: Session, identity_id: str, code: str, secret: bytes, accepted: bool,
           now: dt.datetime | None = None) -> str | None:
    """Record the consent answer; when accepted, use up the code and link this
    chat to the person. Returns the person id when linked."""
    now = now or utcnow()
    row = s.scalar(select(EnrollmentCode).where(EnrollmentCode.code_hash == code_digest(code, secret))
                   .with_for_update())
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    identity = s.get(ChannelIdentity, identity_id)
    if identity is None or identity.channel in ANONYMOUS_CHANNELS:
        return None
    s.add(Consent(person_id=row.person_id, text_version=CONSENT_VERSION, accepted=accepted,
                  channel=identity.channel, at=now))
    if not accepted:
        audit(s, f"identity:{identity_id}", "consent_refused", row.person_id)
        return None
    row.used_at = now
    identity.person_id = row.person_id
    audit(s, f"identity:{identity_id}", "enrolled", row.person_id, channel=identity.channel)
    return row.person_id


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


# --- erasure asked in a chat ----------------------------------------------------------


def erase_from_chat(s: Session, identity_id: str) -> list[str]:
    """"Xóa dữ liệu của tôi", asked in a chat. For the enrolled person of that
    chat: everything ``erase_person`` erases (their other chats are forgotten),
    done as the person themself. For anyone: this chat is unlinked and its copies
    of messages are deleted (web inbox, replies queued or sent through the
    outbox, the numbered choices last shown).

    The chat being written from keeps its platform address, so that the
    confirmation still reaches it (a webhook channel's reply goes out through
    the outbox after the turn): it becomes like a new user's chat.

    Returns the conversation ids (identity ids) whose history the gateway must
    wipe from Rasa's tracker store once the turn is over (bot.conversation.core):
    this chat first, then the person's other chats."""
    identity = s.get(ChannelIdentity, identity_id)
    if identity is None:
        return []
    ids = [identity.id]
    p = s.get(Person, identity.person_id) if identity.person_id else None
    identity.person_id = None  # before erase_person, which forgets the platform ids of the person's chats
    s.flush()
    if p is not None and p.erased_at is None:
        ids += list(s.scalars(select(ChannelIdentity.id).where(ChannelIdentity.person_id == p.id)))
        erase_person(s, p.id, actor=f"person:{p.id}")
    s.execute(delete(WebInboxMessage).where(WebInboxMessage.identity_id.in_(ids)))
    s.execute(delete(OutboxMessage).where(OutboxMessage.kind == "reply", OutboxMessage.identity_id.in_(ids)))
    # Handovers to the on-duty staff carry this chat's words (bot.supervision.handover).
    handovers = select(OutboxMessage.key).where(OutboxMessage.kind == "handover",
                                           or_(*(OutboxMessage.key.like(f"handover:{i}:%") for i in ids)))
    s.execute(delete(WebInboxMessage).where(WebInboxMessage.key.in_(handovers)))
    s.execute(delete(OutboxMessage).where(OutboxMessage.key.in_(handovers.scalar_subquery())))
    s.execute(update(ChannelIdentity).where(ChannelIdentity.id.in_(ids)).values(last_choices=None))
    audit(s, f"identity:{identity.id}", "erase_chat", p.id if p is not None else None, conversations=len(ids))
    return ids
