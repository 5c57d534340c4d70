"""The staff menu: what an enrolled mentor, officer or admin sees in their chat
(issue 15), answered by the gateway without Rasa.

Open alerts, my people (status, last check-in, next due), open conversations,
an enrollment code for a person they may see, and their own quiet hours.
Every list is role-scoped (``bot.supervision.people.visible_people``, audited).
A staff member's greeting, "báo cáo", "xem cảnh báo" or the returnee's menu
payloads get this menu, never the returnee's answers.

Payloads: ``/staff_menu``, ``/staff_alerts``, ``/staff_people``,
``/staff_conversations``, ``/staff_quiet`` (``{"hours": "22-6"}``; ``"off"``)
and ``/staff_code{"person_id": …}`` (guarded: accepted only where shown,
bot.conversation.offered, and only for someone they may see).
"""

from __future__ import annotations

import datetime as dt
import json
import re

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from bot.conversation.rasa_client import Button, Reply
from bot.i18n import N_, format_date, gettext
from bot.storage.models import Alert, ChannelIdentity, Checkin, Person
from bot.supervision import conversations
from bot.supervision.alerts import alert_buttons, alert_text, display_name, payload
from bot.supervision.enrollment import issue_enrollment_code
from bot.supervision.handover import STAFF_ROLES
from bot.supervision.people import active_schedule, audit, may_see, visible_people
from bot.supervision.reminders import upcoming_window
from vietnamese.clock import VIETNAM_TZ, vietnam_date

from bot.conversation.relay import _plain  # the same folding of typed text

STAFF_INTENTS = frozenset({"staff_menu", "staff_alerts", "staff_people", "staff_conversations", "staff_quiet",
                           "staff_code"})
# Returnee intents and typed words a staff member gets the staff menu (or alerts) for.
MENU_INTENTS = frozenset({"greet", "help", "checkin", "start"})
MENU_WORDS = frozenset({"menu", "help", "tro giup", "xin chao", "chao", "hi", "hello", "bao cao", "start"})
ALERT_WORDS = frozenset({"xem canh bao", "canh bao", "alerts", "xem bao cao", "bao cao canh bao"})
LIST_MAX = 8
QUIET_PRESETS = (("21-7", N_("21:00 to 07:00")), ("22-6", N_("22:00 to 06:00")), ("off", N_("No quiet hours")))
_INTENT = re.compile(r"^/(?P<intent>[^{@]+)(?:@[0-9.]+)?(?P<entities>\{.+\})?", re.DOTALL)


def menu(locale: str, intro: str | None = None) -> Reply:
    return Reply(intro or gettext("Staff menu: what would you like to see?", locale), (
        Button(gettext("Open alerts", locale), "/staff_alerts"),
        Button(gettext("My people", locale), "/staff_people"),
        Button(gettext("Open conversations", locale), "/staff_conversations"),
        Button(gettext("My notification settings", locale), "/staff_quiet"),
    ))


def staff_of(s: Session, identity_id: str) -> Person | None:
    identity = s.get(ChannelIdentity, identity_id)
    if identity is None or identity.person_id is None:
        return None
    p = s.get(Person, identity.person_id)
    return p if p is not None and p.erased_at is None and p.role in STAFF_ROLES else None


def route(sessions: sessionmaker[Session], settings: Settings, identity_id: str, text: str, locale: str,
          now: dt.datetime) -> list[Reply] | None:
    """The staff menu's answer, or None (not staff, or not a menu matter: Rasa answers)."""
    m = _INTENT.match(text.strip())
    intent = m.group("intent").strip() if m else None
    plain = "" if m else _plain(text)
    if intent not in STAFF_INTENTS and intent not in MENU_INTENTS and plain not in MENU_WORDS | ALERT_WORDS:
        return None
    with sessions.begin() as s:
        staff = staff_of(s, identity_id)
        if staff is None:
            return None
        entities = _entities(m.group("entities") if m else None)
        if intent == "staff_alerts" or plain in ALERT_WORDS:
            return [_alerts(s, staff, locale)]
        if intent == "staff_people":
            return [_people(s, staff, locale, now)]
        if intent == "staff_conversations":
            return [_conversations(s, staff, locale)]
        if intent == "staff_quiet":
            return [_quiet(s, staff, entities.get("hours"), locale, now)]
        if intent == "staff_code":
            return [_code(s, settings, staff, entities.get("person_id"), locale, now)]
        return [menu(locale)]


def _entities(raw: str | None) -> dict:
    try:
        value = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _message(p: Person, locale: str) -> Button:
    return Button(gettext("Message {name}", locale).format(name=display_name(p, locale)),
                  conversations.open_payload(p.id))


