"""The periodic check-in in chat (for enrolled people): address, activity,
wellbeing, needs, an optional note, a summary to confirm; stored once per
window; worrying answers alert the mentor and officers at once."""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select

from actions.answers import KNOWLEDGE
from actions.common import ExtractingForm, database, entities_of, is_cancel, prologue
from actions.menu import tracker_locale
from bot.supervision import checkins, handover
from vietnamese.clock import today_in_vietnam, utcnow, vietnam_date
from bot.i18n import N_, gettext
from bot.storage.models import Alert
from vietnamese.crisis import CrisisLexicon
from bot import PROJECT_ROOT
from vietnamese.text import Abbreviations, fold

FORM = "checkin_form"
WELLBEING_CHOICES = ("1", "2", "3", "4", "5")
ORDER = ("ci_address", "ci_activity", "ci_wellbeing", "ci_need", "ci_note", "ci_confirm")
SLOTS = (*ORDER, "ci_cancelled")
CHOICES = {"ci_address": checkins.ADDRESS, "ci_activity": checkins.ACTIVITY, "ci_need": checkins.NEED}
# Free-text answers, matched without diacritics.
CUES = {
    "ci_address": [("none", r"khong co (cho|nha)|ngu ngoai|vo gia cu"), ("moved", r"chuyen|doi cho|o cho khac"),
                   ("same", r"van o|van song|nhu cu|o nha|\bcon o\b")],
    "ci_activity": [("looking", r"tim viec|that nghiep|chua co viec|nghi viec"), ("studying", r"\bhoc\b"),
                    ("working", r"di lam|lam viec|co viec|lam (tho|phu)|lam thue|phu ho|di phu|lam ho|boc vac|chay (xe|grab)|"
                                r"xe om|ban hang|buon ban|lam cong nhan|lam ruong|lam ray|lam mon")],
    "ci_need": [("urgent", r"gap|khan cap|ngay bay gio"), ("job", r"viec"), ("loan", r"\bvay\b|von"),
                ("papers", r"giay to|can cuoc|ly lich"), ("housing", r"\bnha\b|cho o"),
                ("health", r"suc khoe|benh|thuoc|kham"), ("nothing", r"^(khong|ko|chua|khong can)\b")],
}
LABELS = {
    "same": N_("still at the registered address"), "moved": N_("moved"), "none": N_("no place to live"),
    "working": N_("working"), "looking": N_("looking for work"), "studying": N_("studying"), "other": N_("other"),
    "nothing": N_("nothing"), "job": N_("a job"), "loan": N_("a loan"), "papers": N_("papers"),
    "housing": N_("housing"), "health": N_("health"), "urgent": N_("urgent help"),
}


@lru_cache(maxsize=1)
def lexicon() -> CrisisLexicon:
    return CrisisLexicon.load()


# Wellbeing said in words (1 very bad … 5 very good), the first that matches; crisis words are never
# read as an answer (the crisis reply comes first).
WELLBEING_WORDS = (
    (1, r"\b(rat te|te lam|te qua|qua te|rat kho chiu|kiet suc|het chiu noi|khong on chut nao|ko on chut nao)\b"),
    (5, r"\b(rat tot|rat on|rat vui|tuyet voi|tuyet)\b"),
    (2, r"\b(khong on|ko on|k on|hong on|chua on|khong tot|ko tot|buon|met|chan|lo lang|cang thang|mat ngu|"
        r"(khong|ko|k|hong) ngu (duoc|dc)|kho khan|te|kho chiu|stress)\b"),
    (3, r"\b(binh thuong|tam on|tam tam|tam duoc|cung duoc|nhu moi khi|thuong thoi)\b"),
    (4, r"\b(on|tot|khoe|vui|on ap|on dinh)\b"),
)


# A typed "no" to "anything to add for the officer?" (folded, words only): no note.
NO_NOTE = re.compile(r"(?:(?:da|vang|ok|thoi)\s+)?(?:khong|ko|k|kh|hong|hok|hem|no|khong a|ko a)"
                     r"(?:\s+(?:co|can|nhan|them|gi|a|nhe|nha|dau|roi|ca|ak|ah))*(?:\s+(?:cam on|thanks?)(?:\s+\w+)?)?")


