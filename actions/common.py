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

from actions.knowledge import KNOWLEDGE
from actions.menu import tracker_locale
from vietnamese.clock import today_in_vietnam
from bot import PROJECT_ROOT
from bot.config import Settings, load_settings
from bot.i18n import N_, caution_text, citation_line, gettext, knowledge_text, pgettext
from bot.storage.db import make_engine, make_sessionmaker
from bot.storage.migrate import upgrade
from bot.storage.models import ChannelIdentity
from bot.supervision.people import ANONYMOUS_CHANNELS, ANONYMOUS_ONLY
from vietnamese.text import fold

# The story is a relative's: "con tôi bị 3 năm tù", "anh trai em đi tù 7 năm", "chồng mình mới ra tù".
# A relation word, "my" (tôi, em, mình…) and a verb of the case after it, at most four words later
# ("bố em năm nay 60t, bị 1 năm tù"), none of them "I" ("con tôi còn nhỏ, tôi bị…" is the person's own);
# "anh em" and "chị em" are not read as a relative ("anh, em bị…" addresses the assistant), nor "mà tôi".
RELATIVE_STORY = re.compile(
    r"\b(?:(?:con(?: trai| gai)?|chong|ck|vo|vk|bo|me|cha|em trai|em gai|anh trai|chi gai|chau|nguoi nha|ban)"
    r"\s+(?:cua\s+)?(?:toi|minh|tui|em|e|mk|t)|(?:anh|chi|em|ba)\s+(?:cua\s+)?(?:toi|minh|tui|mk)"
    # "ông xã tôi gây tai nạn…", "ông xã bị…": a husband, with or without "tôi"
    r"|(?:ong xa|ba xa)(?:\s+(?:cua\s+)?(?:toi|minh|tui|em|e|mk|t))?)"
    r"(?:[\s,]+(?!(?:toi|em|minh|tui|tao|e|mk|t)\b)\w+){0,4}?"
    # the verbs of a story, typed ("bj", "dc") or left out before the term ("ck e 3n tu", "chồng tôi 5 năm tù")
    r"[\s,]+(?:(?:da|vua|moi|tung|cung|dang|muon|mun|can|dinh)\s+)?(?:vay|bi|bj|di tu|o tu|ngoi tu|ra tu|ra trai|lanh|an|duoc|dc|man han"
    r"|gay|pham toi|\d{1,2}\s*(?:n|nam|th|thang)\s+tu)\b")

# A relative's story is answered about the relative ("người nhà anh/chị", "they"): each text that says
# "you" of the person in the case has a version under the "relative" context (pgettext), registered here
# by the action that uses it (relative_texts); said_of picks it. Their plain versions are extracted from
# the said_of calls and the N_ marks (make extract: -k said_of:1).
RELATIVE = "relative"
_RELATIVE_TEXTS: set[str] = set()


def relative_texts(*msgids: str) -> frozenset[str]:
    """Register texts that have a relative's version (marked NP_("relative", …) for extraction)."""
    _RELATIVE_TEXTS.update(msgids)
    return frozenset(msgids)


def said_of(msgid: str, locale: str, relative: bool = False) -> str:
    """A text in the reader's language, about the person who asks or, for a relative's story,
    about the relative."""
    return pgettext(RELATIVE, msgid, locale) if relative and msgid in _RELATIVE_TEXTS else gettext(msgid, locale)


def main_penalty(penalties: list[str]) -> str:
    """The penalty a story is about, among the penalty words said in order: a suspended sentence is a
    prison term suspended ("bị 3 năm tù nhưng cho hưởng án treo"; "…theo chương trình cho người chấp hành
    xong án phạt tù" names a loan), so it wins over "tù"; otherwise the last said."""
    return "suspended" if "suspended" in penalties else penalties[-1]


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
        lines.append(caution_text(knowledge_text(unverified[0].confirm_with, locale), locale))
    tr = lambda text: knowledge_text(text, locale)  # noqa: E731
    lines.append(citation_line("; ".join(s.cite(tr) for s in cited), locale))
    return lines


# --- phone-sized replies ------------------------------------------------------------
# The first bubble of an answer fits a phone screen; the rest (details, the full
# citation, cautions) waits behind a "Xem chi tiết" button, whose payload
# /show_details makes action_show_details say the slot ``details``. A caution
# (e.g. "not fully verified") is said in a short bubble once per conversation
# (slot ``cautioned``), and is always in the details.

FIRST_BUBBLE_MAX = 500
DETAILS_SLOT, CAUTIONED_SLOT = "details", "cautioned"
SHOW_DETAILS = "/show_details"
UNVERIFIED = "unverified"


def details_button(locale: str) -> dict[str, str]:
    return {"title": gettext(N_("See details"), locale), "payload": SHOW_DETAILS}


