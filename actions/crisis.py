"""Crisis and distress reach a person (bot.supervision.handover):

* ``crisis`` (a crisis phrase or the model): a critical alert at once to an
  enrolled person's mentor and commune officers with their words, or to the
  on-duty staff; the reply says who was told and when (or that nobody could
  be), and gives the emergency and support lines from data/knowledge.
* ``request_human`` ("Gặp cán bộ"): the same after a crisis (the crisis
  message's words; pressing again queues nothing new); otherwise a handover
  that waits for the morning at night, and the reply says so.
* ``no_police`` ("e ko mún gọi công an đâu"): the options that are not the
  police, and the mentor; never the topic menu.
* ``distress`` (sadness, loneliness, hunger, eviction, relapse): a caring
  reply and an offer to tell the mentor; ``tell_mentor`` does it.

The logic is in plain functions over a Session (tested on both databases);
the actions read the conversation and send the answer.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher
from sqlalchemy import select
from sqlalchemy.orm import Session

from actions.answers import CASE_QUESTION_CONFIDENCE, KNOWLEDGE, chosen_question, question_confidence, utter_question
from actions.common import prologue
from bot.supervision import conversations, handover
from bot.supervision.alerts import mentors_of
from vietnamese.clock import today_in_vietnam, utcnow, vietnam_date
from bot.domain.knowledge import KnowledgeBase
from bot.i18n import N_, gettext
from bot.storage.models import Alert, Person

CRISIS, DISTRESS = "crisis", "distress"
# Questions a crisis message may also ask, answered after the crisis reply (the alert and the
# emergency lines come first, unchanged): "ra tù không có chỗ ở thì sao" also gets where a
# person without a home is taken in (issue 14). Only these: a crisis message's other
# questions (a loan, a paper) wait. nlu.evaluate_questions counts them answered likewise.
ANSWERED_AFTER_CRISIS = frozenset({"support.no_home", "ci.alert", "support.psychological",
                                   "support.discrimination"})
RECENT_TURNS = 6          # how far back "Gặp cán bộ" and "Báo cho người giúp đỡ" look for the words
RECENT_ALERT = dt.timedelta(hours=2)
RELAY_WORDS = 3           # the person's own typed messages that go with a request for a person


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: list[dict[str, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Said:
    """A message the person typed (not a button payload)."""
    text: str
    intent: str
    key: str


def _button(title: str, payload: str, locale: str) -> dict[str, str]:
    return {"title": gettext(title, locale), "payload": payload}


def _lines(kb: KnowledgeBase, now: dt.datetime, locale: str, *, crisis: bool | None = None,
           police: bool | None = None) -> str:
    lines = [x for x in handover.support_lines(kb, vietnam_date(now), locale)
             if (crisis is None or x.crisis == crisis) and (police is None or x.police == police)]
    return handover.lines_text(lines, locale) if lines else ""


def _mentor(s: Session, person: Person | None) -> Person | None:
    if person is None:
        return None
    ids = mentors_of(s, person)
    return s.get(Person, ids[0]) if ids else None


# --- the replies ------------------------------------------------------------------------


def crisis_reply(s: Session, conversation_id: str, key: str, words: str, now: dt.datetime, locale: str,
                 kb: KnowledgeBase = KNOWLEDGE) -> Reply:
    _, told = handover.reach(s, conversation_id, key, CRISIS, words, True, now)
    parts = [gettext("I am so sorry you are going through this. You do not have to get through it alone.", locale),
             handover.told_sentence(told, now, locale) if told else handover.nobody_sentence(locale),
             gettext("If you are in danger right now, call:", locale) + "\n"
             + _lines(kb, now, locale, crisis=True)]
    return Reply("\n".join(parts), [_button(N_("Talk to an officer"), "/request_human", locale)])


def relay_opened_sentence(req: conversations.Requested, now: dt.datetime, locale: str) -> str:
    """What the person is told when their request opens a conversation: with
    whom, when that person gets it, and how to end it."""
    staff = req.staff
    assert staff is not None
    who = gettext(handover.ROLE_LABELS.get(staff.role, handover.ROLE_LABELS["on_duty"]), locale)
    parts = [gettext("I have opened a conversation with {who} ({name}).", locale).format(who=who,
                                                                                         name=staff.display_name)]
    d = req.delivery
    if d.waits_for_window:
        parts.append(gettext("They can only be reached once they write to Lối Về again; your request waits until "
                             "then.", locale))
    elif d.at is not None and d.at > now + dt.timedelta(minutes=1):
        parts.append(gettext("It is their quiet time now: they will get your request at {time}. If it is about "
                             "your safety, say so and they are told at once.", locale).format(
            time=handover.local_hhmm(d.at)))
    else:
        parts.append(gettext("They have been told just now ({time}).", locale).format(time=handover.local_hhmm(now)))
    parts.append(gettext("What you write here now goes to them, and I will tell you when they join. To end it, "
                         "press \u201cEnd conversation\u201d.", locale))
    return " ".join(parts)


def relay_request(s: Session, conversation_id: str, key: str, words: list[str], now: dt.datetime,
                  safety: bool) -> conversations.Requested | None:
    """An enrolled supervisee asking for a person opens a relayed conversation."""
    person = handover.enrolled_person(s, conversation_id)
    if person is None or person.role != "supervisee":
        return None
    req = conversations.request(s, person, f"{conversation_id}:{key}"[:100], words, now, safety=safety)
    return req if req.conversation is not None else None


def handover_reply(s: Session, conversation_id: str, key: str, words: str, now: dt.datetime, locale: str,
                   after_crisis: bool, kb: KnowledgeBase = KNOWLEDGE, recent: list[str] | None = None) -> Reply:
    req = relay_request(s, conversation_id, key, recent if recent is not None else ([words] if words else []),
                        now, after_crisis)
    end = [_button(N_("End conversation"), conversations.CLOSE_PAYLOAD, locale)] if req else []
    if after_crisis:
        reply = crisis_reply(s, conversation_id, key, words, now, locale, kb)
        if req is None:
            return reply
        return Reply(reply.text + "\n" + relay_opened_sentence(req, now, locale), end)
    if req is not None:
        return Reply(relay_opened_sentence(req, now, locale) + "\n" + gettext(
            "If you are in danger, call 113.", locale), end)
    _, told = handover.reach(s, conversation_id, key, "handover", words, False, now)
    first = (handover.told_sentence(told, now, locale) if told else gettext(
        "I could not pass this on to an officer: nobody is on duty to receive it here right now.", locale))
    return Reply("\n".join([first, gettext(
        "You can also contact the police or the People's Committee of your commune directly. "
        "If you are in danger, call 113.", locale)]))


def no_police_reply(s: Session, conversation_id: str, now: dt.datetime, locale: str,
                    kb: KnowledgeBase = KNOWLEDGE) -> Reply:
    person = handover.enrolled_person(s, conversation_id)
    parts = [gettext("You do not have to call the police. These are not the police:", locale),
             _lines(kb, now, locale, police=False)]
    buttons = []
    mentor = _mentor(s, person)
    if mentor is not None:
        parts.append(gettext("Your mentor ({name}) is not the police either: I can tell only them.",
                             locale).format(name=mentor.display_name))
        buttons.append(_button(N_("Tell my mentor"), "/tell_mentor", locale))
    else:
        parts.append(gettext("You can also call someone you trust: family, a friend, a neighbour.", locale))
    if person is not None:  # be honest about what was already passed on
        recent = s.scalars(select(Alert).where(Alert.person_id == person.id, Alert.type.in_((CRISIS, "handover")),
                                               Alert.created_at >= now - RECENT_ALERT)
                           .order_by(Alert.created_at.desc())).first()
        officers = [t for t in handover.told_about(s, recent, now) if t.role == "officer"] if recent else []
        if officers:
            parts.append(gettext("Your earlier message was passed on to your commune officer, who works with the "
                                 "commune police; you can tell them you do not want the police involved.", locale))
    return Reply("\n".join(parts), buttons)


def distress_reply(s: Session, conversation_id: str, now: dt.datetime, locale: str,
                   kb: KnowledgeBase = KNOWLEDGE) -> Reply:
    person = handover.enrolled_person(s, conversation_id)
    mentor = _mentor(s, person)
    parts = [gettext("Thank you for telling me. I am sorry things are this hard; you do not have to carry it "
                     "alone.", locale)]
    if mentor is not None:
        parts.append(gettext("Would you like me to tell your mentor ({name}), so they can get in touch with you?",
                             locale).format(name=mentor.display_name))
        buttons = [_button(N_("Tell my mentor"), "/tell_mentor", locale)]
    else:
        parts.append(gettext("Would you like me to pass this on to an officer?", locale))
        buttons = [_button(N_("Talk to an officer"), "/request_human", locale)]
    listening = _lines(kb, now, locale, crisis=False, police=False)
    if listening:
        parts.append(gettext("If you would like someone to listen:", locale) + "\n" + listening)
    return Reply("\n".join(parts), buttons)


def tell_mentor_reply(s: Session, conversation_id: str, key: str, words: str, now: dt.datetime,
                      locale: str) -> Reply:
    person = handover.enrolled_person(s, conversation_id)
    mentor = _mentor(s, person)
    if person is None or mentor is None:
        return Reply(gettext("You are not registered with a mentor here, so I have nobody to tell. Would you like "
                             "me to pass this on to an officer?", locale),
                     [_button(N_("Talk to an officer"), "/request_human", locale)])
    _, told = handover.alert_person(s, person, f"{DISTRESS}:{conversation_id}:{key}"[:160], DISTRESS, "high", now,
                                    note=words, officers=False)
    if not told:
        return Reply(gettext("Your mentor cannot be reached through Lối Về yet, so I could not tell them. Would you "
                             "like me to pass this on to an officer?", locale),
                     [_button(N_("Talk to an officer"), "/request_human", locale)])
    return Reply(handover.told_sentence(told, now, locale))


# --- reading the conversation -------------------------------------------------------------


def recent_said(tracker: Tracker, limit: int = RECENT_TURNS) -> list[Said]:
    """The person's recent messages, newest first (button payloads included,
    with their intent; their text is not the person's words)."""
    said: list[Said] = []
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        parse = event.get("parse_data") or {}
        said.append(Said(event.get("text") or "", (parse.get("intent") or {}).get("name") or "",
                         str(event.get("message_id") or parse.get("message_id") or event.get("timestamp") or "")))
        if len(said) >= limit:
            break
    return said


