"""Short messages that answer the bot's previous answer, whatever topic the classifier gave them.

One home for the follow-up hooks the topic actions run before their own work:

- "còn nếu bị 9 năm thì sao?" right after an expungement answer asks the same question for that sentence;
  a date alone ("ra hồi tháng 8 năm 2022") after the rule for a sentence is that sentence's completion;
- "chăn nuôi" right after a loan answer is the answer to "vay để làm gì";
- "giờ em đang đi phụ hồ theo ngày" right after the jobs answer goes on with the job search;
- a short question that names no subject ("thế còn lãi suất?", "mất bao nhiêu tiền", "nếu chưa nộp
  phạt thì sao", "báo cáo cho ai, khi nào?") asks it about the topic of the previous answer
  (``context_question``: the reading nlu.questions.context_readings made with that topic's subject).

This module sits above answers, loans and expungement (it uses all three); the actions in those
modules import it inside ``run``.
"""
from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import jobs_followup, question_entry, utter_question
from actions.expungement import (ActionExpungementStart, date_after_expungement_answer,
                                 sentence_after_expungement_answer)
from actions.loans import PURPOSE_WORDS, jobs_question_for_the_case, purpose_after_loan_answer, rule_answer
from actions.menu import previous_parse, tracker_locale
from vietnamese.clock import today_in_vietnam


async def previous_answer_followup(dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], *,
                                   sentence: bool = True, purpose_words: int | None = PURPOSE_WORDS,
                                   jobs: bool = True, context: bool = True) -> list[EventType] | None:
    """The events of the answer that follows the bot's previous answer, or None when this message is
    not such a follow-up. ``sentence``: another sentence after an expungement answer; ``purpose_words``:
    the longest purpose read after a loan answer (None: not read); ``jobs``: work after the jobs answer."""
    if sentence and (sentence_after_expungement_answer(tracker) or date_after_expungement_answer(tracker)):
        return await ActionExpungementStart().run(dispatcher, tracker, domain)
    today = today_in_vietnam()
    locale = tracker_locale(tracker)
    if purpose_words is not None and (facts := purpose_after_loan_answer(tracker, purpose_words)) is not None:
        return rule_answer(dispatcher, facts, today, locale)
    if jobs and (events := jobs_followup(dispatcher, tracker, today, locale)) is not None:
        return events
    if context and (entry := context_question(tracker, today)) is not None:
        return utter_question(dispatcher, entry, today, locale, tracker)
    return None




# Entities that make a message a case of its own rather than a follow-up; a penalty named alone is not one
# ("thế còn án treo thì sao" after the answer for a prison term, acceptance_fresh14).
CASE_FACTS = frozenset({"date", "duration", "money", "age_group"})
# A reading of the previous answer's topic is kept from this confidence (nlu.questions.ACCEPT),
# and only when it is more confident than the message's own best question.
CONTEXT_ACCEPT = 0.3


def context_question(tracker: Tracker, today):  # noqa: ANN001, ANN201 (a date; an Entry or None)
    """The question a short follow-up asks about the previous answer's topic ("mất bao nhiêu tiền"
    right after "xin phiếu LLTP ở đâu" is the fee of that certificate), or None: the message is a
    short question with no case facts (no date, length, amount or age: ``CASE_FACTS``), the previous
    message had a topic, and the reading with that topic's subject (``question.context``) is confident
    and beats the message's own."""
    from nlu.questions import context_key, family

    latest = tracker.latest_message or {}
    question = latest.get("question") or {}
    readings = question.get("context") if isinstance(question, dict) else None
    if not readings or any(e.get("entity") in CASE_FACTS for e in latest.get("entities") or []):
        return None
    previous = previous_parse(tracker)
    if not previous:
        return None
    prev_question = previous.get("question") or {}
    prev_id = (prev_question.get("id") if isinstance(prev_question, dict) else None) or \
        (previous.get("metadata") or {}).get("question_id")
    prev_intent = (previous.get("intent") or {}).get("name")
    if not prev_id and isinstance(prev_question, dict):
        # the previous answer was its topic's: the topic's likeliest question says what it was about ("bố
        # được tha tù trước thời hạn, có được sang Hàn Quốc không" → the duties of early release)
        topic = context_key(None, prev_intent)
        prev_id = next((r.get("id") for r in prev_question.get("ranking") or []
                        if topic and family(r.get("id") or "") == family(topic)), None)
    key = context_key(prev_id, prev_intent)
    reading = readings.get(key) if key else None
    if not reading:
        return None
    qid, confidence = reading[0], float(reading[1])
    own = question.get("ranking") or []
    own_best = float(own[0].get("confidence") or 0.0) if own else 0.0
    if confidence < CONTEXT_ACCEPT or (own and own[0].get("id") != qid and own_best >= confidence):
        return None
    # "lãi suất bn" after the answer that only the job-creation loan fits: that loan's rate
    return jobs_question_for_the_case(tracker, qid, today) or question_entry(qid, today)
