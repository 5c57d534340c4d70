"""Enrollment in chat: a one-time code from the officer links this chat to a
person, after the person reads and accepts what is stored and who sees it.
Anonymous users keep full access to questions and answers."""

from __future__ import annotations

import datetime as dt
from typing import Any

from rasa_sdk import Action, Tracker
from sqlalchemy import select
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import ExtractingForm, entities_of, is_cancel, prologue
from actions.menu import tracker_locale
from bot.storage.models import EnrollmentCode, Person
from bot.supervision import enrollment, people
from bot.i18n import N_, gettext

FORM = "enroll_form"
# What the person agrees to (its version: bot.supervision.enrollment.CONSENT_VERSION).
CONSENT_TEXT = N_(
    "To get reminders and report here, Lối Về will store: your name, commune, report schedule and "
    "what you report. Only the mentor assigned to you and your commune officers can see it. If a report "
    "or a message says you are in difficulty or in danger (no place to live, not enough to eat, feeling "
    "very bad, thoughts of harming yourself), Lối Về alerts your mentor and your commune officer (the "
    "commune police) at once, with what you wrote. You can ask your commune officer to erase it at any "
    "time. Do you agree?")
# Staff (mentor, officer, admin) are told what they will receive instead (issue 15).
STAFF_CONSENT_TEXT = N_(
    "To use Lối Về as staff, Lối Về will store your name, role, commune and this chat. You will receive here: "
    "alerts and check-in summaries about the people assigned to you, their requests to talk with you and "
    "their messages, and reminders to visit them. Messages about someone's safety can come at any time; "
    "others wait for the end of the quiet hours you set in your menu. What you read about people is "
    "recorded in the audit log. Do you agree?")
SLOTS = ("enroll_code", "enroll_consent")


def code_role(p, code: str | None) -> str | None:  # noqa: ANN001
    """The role of the person a (live) code was issued for, if any."""
    if not code:
        return None
    with p.sessions() as s:
        return s.scalar(select(Person.role).join(EnrollmentCode, EnrollmentCode.person_id == Person.id)
                        .where(EnrollmentCode.code_hash == enrollment.code_digest(code, p.settings.secret())))

def _code(message: dict) -> str | None:
    """The code of an /enroll payload: the gateway makes one of every code it
    lets through (bot.supervision.enrollment checked it); a code inside other words is
    not taken, so that every guess passes the gateway's limits."""
    codes = entities_of(message).get("enrollment_code") or []
    return str(codes[-1]).upper() if codes else None

class ActionEnrollStart(Action):
    def name(self) -> str:
        return "action_enroll_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        if (p := prologue(dispatcher, tracker)) is None:
            return []
        locale = p.locale
        code = _code(tracker.latest_message or {})
        if not code:
            dispatcher.utter_message(text=gettext(
                "Please send the enrollment code your officer gave you, on its own in one message.", locale))
            return []
        with p.sessions.begin() as s:
            result = enrollment.check_code(s, tracker.sender_id, code, p.settings.secret(),
                                       max_failures=p.settings.enroll_max_failures, window=dt.timedelta(hours=1))
        if result.status == "anonymous":
            return []
        if result.status == "rate_limited":
            dispatcher.utter_message(text=gettext(
                "Too many wrong codes. Please try again in an hour, or ask your officer.", locale))
            return []
        if result.status == "invalid":
            dispatcher.utter_message(text=gettext(
                "This code is not right or has expired. Please check it, or ask your officer for a new one.", locale))
            return []
        if result.status == "already_linked":
            dispatcher.utter_message(text=gettext("This chat is already registered.", locale))
            return []
        return [SlotSet("enroll_code", code), SlotSet("enroll_consent", None), FollowupAction(FORM)]

class ActionAskEnrollConsent(Action):
    def name(self) -> str:
        return "action_ask_enroll_consent"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        locale = tracker_locale(tracker)
        p = prologue(dispatcher, tracker)
        staff = p is not None and code_role(p, tracker.get_slot("enroll_code")) in ("mentor", "officer", "admin")
        dispatcher.utter_message(
            text=gettext(STAFF_CONSENT_TEXT if staff else CONSENT_TEXT, locale),
            buttons=[{"title": gettext("I agree", locale), "payload": "/affirm"},
                     {"title": gettext("I do not agree", locale), "payload": "/deny"}],
        )
        return []

class ValidateEnrollForm(ExtractingForm):
    def name(self) -> str:
        return f"validate_{FORM}"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: dict[str, Any]) -> list[str]:
        return [] if tracker.get_slot("enroll_consent") is not None else ["enroll_consent"]

    def extracted(self, tracker: Tracker) -> dict[str, Any]:
        latest = tracker.latest_message or {}
        if is_cancel(latest):
            return {"enroll_consent": False}
        value = {"affirm": True, "deny": False}.get((latest.get("intent") or {}).get("name"))
        return {} if value is None else {"enroll_consent": value}

class ActionEnrollFinish(Action):
    def name(self) -> str:
        return "action_enroll_finish"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        locale = tracker_locale(tracker)
        code, accepted = tracker.get_slot("enroll_code"), bool(tracker.get_slot("enroll_consent"))
        reset = [SlotSet(s, None) for s in SLOTS]
        if not code:
            return reset
        if (p := prologue(dispatcher, tracker)) is None:
            return reset
        with p.sessions.begin() as s:
            linked = enrollment.enroll(s, tracker.sender_id, code, p.settings.secret(), accepted)
        if linked:
            dispatcher.utter_message(text=gettext(
                "Thank you. This chat is now registered: you will get reminders here and can report by "
                "writing \"báo cáo\".", locale))
        elif accepted:
            dispatcher.utter_message(text=gettext(
                "This code is not right or has expired. Please check it, or ask your officer for a new one.", locale))
        else:
            dispatcher.utter_message(text=gettext(
                "All right, nothing is linked. You can still ask me any question.", locale))
        return reset
