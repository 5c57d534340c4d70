"""People reach people: a conversation between a person and their mentor,
officer or the on-duty staff, relayed by the bot both ways (issue 15).

The gateway (bot.conversation.relay) routes chat messages here; the staff
console (issue 16) calls the same functions. Everything is role-scoped
(``bot.supervision.people.may_see``) and audited; relayed texts are never
logged, are kept only as long as the retention setting says, and leave with
the person's export and erasure (bot.supervision.privacy).

Every relayed message is an outbox row keyed by the message's own key (from
the platform's event id), so a retry or a restart sends it once; rows to a
staff member wait for the end of *their* quiet hours unless the conversation
is about safety. A conversation is open until either side closes it or it is
idle too long; a request nobody answers in time is escalated to the person's
officers (or the on-duty staff).
"""

from __future__ import annotations

import datetime as dt
import json
import statistics
from dataclasses import dataclass

from sqlalchemy import delete, select, update
from sqlalchemy.orm import Session

from bot.outbox import enqueue
from bot.storage.db import insert_for
from bot.storage.models import (
    ChannelIdentity,
    OutboxMessage,
    Person,
    RelayConversation,
    RelayMessage,
    StaffSettings,
)
from bot.supervision.alerts import mentors_of, officers_of, payload
from bot.supervision.handover import STAFF_ROLES, on_duty_staff, reachable
from bot.supervision.people import audit, may_see, person as get_person
from vietnamese.clock import VIETNAM_TZ

MAX_TEXT = 2000            # a relayed text longer than this is cut (every channel takes 2000)
RECENT_WORDS = 3           # how many of the person's own messages go with a request
ZALO_WINDOW = dt.timedelta(hours=48)
DEFAULT_QUIET = (21, 7)

# Button payloads the gateway handles itself (never Rasa).
OPEN_INTENT, CLOSE_INTENT = "relay_open", "relay_close"
CLOSE_PAYLOAD = f"/{CLOSE_INTENT}"


class NotAllowed(PermissionError):
    """The viewer may not see this person (role scope)."""


def open_payload(person_id: str) -> str:
    return payload(OPEN_INTENT, person_id=person_id)


# --- quiet hours a staff member sets for themselves ---------------------------------------


def quiet_hours(s: Session, staff_id: str) -> tuple[int, int]:
    row = s.get(StaffSettings, staff_id)
    return (row.quiet_from, row.quiet_until) if row is not None else DEFAULT_QUIET


def set_quiet_hours(s: Session, staff_id: str, start: int, end: int, now: dt.datetime) -> None:
    """``start == end``: no quiet hours. Hours in Vietnam time, 0–23."""
    if not (0 <= start <= 23 and 0 <= end <= 23):
        raise ValueError("quiet hours are 0 to 23")
    row = s.get(StaffSettings, staff_id)
    if row is None:
        s.add(StaffSettings(person_id=staff_id, quiet_from=start, quiet_until=end, updated_at=now))
    else:
        row.quiet_from, row.quiet_until, row.updated_at = start, end, now
    audit(s, f"person:{staff_id}", "set_quiet_hours", staff_id, start=start, end=end)


def quiet_end(s: Session, staff_id: str, now: dt.datetime) -> dt.datetime | None:
    """When the staff member's quiet hours end, if they are in them now."""
    start, end = quiet_hours(s, staff_id)
    if start == end:
        return None
    local = now.astimezone(VIETNAM_TZ)
    inside = (start <= local.hour or local.hour < end) if start > end else (start <= local.hour < end)
    if not inside:
        return None
    day = local.date() if local.hour < end else local.date() + dt.timedelta(days=1)
    return dt.datetime.combine(day, dt.time(end), VIETNAM_TZ).astimezone(dt.timezone.utc)


# --- who and how a message reaches ------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """What became of one relayed message or notification."""
    queued: bool                       # False: nobody could be reached at all
    at: dt.datetime | None = None      # when it goes (later than now: quiet hours)
    waits_for_window: bool = False     # only a closed Zalo OA window reaches them: until they write


def _chats(s: Session, person_id: str) -> list[ChannelIdentity]:
    return list(s.scalars(select(ChannelIdentity).where(
        ChannelIdentity.person_id == person_id, ChannelIdentity.unreachable_at.is_(None),
        ~ChannelIdentity.external_id.startswith("erased:"))))


