"""What each outbox row says, made when it is sent (so a digest counts what is
open at 08:00, and a reminder whose check-in already came is dropped).

Texts are neutral: "Nhắc lịch báo cáo định kỳ", never an offence. A person's
name appears only in messages to their own mentor or officers. Facts with a
legal source (the quarterly report) come from the knowledge base.

Button payloads are Rasa intents with entities, handled by custom actions:
``/checkin``, ``/ack_reminder{"reminder_id": "…"}`` and
``/alert_action{"alert_id": "…", "alert_status": "…"}``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass
from enum import Enum

from sqlalchemy import select
from sqlalchemy.orm import Session

from vietnamese.clock import VIETNAM_TZ, vietnam_date
from bot.config import load_settings
from bot.domain.knowledge import KnowledgeBase
from bot.outbox import Button
from bot.i18n import answer_text, format_date, formatters, gettext, ngettext
from bot.supervision import conversations
from bot.supervision.alerts import alert_buttons, alert_text, display_name as _name, payload
from bot.supervision.people import active_schedule, audit, has_legal_duty
from bot.supervision.reminders import checked_in, quarterly_report_days, overdue_window, quarter_start, upcoming_window
from bot.storage.models import (Alert, ChannelIdentity, CheckinSchedule, OfficerCommune, OutboxMessage, Person,
                                RelayConversation, RelayMessage)

DIGEST_MAX_ALERTS = 5
WAITING = "waiting for the person to write again"



@dataclass(frozen=True)
class Rendered:
    identity: ChannelIdentity
    text: str
    buttons: tuple[Button, ...]


class SkipKind(Enum):
    """What becomes of a row that is not sent (bot.delivery.dispatcher)."""
    CANCEL = "cancel"              # obsolete or gone: cancelled
    UNREACHABLE = "unreachable"    # no channel reaches the recipient: failed for good
    WAIT = "wait"                  # held until the person writes again (status "waiting")


@dataclass(frozen=True)
class Skip:
    kind: SkipKind
    reason: str    # kept as the row's last_error and counted in the dispatcher's stats


def pick_identity(s: Session, person_id: str, channels: frozenset[str]) -> ChannelIdentity | None:
    """The person's most recently used reachable channel among those this process can send on."""
    return s.scalar(select(ChannelIdentity)
                    .where(ChannelIdentity.person_id == person_id, ChannelIdentity.unreachable_at.is_(None),
                           ChannelIdentity.channel.in_(channels))
                    .order_by(ChannelIdentity.last_inbound_at.desc()).limit(1))


def _window_from_key(r: OutboxMessage) -> dt.date:
    return dt.date.fromisoformat(r.key.split(":")[2])


def _checkin_reminder(s: Session, r: OutboxMessage, locale: str, kb: KnowledgeBase, now: dt.datetime):  # noqa: ANN202
    window_start = _window_from_key(r)
    if checked_in(s, r.person_id, window_start):
        return Skip(SkipKind.CANCEL, "already checked in")
    schedule = active_schedule(s, r.person_id)
    if schedule is None:
        return Skip(SkipKind.CANCEL, "no schedule")
    window = upcoming_window(schedule, window_start)
    if window.end < vietnam_date(now):
        return Skip(SkipKind.CANCEL, "the period is over")  # held back (e.g. waiting) too long to be useful
    if window.start == window.end:
        when = format_date(window.start, locale)
    else:
        when = gettext("{start} to {end}", locale).format(start=format_date(window.start, locale),
                                                         end=format_date(window.end, locale))
    person = s.get(Person, r.person_id)
    if person is not None and not has_legal_duty(person, vietnam_date(now)):
        # No legal duty to report: a check-in is help from the mentor, said as such.
        if r.kind == "checkin_eve":
            text = gettext("Reminder: your check-in with your mentor is tomorrow ({when}). It is voluntary, "
                           "not a legal duty.", locale)
        else:
            text = gettext("Reminder: your check-in with your mentor is today ({when}). It is voluntary, "
                           "not a legal duty. You can check in here now.", locale)
    elif r.kind == "checkin_eve":
        text = gettext("Reminder of your regular report: your reporting period starts tomorrow ({when}).", locale)
    else:
        text = gettext("Reminder of your regular report: your reporting period starts today ({when}). "
                       "You can report here now.", locale)
    return text.format(when=when), (
        Button(gettext("Report now", locale), payload("checkin")),
        Button(gettext("Got it", locale), payload("ack_reminder", reminder_id=str(r.id))),
    )