def _alerts(s: Session, staff: Person, locale: str) -> Reply:
    seen = {p.id: p for p in visible_people(s, staff.id) if p.id != staff.id}
    alerts = list(s.scalars(select(Alert).where(Alert.person_id.in_(list(seen)), Alert.status == "open")
                            .order_by(Alert.created_at.desc()).limit(LIST_MAX))) if seen else []
    audit(s, f"person:{staff.id}", "list_alerts", None, count=len(alerts))
    if not alerts:
        return menu(locale, gettext("No open alerts about your people.", locale))
    lines = [gettext("Open alerts:", locale)] + [f"• {alert_text(s, a, locale)}" for a in alerts]
    buttons = [alert_buttons(a, locale)[0] for a in alerts[:3]]
    buttons += [_message(seen[a.person_id], locale) for a in alerts[:3]]
    return Reply("\n".join(lines), tuple(dict.fromkeys(buttons)))


def _people(s: Session, staff: Person, locale: str, now: dt.datetime) -> Reply:
    mine = [p for p in visible_people(s, staff.id) if p.role == "supervisee" and p.id != staff.id]
    if not mine:
        return menu(locale, gettext("Nobody is assigned to you here yet.", locale))
    today = vietnam_date(now)
    lines = [gettext("Your people:", locale)]
    for p in mine[:LIST_MAX]:
        last = s.scalar(select(func.max(Checkin.at)).where(Checkin.person_id == p.id))
        schedule = active_schedule(s, p.id)
        nxt = upcoming_window(schedule, today).start if schedule is not None else None
        open_alerts = s.scalar(select(func.count(Alert.id)).where(Alert.person_id == p.id, Alert.status == "open"))
        status = (gettext("{n} open alerts", locale).format(n=open_alerts) if open_alerts
                  else gettext("no open alert", locale))
        lines.append(gettext("• {name}: {status}; last check-in {last}; next due {next}", locale).format(
            name=display_name(p, locale), status=status,
            last=format_date(last.astimezone(VIETNAM_TZ).date(), locale) if last else gettext("none", locale),
            next=format_date(nxt, locale) if nxt else gettext("no schedule", locale)))
    if len(mine) > LIST_MAX:
        lines.append(gettext("…and {n} more.", locale).format(n=len(mine) - LIST_MAX))
    buttons = [b for p in mine[:3] for b in (_message(p, locale), Button(
        gettext("Enrollment code for {name}", locale).format(name=display_name(p, locale)),
        payload("staff_code", person_id=p.id)))]
    return Reply("\n".join(lines), tuple(buttons))


def _conversations(s: Session, staff: Person, locale: str) -> Reply:
    convs = conversations.list_open(s, staff.id)
    if not convs:
        return menu(locale, gettext("No conversation is open.", locale))
    lines = [gettext("Open conversations:", locale)]
    buttons = []
    for c in convs[:LIST_MAX]:
        p = s.get(Person, c.person_id)
        with_whom = s.get(Person, c.staff_id)
        state = (gettext("waiting for an answer since {time}", locale) if c.first_reply_at is None
                 else gettext("answered", locale)).format(time=c.requested_at.astimezone(VIETNAM_TZ).strftime("%H:%M"))
        lines.append(f"• {display_name(p, locale)} – {display_name(with_whom, locale)}: {state}")
        if p is not None and len(buttons) < 3:
            buttons.append(_message(p, locale))
    return Reply("\n".join(lines), tuple(buttons))


def _quiet(s: Session, staff: Person, hours: object, locale: str, now: dt.datetime) -> Reply:
    if isinstance(hours, str) and hours in {k for k, _ in QUIET_PRESETS}:
        start, end = (0, 0) if hours == "off" else map(int, hours.split("-"))
        conversations.set_quiet_hours(s, staff.id, start, end, now)
    start, end = conversations.quiet_hours(s, staff.id)
    current = (gettext("You have no quiet hours: requests reach you at any time.", locale) if start == end else
               gettext("Your quiet hours: {start}:00 to {end}:00. Requests and messages then wait until "
                       "{end}:00, except those about someone's safety.", locale).format(
                   start=f"{start:02d}", end=f"{end:02d}"))
    return Reply(current, tuple(Button(gettext(title, locale), payload("staff_quiet", hours=key))
                                for key, title in QUIET_PRESETS))


def _code(s: Session, settings: Settings, staff: Person, person_id: object, locale: str, now: dt.datetime) -> Reply:
    if not isinstance(person_id, str) or person_id == staff.id or not may_see(s, staff.id, person_id):
        audit(s, f"person:{staff.id}", "issue_code_refused", person_id if isinstance(person_id, str) else None)
        return Reply(gettext("You cannot issue a code for this person.", locale))
    subject = s.get(Person, person_id)
    issued = issue_enrollment_code(s, person_id, settings.secret(), settings.enroll_code_days,
                                   f"person:{staff.id}", now)
    return Reply(gettext("Enrollment code for {name}: {code} (valid until {date}). Give it to them in person; they "
                         "send it to Lối Về to register.", locale).format(
        name=display_name(subject, locale), code=issued.code, date=format_date(vietnam_date(issued.expires_at), locale)))