def _window_closed(chats: list[ChannelIdentity], now: dt.datetime) -> bool:
    """Every chat the person has is a Zalo OA chat whose 48-hour window is shut."""
    return bool(chats) and all(c.channel == "zalo_oa" and (c.last_inbound_at is None or
                                                           c.last_inbound_at < now - ZALO_WINDOW) for c in chats)


def _queue(s: Session, key: str, kind: str, recipient_id: str, now: dt.datetime, *, staff_quiet: bool,
           safety: bool, body: dict, subject_id: str | None = None) -> Delivery:
    chats = _chats(s, recipient_id)
    if not chats:
        return Delivery(False)
    at = now
    if staff_quiet and not safety:
        at = quiet_end(s, recipient_id, now) or now
    # critical: the product-wide night hold does not apply; the staff member's own quiet hours did, above.
    enqueue(s, key[:160], kind, recipient_id, at, critical=True, subject_id=subject_id,
            body=json.dumps(body, ensure_ascii=False))
    return Delivery(True, at, _window_closed(chats, now))


# --- opening ------------------------------------------------------------------------------


def open_for_person(s: Session, person_id: str) -> RelayConversation | None:
    return s.scalar(select(RelayConversation).where(RelayConversation.person_id == person_id,
                                                    RelayConversation.status == "open")
                    .order_by(RelayConversation.id.desc()).limit(1))


def focus_for_staff(s: Session, staff_id: str) -> RelayConversation | None:
    """The conversation a staff member's typed messages go to: the open one
    they joined last."""
    return s.scalar(select(RelayConversation).where(RelayConversation.staff_id == staff_id,
                                                    RelayConversation.status == "open",
                                                    RelayConversation.joined_at.is_not(None))
                    .order_by(RelayConversation.joined_at.desc(), RelayConversation.id.desc()).limit(1))


def target_staff(s: Session, p: Person) -> Person | None:
    """Whom a person's request goes to: their mentor, else an officer of their
    commune, else the on-duty staff; the first with a chat."""
    ids = [*mentors_of(s, p), *officers_of(s, p.commune_id), *(x.id for x in on_duty_staff(s))]
    for staff_id in dict.fromkeys(ids):
        if staff_id != p.id and reachable(s, staff_id):
            return s.get(Person, staff_id)
    return None


@dataclass(frozen=True)
class Requested:
    conversation: RelayConversation | None
    staff: Person | None
    delivery: Delivery
    new: bool


def request(s: Session, p: Person, key: str, words: list[str], now: dt.datetime, *, safety: bool = False,
            staff: Person | None = None) -> Requested:
    """The person asked for a human: open (or reuse) their conversation and
    tell the staff member, with the last few messages the person chose to
    send (``words``; never inferred case data). ``key`` makes a retried
    request queue nothing new."""
    conv = open_for_person(s, p.id)
    staff = staff or (s.get(Person, conv.staff_id) if conv is not None else None) or target_staff(s, p)
    if staff is None:
        return Requested(None, None, Delivery(False), False)
    new = conv is None
    if conv is None:
        conv = RelayConversation(person_id=p.id, staff_id=staff.id, status="open", safety=safety,
                                 opened_by="person", requested_at=now, last_activity_at=now)
        s.add(conv)
        s.flush()
        audit(s, f"person:{p.id}", "relay_request", p.id, conversation=conv.id, staff=staff.id, safety=safety)
    elif safety and not conv.safety:
        conv.safety = True
    body = {"conversation": conv.id, "words": [w[:MAX_TEXT] for w in words[-RECENT_WORDS:]], "safety": safety}
    delivery = _queue(s, f"relay_request:{conv.id}:{key}:{staff.id}", "relay_request", staff.id, now,
                      staff_quiet=True, safety=conv.safety, body=body, subject_id=p.id)
    return Requested(conv, staff, delivery, new)


def staff_open(s: Session, staff_id: str, person_id: str, now: dt.datetime) -> RelayConversation:
    """A staff member opens (or joins) the conversation with a person they may
    see; NotAllowed otherwise. The person is told that they joined."""
    staff = get_person(s, staff_id)
    if staff.role not in STAFF_ROLES or staff_id == person_id or not may_see(s, staff_id, person_id):
        audit(s, f"person:{staff_id}", "relay_open_refused", person_id)
        raise NotAllowed(person_id)
    subject = get_person(s, person_id)
    conv = open_for_person(s, subject.id)
    if conv is None:
        conv = RelayConversation(person_id=subject.id, staff_id=staff_id, status="open", opened_by="staff",
                                 requested_at=now, last_activity_at=now)
        s.add(conv)
        s.flush()
    if conv.staff_id != staff_id or conv.joined_at is None:
        conv.staff_id, conv.joined_at, conv.last_activity_at = staff_id, now, now
        _queue(s, f"relay_notice:{conv.id}:joined:{staff_id}:{now.isoformat()}", "relay_notice", subject.id, now,
               staff_quiet=False, safety=True, body={"conversation": conv.id, "event": "joined", "staff": staff_id},
               subject_id=subject.id)
    else:
        conv.joined_at = now   # the focus comes back to it
    audit(s, f"person:{staff_id}", "relay_open", subject.id, conversation=conv.id)
    return conv