def _typed(said: Said) -> str:
    return "" if said.text.startswith("/") else said.text


def _key(said: Said | None) -> str:
    return (said.key if said and said.key else utcnow().isoformat())[:64]


def _context(tracker: Tracker, intents: tuple[str, ...]) -> Said | None:
    """The latest typed message with one of these intents, among the recent ones."""
    return next((x for x in recent_said(tracker) if x.intent in intents and _typed(x)), None)


def _send(dispatcher: CollectingDispatcher, reply: Reply) -> None:
    dispatcher.utter_message(text=reply.text, buttons=reply.buttons)


class ActionCrisis(Action):
    def name(self) -> str:
        return "action_crisis"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        said = (recent_said(tracker, 1) or [None])[0]
        p = prologue(dispatcher, tracker, anonymous_allowed=True)
        with p.sessions.begin() as s:
            _send(dispatcher, crisis_reply(s, tracker.sender_id, _key(said), _typed(said) if said else "", utcnow(),
                                           p.locale))
        today = today_in_vietnam()
        question = chosen_question(tracker, today)
        if (question is not None and question.id in ANSWERED_AFTER_CRISIS
                and question_confidence(tracker) >= CASE_QUESTION_CONFIDENCE):
            return utter_question(dispatcher, question, today, p.locale, tracker)
        return []