@lru_cache(maxsize=1)
def crisis_words() -> CrisisLexicon:
    """The crisis terms as the NLU reads them (abbreviations expanded: "ko muốn sống")."""
    return CrisisLexicon.load(abbreviations=Abbreviations.load(PROJECT_ROOT / "data" / "normalization"
                                                               / "abbreviations.yml"))


def wellbeing_said(folded: str) -> int | None:
    for value, pattern in WELLBEING_WORDS:
        if re.search(pattern, folded):
            return value
    return None


def wellbeing_of(value: Any) -> int | None:
    """A wellbeing answer: exactly one of 1–5 (a button, or typed), else None;
    a typed payload such as 99, -3 or 1e30 is no answer."""
    text = str(value).strip() if isinstance(value, (str, int)) and not isinstance(value, bool) else ""
    return int(text) if text in WELLBEING_CHOICES else None


def extract(message: dict, requested: str | None) -> dict[str, Any]:
    if is_cancel(message):
        return {"ci_cancelled": True}
    if requested not in ORDER:
        return {}
    intent = (message.get("intent") or {}).get("name")
    text = message.get("text") or ""
    folded = fold(text)
    choice = (entities_of(message).get("choice") or [None])[-1]
    if requested == "ci_confirm":
        return {"ci_confirm": intent == "affirm"} if intent in ("affirm", "deny") else {}
    if requested == "ci_note":
        if text.startswith("/"):
            return {"ci_note": ""} if intent == "deny" else {}
        if NO_NOTE.fullmatch(" ".join(re.findall(r"\w+", folded.lower()))):
            return {"ci_note": ""}      # "ko", "không có gì ạ" typed instead of the button: no note
        return {"ci_note": text.strip()}
    if requested == "ci_wellbeing":
        value = wellbeing_of(choice) if choice is not None else wellbeing_of(
            m.group(1) if (m := re.search(r"(?<![\w\-.,])([1-5])(?![\w.,])", folded)) else None)
        if value is None and not crisis_words().matches(text):
            value = wellbeing_said(folded)  # "tệ lắm, tối ko ngủ dc": low, and the form goes on
        return {"ci_wellbeing": value} if value is not None else {}
    if choice in CHOICES.get(requested, ()):
        return {requested: choice}
    for value, pattern in CUES.get(requested, []):
        if re.search(pattern, folded):
            return {requested: value}
    if requested == "ci_address" and intent in ("affirm", "deny"):
        return {"ci_address": "same" if intent == "affirm" else "moved"}
    return {}


class ActionCheckinStart(Action):
    def name(self) -> str:
        return "action_checkin_start"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        # "giờ em đang đi phụ hồ theo ngày" right after the jobs answer follows that answer, even when
        # the classifier took it for a check-in (its words are a check-in's: what work one does)
        from actions.followups import previous_answer_followup  # (it builds on answers, loans, expungement)
        events = await previous_answer_followup(dispatcher, tracker, domain, sentence=False, purpose_words=None)
        if events is not None:
            return events
        if (p := prologue(dispatcher, tracker)) is None:
            return []
        with p.sessions() as s:
            person = checkins.person_for_identity(s, tracker.sender_id)
        if person is None or person.role != "supervisee":
            dispatcher.utter_message(text=gettext(
                "Check-ins here are for people registered with their officer. If you have an enrollment "
                "code, send it to me; otherwise please report to your commune police as arranged.", p.locale))
            return []
        return [*(SlotSet(s, None) for s in SLOTS), FollowupAction(FORM)]