def _missed_mentor(s: Session, r: OutboxMessage, locale: str, kb: KnowledgeBase, now: dt.datetime):  # noqa: ANN202
    window_start = _window_from_key(r)
    if checked_in(s, r.subject_id, window_start):
        return Skip(SkipKind.CANCEL, "checked in since")
    subject = s.get(Person, r.subject_id)
    return gettext("{name} has not sent the report for the period starting {start}. "
                   "Could you get in touch with them?", locale).format(
        name=_name(subject, locale), start=format_date(window_start, locale)), (
        Button(gettext("Got it", locale), payload("ack_reminder", reminder_id=str(r.id))),
        _message_button(subject, locale))


def _alert(s: Session, r: OutboxMessage, locale: str, kb: KnowledgeBase, now: dt.datetime):  # noqa: ANN202
    alert = s.get(Alert, r.alert_id)
    if alert is None:
        return Skip(SkipKind.CANCEL, "alert gone")
    if alert.status != "open":
        return Skip(SkipKind.CANCEL, "alert already handled")
    audit(s, "system", "notify_alert", alert.person_id, alert_id=alert.id, recipient=r.person_id)
    return alert_text(s, alert, locale), (*alert_buttons(alert, locale),
                                          _message_button(s.get(Person, alert.person_id), locale))


def _handover(s: Session, r: OutboxMessage, locale: str, kb: KnowledgeBase, now: dt.datetime):  # noqa: ANN202
    """Someone who is not enrolled (or whose helpers have no chat) reached out;
    the on-duty staff get their words and the conversation's short reference."""
    body = json.loads(r.body or "{}")
    audit(s, "system", "notify_handover", None, recipient=r.person_id)
    text = gettext("Lối Về: someone who is not registered with an officer wrote in distress and asked for a "
                   "person (conversation {ref}). They were given the emergency numbers; Lối Về cannot pass a "
                   "reply back to them.", locale).format(
        ref=body.get("conversation", "?"))
    if body.get("note"):
        text += "\n" + gettext("Their words: \u201c{note}\u201d", locale).format(note=body["note"])
    return text, ()


def _mentor_visit(s: Session, r: OutboxMessage, locale: str, kb: KnowledgeBase, now: dt.datetime):  # noqa: ANN202
    subject = s.get(Person, r.subject_id)
    if subject is None or subject.erased_at is not None:
        return Skip(SkipKind.CANCEL, "person erased")
    return gettext("Reminder: it is time to visit {name} and ask how things are going.", locale).format(
        name=_name(subject, locale)), (Button(gettext("Got it", locale), payload("ack_reminder", reminder_id=str(r.id))),)


def _quarterly(s: Session, r: OutboxMessage, locale: str, kb: KnowledgeBase, now: dt.datetime):  # noqa: ANN202
    day = vietnam_date(now)
    start = quarter_start(day)
    answer = kb.render(kb.entry("notice.quarterly_report", day), day, formatters(locale))
    deadline = format_date(start + dt.timedelta(days=quarterly_report_days(start, kb) - 1), locale)
    text = gettext("Reminder of the quarterly report, due by {deadline}.", locale).format(deadline=deadline)
    return f"{text}\n{answer_text(answer, locale)}", (
        Button(gettext("Got it", locale), payload("ack_reminder", reminder_id=str(r.id))),)


def overdue(s: Session, commune_ids: list[int], now: dt.datetime) -> list[Person]:
    """Supervisees of these communes with a legal duty to report whose last
    window's deadline passed without a check-in (voluntary check-ins are the
    mentor's, not the officer's)."""
    rows = s.execute(select(CheckinSchedule, Person).join(Person, Person.id == CheckinSchedule.person_id)
                     .where(CheckinSchedule.active.is_(True), Person.erased_at.is_(None),
                            Person.commune_id.in_(commune_ids))).all()
    today = vietnam_date(now)
    return [person for schedule, person in rows
            if has_legal_duty(person, today) and overdue_window(s, schedule, now) is not None]