# --- relaying -------------------------------------------------------------------------------


def append(s: Session, conv: RelayConversation, sender: str, text: str, key: str, now: dt.datetime) -> Delivery:
    """Store one message of ``sender`` ("person" or "staff") and queue it to
    the other side, once per ``key``."""
    new = s.execute(insert_for(s)(RelayMessage).values(
        key=key[:160], conversation_id=conv.id, sender=sender, text=text[:MAX_TEXT], at=now,
    ).on_conflict_do_nothing(index_elements=["key"]).returning(RelayMessage.id)).first()
    message_id = new[0] if new is not None else s.scalar(select(RelayMessage.id).where(RelayMessage.key == key[:160]))
    if new is not None:
        conv.last_activity_at = now
        if sender == "staff" and conv.first_reply_at is None:
            conv.first_reply_at = now
            if conv.joined_at is None:
                conv.joined_at = now
    to_staff = sender == "person"
    recipient = conv.staff_id if to_staff else conv.person_id
    return _queue(s, f"relay:{key}", "relay", recipient, now, staff_quiet=to_staff, safety=conv.safety,
                  body={"conversation": conv.id, "message": message_id}, subject_id=conv.person_id)


def mark_safety(s: Session, conv: RelayConversation) -> None:
    conv.safety = True


# --- closing ------------------------------------------------------------------------------------


def close(s: Session, conv: RelayConversation, by: str, now: dt.datetime, *, tell: tuple[str, ...] = ()) -> None:
    """Close it; ``tell`` the sides ("person", "staff") who did not close it themselves."""
    if conv.status != "open":
        return
    conv.status, conv.closed_at, conv.closed_by = "closed", now, by
    for side in tell:
        recipient = conv.person_id if side == "person" else conv.staff_id
        _queue(s, f"relay_notice:{conv.id}:closed:{side}", "relay_notice", recipient, now, staff_quiet=side == "staff",
               safety=conv.safety, body={"conversation": conv.id, "event": "closed", "by": by},
               subject_id=conv.person_id)
    audit(s, by, "relay_close", conv.person_id, conversation=conv.id)


def close_idle(s: Session, now: dt.datetime, idle: dt.timedelta) -> int:
    convs = list(s.scalars(select(RelayConversation).where(RelayConversation.status == "open",
                                                           RelayConversation.last_activity_at < now - idle)))
    for conv in convs:
        close(s, conv, "idle", now, tell=("person", "staff"))
    return len(convs)


def escalate(s: Session, now: dt.datetime, within: dt.timedelta) -> int:
    """Requests not answered within ``within``: the person's officers (or the
    on-duty staff) are asked to step in, once per conversation."""
    convs = list(s.scalars(select(RelayConversation).where(
        RelayConversation.status == "open", RelayConversation.opened_by == "person",
        RelayConversation.first_reply_at.is_(None), RelayConversation.escalated_at.is_(None),
        RelayConversation.requested_at < now - within)))
    for conv in convs:
        p = s.get(Person, conv.person_id)
        if p is None or p.erased_at is not None:
            continue
        ids = [*officers_of(s, p.commune_id), *(x.id for x in on_duty_staff(s) if x.role in ("officer", "admin"))]
        told = 0
        for staff_id in dict.fromkeys(i for i in ids if i != conv.staff_id):
            d = _queue(s, f"relay_escalation:{conv.id}:{staff_id}", "relay_escalation", staff_id, now,
                       staff_quiet=True, safety=conv.safety, body={"conversation": conv.id}, subject_id=p.id)
            told += d.queued
        conv.escalated_at = now
        audit(s, "system", "relay_escalate", p.id, conversation=conv.id, recipients=told)
    return len(convs)


# --- reading (role-scoped, audited): for the chat and the staff console ----------------------------


