"""A person's data leaving or being erased: the export an admin prints, erasure
by an admin or asked in a chat (with the control message that has the gateway
wipe the Rasa history too). Every export and erasure is audited."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, or_, select, update
from sqlalchemy.orm import Session

from vietnamese.clock import utcnow
from bot.supervision import conversations
from bot.supervision.people import audit, person
from bot.storage.models import (
    Alert,
    ChannelIdentity,
    Checkin,
    CheckinSchedule,
    Commune,
    Consent,
    EnrollmentCode,
    MentorAssignment,
    Milestone,
    Person,
    OutboxMessage,
    WebInboxMessage,
)

# The control message an action sends to the gateway after erasing a chat's data
# (actions/privacy.py): the gateway then wipes the conversations' Rasa history
# (bot.conversation.core). Custom JSON, never shown.
ERASE_CONVERSATION = "erase_conversation"


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
        "conversations": conversations.export(s, p.id),
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
    counts["relayed_messages"] = conversations.erase(s, p.id, utcnow())
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
