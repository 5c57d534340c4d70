"""Answers of fact from the knowledge base: the entry valid today, with its citation.

Phone-sized (actions/common.py ``answer_with_details``): the short answer and a
one-line "Căn cứ" (the first source) first; the entry's details, its change
note, the full citation and the caution behind "Xem chi tiết"."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.common import answer_with_details
from actions.knowledge import KNOWLEDGE
from actions.menu import tracker_locale
from vietnamese import text as vtext
from vietnamese.clock import today_in_vietnam
from bot.domain.knowledge import Answer, Entry
from bot.i18n import N_, caution_text, citation_line, formatters, gettext

__all__ = ["KNOWLEDGE", "ActionAnswer", "utter_entries", "short_and_details"]


def short_and_details(answer: Answer, locale: str) -> tuple[str, str]:
    """The first bubble (answer and a one-line citation) and the details (the
    rest, and the full citation when there is more than one source)."""
    short = f"{answer.text}\n{citation_line(answer.cited[0], locale)}" if answer.cited else answer.text
    more = [answer.details] if answer.details else []
    if len(answer.cited) > 1:
        more.append(citation_line(answer.citation, locale))
    return short, "\n".join(more)


def utter_entries(dispatcher: CollectingDispatcher, entries: list, today, locale: str,  # noqa: ANN001
                  buttons: list[dict[str, str]] | None = None, tracker: Tracker | None = None) -> list[EventType]:
    """One short message per knowledge entry, cited; ``buttons`` (and "Xem chi
    tiết" when there is more to say) go on the last one. Returns the events to
    keep (pass ``tracker``: without it, nothing is remembered for the button)."""
    fmt = formatters(locale)
    if tracker is not None:   # the answer for the case the message names ("cải tạo không giam giữ")
        entries = [KNOWLEDGE.variant(e, today, *message_texts(tracker)) for e in entries]
    answers = [KNOWLEDGE.render(entry, today, fmt) for entry in entries]
    parts = [short_and_details(a, locale) for a in answers]
    unverified = [a for a in answers if not a.verified]
    caution = caution_text(unverified[0].confirm_with, locale) if unverified else ""
    if tracker is None:
        for i, (short, _) in enumerate(parts):
            text = f"{short}\n{caution}" if caution and i == len(parts) - 1 else short
            dispatcher.utter_message(text=text, buttons=buttons if buttons and i == len(parts) - 1 else [])
        return []
    details = "\n\n".join(d for _, d in parts if d)
    return answer_with_details(dispatcher, tracker, [s for s, _ in parts], details, caution=caution,
                               buttons=buttons, locale=locale)


@lru_cache(maxsize=1)
def _abbreviations() -> vtext.Abbreviations:
    return vtext.Abbreviations.load()


def message_texts(tracker: Tracker) -> tuple[str, ...]:
    """The latest message as typed and with its abbreviations expanded ("ctkgg")."""
    text = (tracker.latest_message or {}).get("text") or ""
    return (text, _abbreviations().expand(vtext.normalize(text))) if text else ()


# Calculators a question entry may offer (``offer`` in the knowledge files).
OFFER_BUTTONS = {
    "check_loan": (N_("Check if I can borrow"), "/check_loan"),
    "calc_expungement": (N_("Calculate my date"), "/calc_expungement"),
}


# Questions about what the criminal record certificate shows: told with the sentence and
# its completion, they are answered for that story (actions.expungement.story_answer).
RECORD_STORY_INTENTS = ("ask_criminal_record",)
CERTIFICATE_QUESTIONS = ("lltp.what_is", "lltp.no1_vs_no2", "lltp.no1_shows", "lltp.no1_after_expunged",
                         "lltp.for_job")


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
    message with enough confidence (it leaves ``id`` empty otherwise), or the one
    the English page named, if it is valid today."""
    latest = tracker.latest_message or {}
    question = latest.get("question") or {}
    qid = question.get("id") if isinstance(question, dict) else None
    # The English page names the question itself (bot.conversation.english), as metadata
    # the gateway sets: a person cannot type it.
    qid = qid or (latest.get("metadata") or {}).get("question_id")
    return question_entry(qid, today)


def question_entry(qid: object, today: dt.date) -> Entry | None:
    """The question entry with this id, valid today; None when there is no id, no such entry
    today, or the entry is not a question."""
    if not qid:
        return None
    try:
        entry = KNOWLEDGE.entry(str(qid), today)
    except KeyError:
        return None
    return entry if entry.question else None


def utter_question(dispatcher: CollectingDispatcher, entry: Entry, today: dt.date,
                   locale: str, tracker: Tracker) -> list[EventType]:
    """One bubble: the short answer and its one-line citation, the calculators it
    offers, and "Xem chi tiết" when there is more (the entry's details, the full
    citation), kept in the ``details`` slot for action_show_details."""
    entries = asked_with(tracker, entry, today)
    offers = dict.fromkeys(o for e in entries for o in e.offer)
    buttons = [{"title": gettext(OFFER_BUTTONS[o][0], locale), "payload": OFFER_BUTTONS[o][1]}
               for o in offers if o in OFFER_BUTTONS]
    return utter_entries(dispatcher, entries, today, locale, buttons, tracker=tracker)


def asked_with(tracker: Tracker, entry: Entry, today: dt.date) -> list[Entry]:
    """``entry`` and the other questions the latest message asked with it ("làm ở đâu và
    mất bao lâu": nlu.questions.choose_many), in the order asked, each valid today and
    answered in a bubble of its own; just ``entry`` when it asked one."""
    question = (tracker.latest_message or {}).get("question") or {}
    several = question.get("several") if isinstance(question, dict) else None
    if not several or question.get("id") != entry.id or entry.id not in several:
        return [entry]
    out = []
    for qid in several:
        if qid == entry.id:
            out.append(entry)   # as the action gave it (its offer may have been widened)
            continue
        if (other := question_entry(qid, today)) is not None:
            out.append(other)
    return out


def also_asked(tracker: Tracker, today: dt.date, locale: str,
               covered: tuple[str, ...]) -> tuple[list[str], str]:
    """The short answers (one bubble each) and the details of the other questions the latest message
    asked besides the case a calculator answers ("bị 1 năm tù, ra trại 30/4/2025, bao giờ được xóa án
    tích? 2) làm lại thẻ căn cước hết bao nhiêu tiền?"): those of ``several`` whose id does not start with
    one of ``covered`` (what the calculator's answer says itself)."""
    question = (tracker.latest_message or {}).get("question") or {}
    several = question.get("several") if isinstance(question, dict) else None
    entries = [e for qid in several or [] if not qid.startswith(covered)
               and (e := question_entry(qid, today)) is not None]
    if not entries:
        return [], ""
    fmt = formatters(locale)
    entries = [KNOWLEDGE.variant(e, today, *message_texts(tracker)) for e in entries]
    parts = [short_and_details(KNOWLEDGE.render(e, today, fmt), locale) for e in entries]
    return [short for short, _ in parts], "\n\n".join(d for _, d in parts if d)


JOBS_QUESTION = "support.find_job"


def work_said_after_jobs_answer(tracker: Tracker) -> bool:
    """The latest message only tells what work the person does now ("đang đi phụ hồ theo
    ngày", "vẫn chạy xe ôm"), asking nothing, and the bot's last answer was about support
    and jobs: it follows that answer."""
    from actions.checkin import CUES   # (checkin builds on the answers)
    from actions.loans import _ASKS
    from actions.menu import last_bot_action, previous_intent

    text = vtext.fold((tracker.latest_message or {}).get("text") or "").lower()
    if not text or text.startswith("/") or len(text.split()) > 12 or _ASKS.search(text):
        return False
    if last_bot_action(tracker) != "action_answer" or previous_intent(tracker) != "ask_support":
        return False
    return any(re.search(pattern, text) for value, pattern in CUES["ci_activity"] if value in ("working", "looking"))


def jobs_followup(dispatcher: CollectingDispatcher, tracker: Tracker, today: dt.date,
                  locale: str) -> list[EventType] | None:
    """"h e dang di phu ho theo ngay" right after "where do I find a job": the same search goes on
    (job centre, training), whatever topic the classifier guessed or none; else None."""
    if not work_said_after_jobs_answer(tracker):
        return None
    return utter_question(dispatcher, KNOWLEDGE.entry(JOBS_QUESTION, today), today, locale, tracker)


# A short question that names no topic of its own ("mà nộp hồ sơ ở đâu", "bao lâu thì có tiền"),
# typed right after a loan answer, asks about the loan: its own topic words would say otherwise.
OWN_TOPIC = re.compile(r"\b(cu tru|tam tru|thuong tru|ho khau|tam vang|can cuoc|cccd|cmnd|chung minh|ly lich|lltp|"
                       r"an tich|trinh dien|diem danh|an treo|quan che|cai tao|thu thach|viec lam|xin viec|"
                       r"khai sinh|ket hon|ho chieu|xuat canh|bao hiem|tro cap)\b")
LOAN_TOPIC = "loan"
FOLLOWUP_QUESTION_WORDS = 10
FOLLOWUP_MIN_CONFIDENCE = 0.05


def loan_question_after_loan_answer(tracker: Tracker, today: dt.date) -> Entry | None:
    """The loan question a short message asks right after a loan answer when it names no other
    topic ("ma nop ho so o dau ad" after the loan answer is where to apply for the loan, not where to
    register residence): the best-ranked loan question the retriever saw in it, if any."""
    from actions.loans import _after_loan_answer   # (loans builds on the answers)

    latest = tracker.latest_message or {}
    text = vtext.fold(latest.get("text") or "").lower()
    if not text or text.startswith("/") or len(text.split()) > FOLLOWUP_QUESTION_WORDS or OWN_TOPIC.search(text):
        return None
    if not _after_loan_answer(tracker):
        return None
    question = latest.get("question") or {}
    ranking = question.get("ranking") if isinstance(question, dict) else None
    for row in ranking or []:
        if float(row.get("confidence") or 0.0) < FOLLOWUP_MIN_CONFIDENCE:
            break
        if (entry := question_entry(row.get("id"), today)) is not None and entry.topic == LOAN_TOPIC:
            return entry
    return None


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
        from actions.followups import previous_answer_followup  # (it builds on this module)

        if (events := await previous_answer_followup(dispatcher, tracker, domain, sentence=False)) is not None:
            return events
        question = chosen_question(tracker, today)
        if question is None or question.topic != LOAN_TOPIC:
            question = loan_question_after_loan_answer(tracker, today) or question
        if intent in RECORD_STORY_INTENTS and (question is None or question.id in CERTIFICATE_QUESTIONS):
            # "anh tôi đi tù 7 năm, ra tù tháng 5/2020, giờ xin phiếu lý lịch tư pháp có ghi án không":
            # what the certificate shows on the date worked out from the story
            from actions.expungement import story_answer
            events = story_answer(dispatcher, tracker, today, locale, certificate=True)
            if events is not None:
                return events
        if question is not None:
            return utter_question(dispatcher, question, today, locale, tracker)
        entries = KNOWLEDGE.entries_for(intent, today, latest.get("text") or "")
        if not entries:
            dispatcher.utter_message(text=gettext(
                "I do not have a checked answer to this yet. Please ask the police of your commune.", locale))
            return []
        return utter_entries(dispatcher, entries, today, locale, tracker=tracker)