def _duty_ended(s: Session, r: OutboxMessage, locale: str, kb: KnowledgeBase, now: dt.datetime):  # noqa: ANN202
    person = s.get(Person, r.person_id)
    if person is None or person.erased_at is not None:
        return Skip(SkipKind.CANCEL, "person erased")
    if person.legal_status != "completed":
        return Skip(SkipKind.CANCEL, "status changed since")
    until = person.legal_duty_until
    return gettext("Your sentence in the community ended on {date}: you no longer have a legal duty to report. "
                   "You can keep checking in with your mentor if you wish; it is voluntary, and a missed "
                   "check-in is not reported to the police.", locale).format(
        date=format_date(until, locale) if until else "-"), (
        Button(gettext("Got it", locale), payload("ack_reminder", reminder_id=str(r.id))),)


def _digest(s: Session, r: OutboxMessage, locale: str, kb: KnowledgeBase, now: dt.datetime):  # noqa: ANN202
    if r.key.rsplit(":", 1)[1] != vietnam_date(now).isoformat():
        return Skip(SkipKind.CANCEL, "stale digest")  # a new one comes this morning
    communes = list(s.scalars(select(OfficerCommune.commune_id).where(OfficerCommune.officer_id == r.person_id)))
    alerts = list(s.scalars(select(Alert).where(Alert.commune_id.in_(communes), Alert.status == "open")
                            .order_by(Alert.created_at)))
    late = overdue(s, communes, now)
    if not alerts and not late:
        return Skip(SkipKind.CANCEL, "nothing to report")
    audit(s, "system", "digest", None, recipient=r.person_id, alerts=len(alerts), overdue=len(late))
    lines = [gettext("Morning summary for {date}:", locale).format(
        date=format_date(vietnam_date(now), locale)),
        ngettext("{n} open alert", "{n} open alerts", len(alerts), locale).format(n=len(alerts)) + "; "
        + ngettext("{n} person has not reported on time", "{n} people have not reported on time", len(late),
                   locale).format(n=len(late)) + "."]
    lines += [f"• {alert_text(s, a, locale)}" for a in alerts[:DIGEST_MAX_ALERTS]]
    if len(alerts) > DIGEST_MAX_ALERTS:
        lines.append(gettext("…and {n} more (python -m bot admin list-alerts).", locale).format(
            n=len(alerts) - DIGEST_MAX_ALERTS))
    within = load_settings().relay_answer_within_minutes
    r = conversations.responsiveness(s, now - dt.timedelta(days=7), now, dt.timedelta(minutes=within), communes)
    if r.requests:
        lines.append(gettext("Requests to talk (7 days): {n}; median time to first reply {median} min; not answered "
                             "within {within} min: {late}.", locale).format(
            n=r.requests, median="-" if r.median_s is None else f"{r.median_s / 60:.0f}", within=within,
            late=r.unanswered))
    if late:
        lines.append(gettext("Not reported: {names}.", locale).format(
            names=", ".join(_name(p, locale) for p in late[:10]) + ("…" if len(late) > 10 else "")))
    buttons = tuple(Button(gettext("Handle #{id}", locale).format(id=a.id), payload("alert_action", alert_id=str(a.id)))
                    for a in alerts[:DIGEST_MAX_ALERTS])
    return "\n".join(lines), buttons


def _milestone(s: Session, r: OutboxMessage, locale: str, kb: KnowledgeBase, now: dt.datetime):  # noqa: ANN202
    day = vietnam_date(now)
    answer = kb.render(kb.entry("notice.expungement_milestone", day), day, formatters(locale))
    text = gettext("Congratulations! By the date you calculated, today your record may be cleared.", locale)
    return f"{text}\n{answer_text(answer, locale)}", (
        Button(gettext("Ask about the record extract", locale), payload("ask_criminal_record")),)


def _streak(s: Session, r: OutboxMessage, locale: str, kb: KnowledgeBase, now: dt.datetime):  # noqa: ANN202
    n = int(r.key.split(":")[2])
    return ngettext("You have reported on time {n} period in a row. Thank you, and keep it up!",
                    "You have reported on time {n} periods in a row. Thank you, and keep it up!", n,
                    locale).format(n=n), ()