def answer_with_details(dispatcher: CollectingDispatcher, tracker: Tracker, text: str | list[str],
                        details: str = "", *, caution: str = "", caution_key: str = UNVERIFIED,
                        buttons: list[dict[str, str]] | None = None, locale: str | None = None) -> list[EventType]:
    """Say an answer the phone-sized way and return the events to keep with it.

    ``text`` is the first bubble (or several short ones: the buttons go on the
    last); ``details`` what "Xem chi tiết" shows; ``caution`` a caution said in
    a second short bubble only the first time ``caution_key`` comes up in this
    conversation (and always kept in the details). Every action that answers
    calls this, so that the button always shows the details of the latest answer."""
    locale = locale or tracker_locale(tracker)
    bubbles = [text] if isinstance(text, str) else list(text)
    events: list[EventType] = []
    if caution:
        details = f"{details}\n{caution}" if details else caution
        cautioned = list(tracker.get_slot(CAUTIONED_SLOT) or [])
        if caution_key not in cautioned:
            bubbles.append(caution)   # a second short bubble
            events.append(SlotSet(CAUTIONED_SLOT, [*cautioned, caution_key]))
    shown = list(buttons or [])
    if details:
        shown.append(details_button(locale))
    for i, bubble in enumerate(bubbles):
        dispatcher.utter_message(text=bubble, buttons=shown if i == len(bubbles) - 1 else [])
    events.append(SlotSet(DETAILS_SLOT, details or None))
    return events


class ActionShowDetails(Action):
    """The "Xem chi tiết" button: the details of the latest answer."""

    def name(self) -> str:
        return "action_show_details"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        details = tracker.get_slot(DETAILS_SLOT)
        dispatcher.utter_message(text=details or gettext(
            "There is nothing more to add to this answer. Ask me another question whenever you like.",
            tracker_locale(tracker)))
        return []


def start_form(form: str, slots: tuple[str, ...], values: dict[str, Any]) -> list[EventType]:
    """Clear the form's slots, keep what the message already said, run the form."""
    return [*(SlotSet(s, None) for s in slots), *(SlotSet(k, v) for k, v in values.items()), FollowupAction(form)]


class CalculationResult(Action, ABC):
    """The end of a calculation form: say the result (or that it was stopped, or
    that the inputs cannot be right) and clear the form's slots."""

    slots: tuple[str, ...] = ()
    cancel_slot: str = ""
    # The question ids (prefixes) the result answers itself; the other questions the same message asked
    # are answered after it (actions.answers.also_asked).
    covers: tuple[str, ...] = ()

    @abstractmethod
    def messages(self, tracker: Tracker, today: dt.date, locale: str) -> list[str]:
        """The result messages; raise ValueError when the inputs cannot be right."""

    def offer(self, tracker: Tracker, today: dt.date, locale: str) -> tuple[list[dict[str, str]], list[EventType]]:
        """Buttons for the last result message, and events to keep with them
        (what a follow-up button needs after the form's slots are cleared)."""
        return [], []

    def details(self, tracker: Tracker, today: dt.date, locale: str) -> str:
        """What "Xem chi tiết" shows after the result (none by default)."""
        return ""

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
            details = self.details(tracker, today, locale)
        except ValueError:
            messages = [gettext(
                "I could not calculate this from what you told me. Please ask the police of your commune.", locale)]
            buttons, kept, details = [], [], ""
        from actions.answers import also_asked   # (answers builds on this module)
        others, more = also_asked(tracker, today, locale, self.covers)
        details = "\n\n".join(d for d in (details, more) if d)
        shown = answer_with_details(dispatcher, tracker, messages, details, buttons=buttons, locale=locale)
        for other in others:
            dispatcher.utter_message(text=other)
        return [*reset, *kept, *shown]


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


# "tha tù trước thời hạn có điều kiện tháng 5/2025, thử thách 1 năm 2 tháng": the date said is the
# release, and probation ends that long after it; the end of probation is the completion (BLHS Điều 66
# khoản 3, Luật THAHS 2019 Điều 59 khoản 4), so it is worked out rather than taken as the release date.
# The length comes after "thử thách" ("thử thách 2 năm") or before it ("án treo 2 năm thử thách",
# acceptance_fresh13).
_LENGTH = r"\d{1,2}\s*(?:nam|thang)(?:\s*(?:va\s+)?\d{1,2}\s*thang)?"
_PROBATION_LENGTH = re.compile(rf"\bthu thach\s+(?:la\s+|trong\s+|con\s+)?(?P<d>{_LENGTH})\b"
                               rf"|\b(?P<b>{_LENGTH})\s+(?:thoi gian\s+)?thu thach\b")


def probation_lengths(folded: str) -> list[str]:
    """The probation lengths said, as typed ("2 nam", "1 nam 2 thang"), in order."""
    return [m["d"] or m["b"] for m in _PROBATION_LENGTH.finditer(folded)]
_PROBATION_END_SAID = re.compile(r"\b(het|xong|ket thuc|man)\s+(thoi gian\s+|thoi han\s+)?thu thach\b")


def probation_end_from_release(folded: str, dates: list[str]) -> str | None:
    """The end of probation as a date value of the same precision, when the message gives the release
    date (one date) and the probation's length, and does not itself say when probation ended."""
    from bot.domain.periods import Period, add_months, period_end
    from vietnamese.entities import parse_duration

    if len(dates) != 1 or _PROBATION_END_SAID.search(folded):
        return None
    said = probation_lengths(folded)
    iso = parse_duration(said[0]) if said else None
    if not iso:
        return None
    period = Period.parse(iso)
    date = dates[0]
    if re.fullmatch(r"\d{4}-\d{2}", date):
        end = add_months(dt.date(int(date[:4]), int(date[5:7]), 1), period.months)
        return f"{end.year:04d}-{end.month:02d}"
    try:
        return period_end(dt.date.fromisoformat(date), period).isoformat()
    except ValueError:
        return None
