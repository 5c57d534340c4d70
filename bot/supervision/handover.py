"""Reaching a person: a crisis, a press of "Gặp cán bộ", a worrying check-in or
an offer taken to tell the mentor becomes outbox rows to real people, and the
person is told exactly who was told and when.

* An enrolled person: an alert (``bot.supervision.alerts.raise_alert``) to their mentor
  and their commune's officers, carrying the person's own words.
* Anyone else, or an enrolled person none of whose helpers has a chat: the
  staff marked on duty (``admin on-duty``), as ``handover`` rows.

"Told" counts only rows queued for someone with a reachable chat, and says
when the row goes: at once (critical, or outside quiet hours) or at 07:00.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.supervision.alerts import raise_alert
from vietnamese.clock import VIETNAM_TZ
from bot.domain.knowledge import KnowledgeBase
from bot.i18n import N_, gettext, knowledge_text
from bot.outbox import enqueue, next_delivery
from bot.supervision.people import audit
from bot.storage.models import Alert, ChannelIdentity, Person, OutboxMessage

STAFF_ROLES = ("mentor", "officer", "admin")
ROLE_LABELS = {
    "mentor": N_("your mentor"),
    "officer": N_("your commune officer"),
    "admin": N_("the staff on duty"),
    "on_duty": N_("the staff on duty"),
}


@dataclass(frozen=True)
class Told:
    role: str            # "mentor" | "officer" | "on_duty"
    name: str
    at: dt.datetime      # when the message goes: now, or when the quiet hours end


def reachable(s: Session, person_id: str) -> bool:
    """Has the person a chat the product can write to now?"""
    return s.scalar(select(ChannelIdentity.id).where(ChannelIdentity.person_id == person_id,
                                                     ChannelIdentity.unreachable_at.is_(None),
                                                     ~ChannelIdentity.external_id.startswith("erased:"))
                    .limit(1)) is not None


def _told(s: Session, rows: list[OutboxMessage], role_of, now: dt.datetime) -> list[Told]:  # noqa: ANN001
    told = []
    for r in rows:
        if r.status in ("failed", "cancelled"):
            continue
        recipient = s.get(Person, r.person_id)
        if recipient is None or recipient.erased_at is not None or not reachable(s, recipient.id):
            continue
        at = r.sent_at or next_delivery(max(now, r.next_attempt_at), r.critical)
        told.append(Told(role_of(recipient), recipient.display_name, at))
    return told


def told_about(s: Session, alert: Alert, now: dt.datetime) -> list[Told]:
    """Who an alert was queued for, with a chat that reaches them, and when."""
    rows = list(s.scalars(select(OutboxMessage).where(OutboxMessage.alert_id == alert.id, OutboxMessage.kind == "alert")
                          .order_by(OutboxMessage.id)))
    return _told(s, rows, lambda p: "mentor" if p.role == "mentor" else "officer", now)


def alert_person(s: Session, person: Person, key: str, kind: str, severity: str, now: dt.datetime, *,
                 note: str | None = None, detail: str | None = None, officers: bool = True) -> tuple[Alert, list[Told]]:
    alert = raise_alert(s, person, key, kind, severity, now, detail=detail, note=note, officers=officers)
    return alert, told_about(s, alert, now)


def on_duty_staff(s: Session) -> list[Person]:
    return list(s.scalars(select(Person).where(Person.on_duty.is_(True), Person.role.in_(STAFF_ROLES),
                                               Person.erased_at.is_(None)).order_by(Person.created_at)))


def alert_on_duty(s: Session, conversation_id: str, key: str, words: str, critical: bool,
                  now: dt.datetime) -> list[Told]:
    """A handover row to each on-duty staff member with a chat; ``key`` makes a
    retried message or a second press of the button queue nothing new."""
    body = json.dumps({"note": words[:2000], "conversation": conversation_id[:8]}, ensure_ascii=False)
    for staff in on_duty_staff(s):
        if reachable(s, staff.id):
            enqueue(s, f"handover:{conversation_id}:{key}:{staff.id}"[:160], "handover", staff.id, now,
                    critical=critical, body=body)
    rows = list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "handover",
                                                 OutboxMessage.key.like(f"handover:{conversation_id}:{key}:%"))
                          .order_by(OutboxMessage.id)))
    audit(s, f"identity:{conversation_id}", "handover_on_duty", None, recipients=len(rows), critical=critical)
    return _told(s, rows, lambda p: "on_duty", now)


def enrolled_person(s: Session, conversation_id: str) -> Person | None:
    identity = s.get(ChannelIdentity, conversation_id)
    if identity is None or identity.person_id is None:
        return None
    person = s.get(Person, identity.person_id)
    return person if person is not None and person.erased_at is None else None


def reach(s: Session, conversation_id: str, key: str, kind: str, words: str, critical: bool,
          now: dt.datetime, severity: str | None = None) -> tuple[Person | None, list[Told]]:
    """Tell a person about this conversation: the enrolled person's mentor and
    officers, else (or if none of them has a chat) the on-duty staff."""
    person = enrolled_person(s, conversation_id)
    told: list[Told] = []
    if person is not None:
        _, told = alert_person(s, person, f"{kind}:{conversation_id}:{key}"[:160], kind,
                               severity or ("critical" if critical else "high"), now, note=words)
    if not told:
        told = alert_on_duty(s, conversation_id, key, words, critical, now)
    return person, told


# --- what the person is told ------------------------------------------------------


def local_hhmm(at: dt.datetime) -> str:
    return at.astimezone(VIETNAM_TZ).strftime("%H:%M")


def _group(told: list[Told], locale: str) -> str:
    parts: list[str] = []
    for role in ("mentor", "officer", "on_duty"):
        names = [t.name for t in told if t.role == role]
        if names:
            parts.append(f"{gettext(ROLE_LABELS[role], locale)} ({', '.join(dict.fromkeys(names))})")
    return gettext(" and ", locale).join(parts)


def told_sentence(told: list[Told], now: dt.datetime, locale: str) -> str:
    """"I told … at 23:00" / "I will tell … at 07:00" / both, from what was queued."""
    now_told = [t for t in told if t.at <= now + dt.timedelta(minutes=1)]
    later = [t for t in told if t not in now_told]
    sentences = []
    if now_told:
        sentences.append(gettext("I have passed this on to {who} just now ({time}), with your words.",
                                 locale).format(who=_group(now_told, locale), time=local_hhmm(now)))
    if later:
        sentences.append(gettext("It is night now: {who} will get your message at {time}.", locale).format(
            who=_group(later, locale), time=local_hhmm(min(t.at for t in later))))
    return " ".join(sentences)


def nobody_sentence(locale: str) -> str:
    return gettext("Nobody is on duty to receive this here right now, so I have not passed it on to anyone. "
                   "Please call one of the numbers below.", locale)


# --- support lines (data/knowledge/support_lines.yml) -----------------------------------


@dataclass(frozen=True)
class Line:
    number: str
    name: str
    serves: str
    hours: str
    police: bool
    crisis: bool
    source: str


def support_lines(kb: KnowledgeBase, day: dt.date, locale: str) -> list[Line]:
    en = locale == "en"
    lines = []
    for fact in kb.facts:
        if not fact.id.startswith("support_line.") or not fact.valid_on(day):
            continue
        for row in fact.value:
            lines.append(Line(str(row["number"]), row["name_en" if en else "name_vi"],
                              row["serves_en" if en else "serves_vi"], row["hours_en" if en else "hours_vi"],
                              bool(row.get("police")), bool(row.get("crisis")),
                              "; ".join(src.cite(lambda t: knowledge_text(t, locale)) for src in fact.sources)))
    return lines


def lines_text(lines: list[Line], locale: str) -> str:
    """• number – name (who, hours), then one source line."""
    rows = [gettext("• {number} – {name} ({serves}; {hours})", locale).format(
        number=x.number, name=x.name, serves=x.serves, hours=x.hours) for x in lines]
    sources = list(dict.fromkeys(x.source for x in lines))
    rows.append(gettext("Sources: {sources}", locale).format(sources="; ".join(sources)))
    return "\n".join(rows)
