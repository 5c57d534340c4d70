"""The buttons of the messages the product sends first (bot.supervision.messages):

* "Đã nhận" on a reminder: ``/ack_reminder{"reminder_id": "…"}`` records that
  its recipient saw it. Only the recipient's own chat can do that; any other id
  gets the same neutral answer, so nobody learns which reminders exist.
* Alerts for mentors and officers, in three steps: ``/alert_action{"alert_id"}``
  shows the alert and its three statuses, ``+ "alert_status"`` asks for a reason
  code, ``+ "reason_code"`` acts on it (bot.supervision.alerts.act_on_alert, which checks
  that the person may see whom the alert is about). Whatever goes wrong, the
  answer is one polite refusal that reveals nothing.

The logic is in plain functions over a Session (tested on both databases); the
actions only read the message and send the answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session

from actions.common import entities_of, prologue
from bot.supervision.alerts import REASON_CODES, act_on_alert, alert_buttons, alert_text, payload
from bot.supervision.checkins import person_for_identity
from bot.i18n import N_, gettext
from bot.supervision.people import Invalid, NotFound, audit, may_see
from vietnamese.clock import utcnow
from bot.storage.models import Alert, OutboxMessage

STATUSES = ("acknowledged", "excused", "resolved")
STATUS_LABELS = {"open": N_("open"), "acknowledged": N_("seen"), "excused": N_("excused"),
                 "resolved": N_("resolved")}
REASON_LABELS = {
    "contacted": N_("Got in touch"),
    "visited": N_("Visited them"),
    "help_arranged": N_("Help arranged"),
    "excused_health": N_("Excused: health"),
    "excused_work": N_("Excused: work"),
    "excused_other": N_("Excused: other reason"),
    "false_alarm": N_("False alarm"),
    "other": N_("Other"),
}
assert tuple(REASON_LABELS) == REASON_CODES, "a label for every reason code, in the same order"
HANDLERS = ("mentor", "officer", "admin")


@dataclass(frozen=True)
class Answer:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)


def _entity(message: dict, name: str) -> str | None:
    values = entities_of(message).get(name) or []
    return str(values[-1]).strip() if values and values[-1] is not None else None


def _int(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() and len(value) < 12 else None


# --- "Đã nhận" --------------------------------------------------------------------


def acknowledge(s: Session, identity_id: str, reminder_id: str | None, now: dt.datetime | None = None) -> bool:
    """Mark the reminder acknowledged if this chat's person is its recipient.
    True when it is theirs (already acknowledged counts: the first time is kept)."""
    person = person_for_identity(s, identity_id)
    rid = _int(reminder_id)
    row = s.get(OutboxMessage, rid) if person is not None and rid is not None else None
    if row is None or row.person_id != person.id:
        return False
    if row.acknowledged_at is None:
        row.acknowledged_at = now or utcnow()
        audit(s, f"person:{person.id}", "ack_reminder", person.id, reminder_id=row.id)
    return True


class ActionAckReminder(Action):
    def name(self) -> str:
        return "action_ack_reminder"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        if (p := prologue(dispatcher, tracker)) is None:
            return []
        locale, sessions = p.locale, p.sessions
        with sessions.begin() as s:
            ok = acknowledge(s, tracker.sender_id, _entity(tracker.latest_message or {}, "reminder_id"))
        if ok:
            dispatcher.utter_message(text=gettext("Thank you, noted.", locale))
        else:
            dispatcher.utter_message(text=gettext(
                "Sorry, I could not find this reminder. It may be out of date.", locale))
        return []


# --- alerts -----------------------------------------------------------------------


def _refusal(locale: str) -> Answer:
    return Answer(gettext("Sorry, I cannot do this here. Alerts can be handled only by the mentor and the "
                          "officers of the person concerned.", locale))


def _buttons(buttons: tuple) -> list[dict[str, str]]:  # outbox.Button → Rasa button dicts
    return [{"title": b.title, "payload": b.payload} for b in buttons]


def alert_step(s: Session, identity_id: str, alert_id: str | None, status: str | None, reason: str | None,
               locale: str, now: dt.datetime | None = None) -> Answer:
    """One step of handling an alert from chat, as the person linked to this chat."""
    actor = person_for_identity(s, identity_id)
    aid = _int(alert_id)
    if actor is None or actor.role not in HANDLERS or aid is None:
        return _refusal(locale)
    if status and reason:
        try:
            alert = act_on_alert(s, aid, status, reason, actor.id, now)
        except (NotFound, Invalid):
            return _refusal(locale)
        return Answer(gettext("Alert #{id} is now marked {status} (reason: {reason}). Thank you.", locale).format(
            id=alert.id, status=gettext(STATUS_LABELS[alert.status], locale),
            reason=gettext(REASON_LABELS[alert.reason_code], locale)))
    alert = s.get(Alert, aid)
    if alert is None or not may_see(s, actor.id, alert.person_id):
        return _refusal(locale)
    if status:
        if status not in STATUSES:
            return _refusal(locale)
        return Answer(
            gettext("Alert #{id} will be marked {status}. What is the reason?", locale).format(
                id=alert.id, status=gettext(STATUS_LABELS[status], locale)),
            [{"title": gettext(REASON_LABELS[code], locale),
              "payload": payload("alert_action", alert_id=str(alert.id), alert_status=status,
                                        reason_code=code)} for code in REASON_CODES])
    audit(s, f"person:{actor.id}", "view_alert", alert.person_id, alert_id=alert.id)
    text = alert_text(s, alert, locale)
    if alert.status != "open":
        text += "\n" + gettext("Already marked {status} (reason: {reason}).", locale).format(
            status=gettext(STATUS_LABELS.get(alert.status, alert.status), locale),
            reason=gettext(REASON_LABELS.get(alert.reason_code or "", alert.reason_code or "-"), locale))
    return Answer(text, _buttons(alert_buttons(alert, locale)))


class ActionAlertAction(Action):
    def name(self) -> str:
        return "action_alert_action"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        if (p := prologue(dispatcher, tracker)) is None:
            return []
        message = tracker.latest_message or {}
        with p.sessions.begin() as s:
            answer = alert_step(s, tracker.sender_id, _entity(message, "alert_id"), _entity(message, "alert_status"),
                                _entity(message, "reason_code"), p.locale)
        dispatcher.utter_message(text=answer.text, buttons=answer.buttons)
        return []
