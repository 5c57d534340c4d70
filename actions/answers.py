"""Answers of fact from the knowledge base: the entry valid today, with its citation."""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.menu import tracker_locale
from vietnamese.clock import today_in_vietnam
from bot.domain.knowledge import Entry, KnowledgeBase
from bot.i18n import N_, answer_text, formatters, gettext

# Loaded (and schema-checked) when the action server starts: a malformed file
# stops it with a message naming the file, entry and field.
KNOWLEDGE = KnowledgeBase.load()


def utter_entries(dispatcher: CollectingDispatcher, entries: list, today, locale: str,  # noqa: ANN001
                  buttons: list[dict[str, str]] | None = None) -> None:
    """One message per knowledge entry, cited; ``buttons`` go on the last one."""
    fmt = formatters(locale)
    for i, entry in enumerate(entries):
        dispatcher.utter_message(text=answer_text(KNOWLEDGE.render(entry, today, fmt), locale),
                                 buttons=buttons if buttons and i == len(entries) - 1 else [])


# Calculators a question entry may offer (``offer`` in the knowledge files).
OFFER_BUTTONS = {
    "check_loan": (N_("Check if I can borrow"), "/check_loan"),
    "calc_expungement": (N_("Calculate my date"), "/calc_expungement"),
}


# With an amount in the message ("muốn vay 30tr làm ăn") it is a personal case
# unless the question is this sure ("vay 50 triệu … có phải thế chấp không").
CASE_QUESTION_CONFIDENCE = 0.5


def question_confidence(tracker: Tracker) -> float:
    question = (tracker.latest_message or {}).get("question") or {}
    try:
        return float(question.get("confidence") or 0.0) if isinstance(question, dict) else 0.0
    except (TypeError, ValueError):
        return 0.0


def chosen_question(tracker: Tracker, today: dt.date) -> Entry | None:
    """The question entry nlu.components.QuestionRetriever chose for the latest
    message with enough confidence (it leaves ``id`` empty otherwise), if it is
    valid today."""
    question = (tracker.latest_message or {}).get("question") or {}
    qid = question.get("id") if isinstance(question, dict) else None
    if not qid:
        return None
    try:
        entry = KNOWLEDGE.entry(str(qid), today)
    except KeyError:
        return None
    return entry if entry.question else None


def utter_question(dispatcher: CollectingDispatcher, entry: Entry, today: dt.date,
                   locale: str) -> list[EventType]:
    """One bubble: the short answer and its one-line citation, the calculators it
    offers, and "Xem chi tiết" when the entry has details (the rendered details
    go to the ``details`` slot, shown by action_show_details)."""
    fmt = formatters(locale)
    buttons = [{"title": gettext(OFFER_BUTTONS[o][0], locale), "payload": OFFER_BUTTONS[o][1]}
               for o in entry.offer if o in OFFER_BUTTONS]
    events: list[EventType] = []
    if entry.details:
        details = KNOWLEDGE.render(replace(entry, answer=entry.details, change_note=""), today, fmt).text
        buttons.append({"title": gettext("Show details", locale), "payload": "/show_details"})
        events.append(SlotSet("details", details))
    dispatcher.utter_message(text=answer_text(KNOWLEDGE.render(entry, today, fmt), locale), buttons=buttons)
    return events


class ActionAnswer(Action):
    def name(self) -> str:
        return "action_answer"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        locale = tracker_locale(tracker)
        latest = tracker.latest_message or {}
        intent = (latest.get("intent") or {}).get("name") or ""
        today = today_in_vietnam()
        question = chosen_question(tracker, today)
        if question is not None:
            return utter_question(dispatcher, question, today, locale)
        entries = KNOWLEDGE.entries_for(intent, today, latest.get("text") or "")
        if not entries:
            dispatcher.utter_message(text=gettext(
                "I do not have a checked answer to this yet. Please ask the police of your commune.", locale))
            return []
        utter_entries(dispatcher, entries, today, locale)
        return []
