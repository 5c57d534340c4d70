"""Pieces shared by the actions: the prologue of every action that touches the
database (locale → database → identity: ``prologue``), message entities,
cancel phrases, dates from entity values, and citation lines for the facts a
result used.

Anonymous senders (the web chat without its cookie) get questions and answers
only. The gateway marks their messages with ``"anonymous": true`` in the
metadata, and their conversations live under the channel ``web-anon``, which
can never be linked to a person (bot.supervision.people.ANONYMOUS_CHANNELS).
Every action that touches a person's data (enrollment, check-ins, reminders,
alerts, erasure) starts with ``prologue``, which refuses them politely."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from functools import lru_cache
from abc import ABC, abstractmethod
import re
from typing import Any

import yaml
from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy.orm import Session, sessionmaker

from actions.answers import KNOWLEDGE
from actions.menu import tracker_locale
from vietnamese.clock import today_in_vietnam
from bot import PROJECT_ROOT
from bot.config import Settings, load_settings
from bot.i18n import gettext
from bot.storage.db import make_engine, make_sessionmaker
from bot.storage.migrate import upgrade
from bot.storage.models import ChannelIdentity
from bot.supervision.people import ANONYMOUS_CHANNELS, ANONYMOUS_ONLY
from vietnamese.text import fold

@lru_cache(maxsize=1)
def database() -> tuple[Settings, sessionmaker[Session]]:
    settings = load_settings()
    engine = make_engine(settings.effective_database_url)
    upgrade(engine)  # idempotent; the gateway normally got there first
    return settings, make_sessionmaker(engine)


def is_anonymous(tracker: Tracker) -> bool:
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    if metadata.get("anonymous") is True:
        return True
    _, sessions = database()
    with sessions() as s:
        identity = s.get(ChannelIdentity, tracker.sender_id)
    return identity is not None and identity.channel in ANONYMOUS_CHANNELS


def refused_anonymous(dispatcher: CollectingDispatcher, tracker: Tracker) -> bool:
    """Tell an anonymous sender politely what this chat can do; True if refused."""
    if not is_anonymous(tracker):
        return False
    dispatcher.utter_message(text=gettext(ANONYMOUS_ONLY, tracker_locale(tracker)))
    return True


@dataclass(frozen=True)
class Prologue:
    locale: str
    settings: Settings
    sessions: sessionmaker[Session]


def prologue(dispatcher: CollectingDispatcher, tracker: Tracker, *,
             anonymous_allowed: bool = False) -> Prologue | None:
    """How an action that touches the database starts: the message's locale, the
    app database, and (unless ``anonymous_allowed``) the refusal of an anonymous
    sender, who is told so. None when refused."""
    if not anonymous_allowed and refused_anonymous(dispatcher, tracker):
        return None
    settings, sessions = database()
    return Prologue(tracker_locale(tracker), settings, sessions)


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