def _stalled(s: Session, r: OutboxMessage, locale: str, kb: KnowledgeBase, now: dt.datetime):  # noqa: ANN202
    return gettext("Lối Về: the reminder scheduler has not run for over 10 minutes. Please check the server.",
                   locale), ()


def _staff_signin(s: Session, r: OutboxMessage, locale: str, kb: KnowledgeBase, now: dt.datetime):  # noqa: ANN202
    """A staff member asked to sign in to the console (bot/console/auth.py): the
    one-time code and link, useless once expired (then never sent)."""
    body = json.loads(r.body or "{}")
    try:
        expires = dt.datetime.fromisoformat(body["expires"])
    except (KeyError, TypeError, ValueError):
        return Skip(SkipKind.CANCEL, "malformed sign-in")
    if expires <= now:
        return Skip(SkipKind.CANCEL, "sign-in expired")
    text = gettext("Lối Về staff console: your sign-in code is {code}. It works once, for {minutes} minutes. "
                   "Or open: {link}\nIf you did not ask to sign in, ignore this message.", locale).format(
        code=body.get("code", "?"), link=body.get("link", ""),
        minutes=max(1, round((expires - now).total_seconds() / 60)))
    return text, ()

# --- relayed conversations (bot.supervision.conversations) ---------------------------------------


def _close_button(locale: str) -> Button:
    return Button(gettext("End conversation", locale), "/relay_close")


def _message_button(subject: Person | None, locale: str) -> Button:
    return Button(gettext("Message {name}", locale).format(name=_name(subject, locale)),
                  payload("relay_open", person_id=subject.id if subject else ""))


def _relay_conversation(s: Session, r: OutboxMessage) -> RelayConversation | None:
    conv = s.get(RelayConversation, json.loads(r.body or "{}").get("conversation"))
    return conv


def _relay(s: Session, r: OutboxMessage, locale: str, kb: KnowledgeBase, now: dt.datetime):  # noqa: ANN202
    body = json.loads(r.body or "{}")
    msg = s.get(RelayMessage, body.get("message"))
    conv = _relay_conversation(s, r)
    if msg is None or conv is None:
        return Skip(SkipKind.CANCEL, "message gone")
    if msg.sender == "person":
        sender = s.get(Person, conv.person_id)
        audit(s, "system", "relay_deliver", conv.person_id, conversation=conv.id, recipient=r.person_id)
        if conv.joined_at is None or conv.staff_id != r.person_id:
            buttons: tuple[Button, ...] = (_message_button(sender, locale),)
        else:
            buttons = (_close_button(locale),)
    else:   # no button: a typed "1" on Zalo's numbered choices must not end the conversation
        sender = s.get(Person, conv.staff_id)
        buttons = ()
    return f"{_name(sender, locale)}: {msg.text}", buttons


def _relay_request(s: Session, r: OutboxMessage, locale: str, kb: KnowledgeBase, now: dt.datetime):  # noqa: ANN202
    body = json.loads(r.body or "{}")
    conv = _relay_conversation(s, r)
    if conv is None or conv.status != "open":
        return Skip(SkipKind.CANCEL, "conversation closed")
    subject = s.get(Person, conv.person_id)
    audit(s, "system", "notify_relay_request", conv.person_id, conversation=conv.id, recipient=r.person_id)
    if body.get("safety"):
        text = gettext("Lối Về: {name} asked to talk with you, after a message about their safety.", locale)
    else:
        text = gettext("Lối Về: {name} asked to talk with you.", locale)
    lines = [text.format(name=_name(subject, locale))]
    words = body.get("words") or []
    if words:
        lines.append(gettext("Their last messages:", locale))
        lines += [f"\u201c{w}\u201d" for w in words]
    lines.append(gettext("Press the button to answer them here; what you write is passed on to them.", locale))
    return "\n".join(lines), (_message_button(subject, locale),)


def _relay_escalation(s: Session, r: OutboxMessage, locale: str, kb: KnowledgeBase, now: dt.datetime):  # noqa: ANN202
    conv = _relay_conversation(s, r)
    if conv is None or conv.status != "open" or conv.first_reply_at is not None:
        return Skip(SkipKind.CANCEL, "answered or closed since")
    subject = s.get(Person, conv.person_id)
    return gettext("Lối Về: {name} asked to talk with their mentor at {time} and nobody has answered yet. "
                   "Could you answer them?", locale).format(
        name=_name(subject, locale), time=conv.requested_at.astimezone(VIETNAM_TZ).strftime("%H:%M")), (
        _message_button(subject, locale),)


