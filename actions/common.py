"""Pieces shared by the calculation forms: message entities, cancel phrases,
dates from entity values, and citation lines for the facts a result used."""

from __future__ import annotations

import datetime as dt
from abc import ABC, abstractmethod
import re
from typing import Any

import yaml
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import KNOWLEDGE
from actions.menu import tracker_locale
from vietnamese.clock import today_in_vietnam
from bot import PROJECT_ROOT
from bot.i18n import gettext
from vietnamese.text import fold

_CANCEL = {fold(p) for p in yaml.safe_load(
    (PROJECT_ROOT / "data" / "normalization" / "cancel.yml").read_text(encoding="utf-8"))["phrases"]}


def entities_of(message: dict) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for e in message.get("entities") or []:
        found.setdefault(e.get("entity"), []).append(e.get("value"))
    return found


def is_cancel(message: dict) -> bool:
    """The whole message is a cancel phrase ("thôi", "hủy"), not a word inside it."""
    return fold(message.get("text") or "").strip(" .!?") in _CANCEL


def day_of(value: Any) -> dt.date | None:
    """An entity date as a day; a month alone counts as its last day (the later,
    safer date); a year alone is not a day."""
    if not value:
        return None
    text = str(value)
    if re.fullmatch(r"\d{4}-\d{2}", text):
        year, month = map(int, text.split("-"))
        return dt.date(year + month // 12, month % 12 + 1, 1) - dt.timedelta(days=1)
    return dt.date.fromisoformat(text) if re.fullmatch(r"\d{4}-\d{2}-\d{2}", text) else None


def caution_and_citation(fact_ids: list[str], day: dt.date, locale: str, lead=(), tail=()) -> list[str]:
    """The closing lines of a calculated answer: a caution naming the office if
    any fact used is unverified, then "Căn cứ: …" naming each document once
    (``lead`` sources first, e.g. an entry's article range; then the facts';
    then ``tail``)."""
    facts = [KNOWLEDGE.fact(f, day) for f in fact_ids]
    cited: list = []
    for source in [*lead, *(s for f in facts for s in f.sources), *tail]:
        if all(source.document != c.document for c in cited):
            cited.append(source)
    lines = []
    unverified = [f for f in facts if not f.verified]
    if unverified:
        lines.append(gettext("Some of this is not fully verified: please confirm with %(office)s.", locale)
                     % {"office": unverified[0].confirm_with})
    lines.append(gettext("Based on: %(citation)s", locale) % {"citation": "; ".join(s.cite() for s in cited)})
    return lines


def start_form(form: str, slots: tuple[str, ...], values: dict[str, Any]) -> list[EventType]:
    """Clear the form's slots, keep what the message already said, run the form."""
    return [*(SlotSet(s, None) for s in slots), *(SlotSet(k, v) for k, v in values.items()), FollowupAction(form)]


class CalculationResult(Action, ABC):
    """The end of a calculation form: say the result (or that it was stopped, or
    that the inputs cannot be right) and clear the form's slots."""

    slots: tuple[str, ...] = ()
    cancel_slot: str = ""

    @abstractmethod
    def messages(self, tracker: Tracker, today: dt.date, locale: str) -> list[str]:
        """The result messages; raise ValueError when the inputs cannot be right."""

    def offer(self, tracker: Tracker, today: dt.date, locale: str) -> tuple[list[dict[str, str]], list[EventType]]:
        """Buttons for the last result message, and events to keep with them
        (what a follow-up button needs after the form's slots are cleared)."""
        return [], []

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        locale = tracker_locale(tracker)
        reset = [SlotSet(s, None) for s in self.slots]
        if tracker.get_slot(self.cancel_slot):
            dispatcher.utter_message(text=gettext("All right, I have stopped the calculation.", locale))
            return reset
        today = today_in_vietnam()
        try:
            messages = self.messages(tracker, today, locale)
            buttons, kept = self.offer(tracker, today, locale)
        except ValueError:
            messages = [gettext(
                "I could not calculate this from what you told me. Please ask the police of your commune.", locale)]
            buttons, kept = [], []
        for i, message in enumerate(messages):
            dispatcher.utter_message(text=message, buttons=buttons if i == len(messages) - 1 else [])
        return [*reset, *kept]


class ExtractingForm(FormValidationAction, ABC):
    """A form whose slots are read from each message by ``extracted()``. Rasa
    needs the values back from validation as well (otherwise it rejects the
    form as "nothing extracted"), followed by any ``corrections()``."""

    @abstractmethod
    def extracted(self, tracker: Tracker) -> dict[str, Any]:
        """Slot values found in the latest message."""

    def corrections(self, dispatcher: CollectingDispatcher, tracker: Tracker) -> list[EventType]:
        """Events that reset impossible answers (after telling the person why)."""
        return []

    async def get_extraction_events(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: dict[str, Any]) -> list[EventType]:
        return [SlotSet(k, v) for k, v in self.extracted(tracker).items()]

    async def get_validation_events(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                                    domain: dict[str, Any]) -> list[EventType]:
        return [*(SlotSet(k, v) for k, v in self.extracted(tracker).items()), *self.corrections(dispatcher, tracker)]