def list_open(s: Session, viewer_id: str) -> list[RelayConversation]:
    """Open conversations with people the viewer may see."""
    viewer = get_person(s, viewer_id)
    if viewer.role not in STAFF_ROLES:
        raise NotAllowed(viewer_id)
    convs = [c for c in s.scalars(select(RelayConversation).where(RelayConversation.status == "open")
                                  .order_by(RelayConversation.last_activity_at.desc()))
             if c.staff_id == viewer_id or may_see(s, viewer_id, c.person_id)]
    audit(s, f"person:{viewer_id}", "relay_list", None, count=len(convs))
    return convs


def read(s: Session, viewer_id: str, conversation_id: int) -> list[RelayMessage]:
    """The messages of one conversation, for staff who may see the person. Audited."""
    conv = s.get(RelayConversation, conversation_id)
    if conv is None:
        raise NotAllowed(str(conversation_id))
    viewer = get_person(s, viewer_id)
    if viewer.role not in STAFF_ROLES or not (conv.staff_id == viewer_id or may_see(s, viewer_id, conv.person_id)):
        audit(s, f"person:{viewer_id}", "relay_read_refused", conv.person_id, conversation=conv.id)
        raise NotAllowed(str(conversation_id))
    msgs = list(s.scalars(select(RelayMessage).where(RelayMessage.conversation_id == conv.id)
                          .order_by(RelayMessage.at, RelayMessage.id)))
    audit(s, f"person:{viewer_id}", "relay_read", conv.person_id, conversation=conv.id, count=len(msgs))
    return msgs


# --- responsiveness ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Responsiveness:
    requests: int
    median_s: float | None        # request → first staff reply, over the answered ones
    unanswered: int               # not answered within the configured time (still open or answered late)


def responsiveness(s: Session, since: dt.datetime, now: dt.datetime, within: dt.timedelta,
                   commune_ids: list[int] | None = None, *, until: dt.datetime | None = None,
                   person_ids: list[str] | None = None) -> Responsiveness:
    """Requests made from ``since`` (up to ``until``, if given), of the
    communes' or the given people's (the console's chart scopes)."""
    q = select(RelayConversation).where(RelayConversation.opened_by == "person",
                                        RelayConversation.requested_at >= since)
    if until is not None:
        q = q.where(RelayConversation.requested_at < until)
    if person_ids is not None:
        q = q.where(RelayConversation.person_id.in_(person_ids))
    if commune_ids is not None:
        q = q.join(Person, Person.id == RelayConversation.person_id).where(Person.commune_id.in_(commune_ids))
    convs = list(s.scalars(q))
    waits = [(c.first_reply_at - c.requested_at).total_seconds() for c in convs if c.first_reply_at is not None]
    late = sum(1 for c in convs if (c.first_reply_at or now) - c.requested_at > within
               and (c.first_reply_at is not None or c.status == "open" or c.closed_at - c.requested_at > within))
    return Responsiveness(len(convs), statistics.median(waits) if waits else None, late)


# --- retention, export, erasure --------------------------------------------------------------------------


def purge(s: Session, now: dt.datetime, days: int) -> int:
    """Relayed texts older than the retention setting; closed conversations with them."""
    n = s.execute(delete(RelayMessage).where(RelayMessage.at < now - dt.timedelta(days=days))).rowcount
    return n


def export(s: Session, person_id: str) -> list[dict]:
    out = []
    for conv in s.scalars(select(RelayConversation).where(RelayConversation.person_id == person_id)
                          .order_by(RelayConversation.id)):
        out.append({"requested_at": conv.requested_at.isoformat(), "status": conv.status,
                    "closed_at": conv.closed_at.isoformat() if conv.closed_at else None,
                    "messages": [{"from": m.sender, "at": m.at.isoformat(), "text": m.text}
                                 for m in s.scalars(select(RelayMessage).where(RelayMessage.conversation_id == conv.id)
                                                    .order_by(RelayMessage.at, RelayMessage.id))]})
    return out


def erase(s: Session, person_id: str, now: dt.datetime) -> int:
    """The person's relayed texts go; their conversations are closed."""
    ids = list(s.scalars(select(RelayConversation.id).where(RelayConversation.person_id == person_id)))
    n = s.execute(delete(RelayMessage).where(RelayMessage.conversation_id.in_(ids))).rowcount if ids else 0
    s.execute(update(RelayConversation).where(RelayConversation.id.in_(ids), RelayConversation.status == "open")
              .values(status="closed", closed_at=now, closed_by="erased"))
    s.execute(update(OutboxMessage).where(OutboxMessage.kind.like("relay%"), OutboxMessage.status == "pending",
                                          OutboxMessage.subject_id == person_id).values(status="cancelled"))
    return n