class ValidateCheckinForm(ExtractingForm):
    def name(self) -> str:
        return f"validate_{FORM}"

    async def required_slots(self, domain_slots: list[str], dispatcher: CollectingDispatcher,
                             tracker: Tracker, domain: dict[str, Any]) -> list[str]:
        if tracker.get_slot("ci_cancelled"):
            return []
        return [s for s in ORDER if tracker.get_slot(s) is None]

    def extracted(self, tracker: Tracker) -> dict[str, Any]:
        return extract(tracker.latest_message or {}, tracker.get_slot("requested_slot"))

    def corrections(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        message = tracker.latest_message or {}
        said = extract(message, "ci_wellbeing") if tracker.get_slot("requested_slot") == "ci_wellbeing" else {}
        if (said.get("ci_wellbeing") or 5) <= 2 and not re.search(r"\d", message.get("text") or ""):
            # A low answer in words ("tệ lắm, tối ko ngủ dc"): recorded as such, with care.
            dispatcher.utter_message(text=gettext(
                "Thank you for telling me, and I am sorry it is hard right now. I noted it in your report "
                "(%(value)s/5). If you want to talk to someone, tell me at any time.", tracker_locale(tracker))
                % {"value": said["ci_wellbeing"]})
        if (tracker.get_slot("requested_slot") == "ci_wellbeing" and not is_cancel(message)
                and "ci_wellbeing" not in extract(message, "ci_wellbeing")
                and (entities_of(message).get("choice") or re.search(r"\d", message.get("text") or ""))):
            dispatcher.utter_message(text=gettext("Please answer with a number from 1 to 5.",
                                                  tracker_locale(tracker)))
            # An answer, refused: the form asks again instead of Rasa rejecting it.
            return [SlotSet("ci_wellbeing", None)]
        return []


class ActionAskCiConfirm(Action):
    def name(self) -> str:
        return "action_ask_ci_confirm"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        locale = tracker_locale(tracker)
        t = lambda v: gettext(LABELS[v], locale)  # noqa: E731
        summary = gettext("Your report: %(address)s; %(activity)s; feeling %(wellbeing)s/5; needs: %(need)s.",
                          locale) % {"address": t(tracker.get_slot("ci_address")),
                                     "activity": t(tracker.get_slot("ci_activity")),
                                     "wellbeing": tracker.get_slot("ci_wellbeing"),
                                     "need": t(tracker.get_slot("ci_need"))}
        if tracker.get_slot("ci_note"):
            summary += "\n" + gettext("Note: %(note)s", locale) % {"note": tracker.get_slot("ci_note")}
        dispatcher.utter_message(text=summary + "\n" + gettext("Send it?", locale),
                                 buttons=[{"title": gettext("Send", locale), "payload": "/affirm"},
                                          {"title": gettext("Cancel", locale), "payload": "/deny"}])
        return []


class ActionCheckinFinish(Action):
    def name(self) -> str:
        return "action_checkin_finish"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        locale = tracker_locale(tracker)
        reset = [SlotSet(s, None) for s in SLOTS]
        if tracker.get_slot("ci_cancelled") or not tracker.get_slot("ci_confirm"):
            dispatcher.utter_message(text=gettext("All right, the report was not sent.", locale))
            return reset
        wellbeing = wellbeing_of(tracker.get_slot("ci_wellbeing"))
        if wellbeing is None:  # never stored by the form; refuse rather than fail
            dispatcher.utter_message(text=gettext("Please answer with a number from 1 to 5.", locale))
            return reset
        answers = checkins.Answers(
            address=tracker.get_slot("ci_address"), activity=tracker.get_slot("ci_activity"),
            wellbeing=wellbeing, need=tracker.get_slot("ci_need"), note=tracker.get_slot("ci_note") or "")
        channel = ((tracker.latest_message or {}).get("metadata") or {}).get("channel") or "unknown"
        _, sessions = database()
        with sessions.begin() as s:
            person = checkins.person_for_identity(s, tracker.sender_id)
            if person is None:
                return reset
            now = utcnow()
            messages = finish_messages(s, person, channel, answers, now, locale)
        for text in messages:
            dispatcher.utter_message(text=text)
        return reset


def finish_messages(s, person, channel: str, answers: checkins.Answers, now, locale: str) -> list[str]:  # noqa: ANN001
    """Record the check-in and say what really happened: who was told and when
    (at once, or at 07:00 when quiet hours hold a non-critical alert)."""
    checkin, reasons = checkins.record(s, person, channel, answers, lexicon(), vietnam_date(now), now)
    parts = [gettext("Thank you, your report is recorded.", locale)]
    if reasons:
        alert = s.scalar(select(Alert).where(Alert.key == checkins.alert_key(checkin)))
        told = handover.told_about(s, alert, now) if alert is not None else []
        parts.append(handover.told_sentence(told, now, locale) if told else gettext(
            "Your mentor and commune officer cannot be reached through Lối Về yet, so I could not tell them; "
            "please contact them directly.", locale))
    if checkins.is_critical(reasons):
        parts.append(gettext("If you are in danger right now, call:", locale) + "\n" + handover.lines_text(
            [x for x in handover.support_lines(KNOWLEDGE, vietnam_date(now), locale) if x.crisis], locale))
    return parts