class ActionHandover(Action):
    def name(self) -> str:
        return "action_handover"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        crisis = _context(tracker, (CRISIS,))
        said = crisis or (recent_said(tracker, 1) or [None])[0]
        p = prologue(dispatcher, tracker, anonymous_allowed=True)
        recent = [_typed(x) for x in reversed(recent_said(tracker, RELAY_WORDS)) if _typed(x)]
        with p.sessions.begin() as s:
            _send(dispatcher, handover_reply(s, tracker.sender_id, _key(said), _typed(said) if said else "",
                                             utcnow(), p.locale, after_crisis=crisis is not None, recent=recent))
        return []


class ActionNoPolice(Action):
    def name(self) -> str:
        return "action_no_police"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        p = prologue(dispatcher, tracker, anonymous_allowed=True)
        with p.sessions.begin() as s:
            _send(dispatcher, no_police_reply(s, tracker.sender_id, utcnow(), p.locale))
        return []


# Below this confidence a distress intent is the classifier's guess, not the distress words (acceptance_fresh14).
DISTRESS_GUESSED = 0.5


class ActionDistress(Action):
    def name(self) -> str:
        return "action_distress"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        confidence = float(((tracker.latest_message or {}).get("intent") or {}).get("confidence") or 0.0)
        if confidence < DISTRESS_GUESSED:
            # "trong mấy ngày" right after "phải đến đâu trình diện": the classifier's guess of distress
            # (0.36, no distress words: those make it 1.0) gives way to a follow-up of the previous answer
            from actions.followups import previous_answer_followup  # (it builds on answers)
            events = await previous_answer_followup(dispatcher, tracker, domain, sentence=False,
                                                    purpose_words=None, jobs=False)
            if events is not None:
                return events
        p = prologue(dispatcher, tracker, anonymous_allowed=True)
        with p.sessions.begin() as s:
            _send(dispatcher, distress_reply(s, tracker.sender_id, utcnow(), p.locale))
        # "bị kỳ thị ở chỗ làm thì làm sao": a hardship said with a question the knowledge answers;
        # the caring reply, then the answer, so the question is not left unanswered (issue 14)
        today = today_in_vietnam()
        question = chosen_question(tracker, today)
        if question is not None and question_confidence(tracker) >= CASE_QUESTION_CONFIDENCE:
            return utter_question(dispatcher, question, today, p.locale, tracker)
        return []


class ActionTellMentor(Action):
    def name(self) -> str:
        return "action_tell_mentor"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        said = _context(tracker, (DISTRESS, CRISIS, "no_police"))
        p = prologue(dispatcher, tracker, anonymous_allowed=True)
        with p.sessions.begin() as s:
            _send(dispatcher, tell_mentor_reply(s, tracker.sender_id, _key(said), _typed(said) if said else "",
                                                utcnow(), p.locale))
        return []