def _relay_notice(s: Session, r: OutboxMessage, locale: str, kb: KnowledgeBase, now: dt.datetime):  # noqa: ANN202
    body = json.loads(r.body or "{}")
    conv = _relay_conversation(s, r)
    if conv is None:
        return Skip(SkipKind.CANCEL, "conversation gone")
    if body.get("event") == "joined":
        if conv.status != "open":
            return Skip(SkipKind.CANCEL, "conversation closed")
        staff = s.get(Person, body.get("staff"))
        return gettext("{name} has joined the conversation. What you write here now goes to them.",
                       locale).format(name=_name(staff, locale)), (_close_button(locale),)
    if body.get("by") == "idle":
        return gettext("The conversation was closed because nobody wrote for a while. You can ask again any "
                       "time.", locale), ()
    return gettext("The conversation was closed by the other side. You can ask again any time.", locale), ()


RENDERERS = {
    "checkin_eve": _checkin_reminder,
    "checkin_open": _checkin_reminder,
    "missed_mentor": _missed_mentor,
    "alert": _alert,
    "handover": _handover,
    "mentor_visit": _mentor_visit,
    "quarterly_report": _quarterly,
    "digest": _digest,
    "milestone_expungement": _milestone,
    "streak": _streak,
    "scheduler_stalled": _stalled,
    "duty_ended": _duty_ended,
    "staff_signin": _staff_signin,
    "relay": _relay,
    "relay_request": _relay_request,
    "relay_escalation": _relay_escalation,
    "relay_notice": _relay_notice,
}


def _reply(s: Session, r: OutboxMessage, channels: frozenset[str]) -> Rendered | Skip:
    identity = s.get(ChannelIdentity, r.identity_id) if r.identity_id else None
    if identity is None or identity.external_id.startswith("erased:"):
        return Skip(SkipKind.CANCEL, "conversation gone")
    if identity.channel not in channels:
        return Skip(SkipKind.CANCEL, f"channel {identity.channel} is not configured")
    if identity.unreachable_at is not None:
        return Skip(SkipKind.UNREACHABLE, "no reachable channel")
    body = json.loads(r.body or "{}")
    return Rendered(identity, body.get("text", ""),
                    tuple(Button(b["title"], b["payload"]) for b in body.get("buttons", [])))


def render(s: Session, r: OutboxMessage, kb: KnowledgeBase, channels: frozenset[str], now: dt.datetime) -> Rendered | Skip:
    if r.kind == "reply":
        return _reply(s, r, channels)
    recipient = s.get(Person, r.person_id)
    if recipient is None or recipient.erased_at is not None:
        return Skip(SkipKind.CANCEL, "recipient erased")
    if r.subject_id is not None:
        subject = s.get(Person, r.subject_id)
        if subject is None or subject.erased_at is not None:
            return Skip(SkipKind.CANCEL, "subject erased")
    renderer = RENDERERS.get(r.kind)
    if renderer is None:
        return Skip(SkipKind.CANCEL, f"unknown kind {r.kind}")
    identity = pick_identity(s, r.person_id, channels)
    if r.in_doubt and r.identity_id:
        # Ask the chat it may already have reached, not whichever is newest now.
        sent_to = s.get(ChannelIdentity, r.identity_id)
        if sent_to is not None and sent_to.channel in channels and not sent_to.external_id.startswith("erased:"):
            identity = sent_to
    if identity is None:
        linked = s.scalar(select(ChannelIdentity.id).where(ChannelIdentity.person_id == r.person_id).limit(1))
        if linked is not None:  # blocked, unfollowed, outside Zalo's window: until they write again
            return Skip(SkipKind.WAIT, WAITING)
        return Skip(SkipKind.UNREACHABLE, "no reachable channel")
    out = renderer(s, r, identity.locale, kb, now)
    if isinstance(out, Skip):
        return out
    text, buttons = out
    return Rendered(identity, text, tuple(buttons))
