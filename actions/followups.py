"""Short messages that answer the bot's previous answer, whatever topic the classifier gave them.

One home for the follow-up hooks the topic actions run before their own work:

- "còn nếu bị 9 năm thì sao?" right after an expungement answer asks the same question for that sentence;
  a date alone ("ra hồi tháng 8 năm 2022") after the rule for a sentence is that sentence's completion;
- "chăn nuôi" right after a loan answer is the answer to "vay để làm gì";
- "giờ em đang đi phụ hồ theo ngày" right after the jobs answer goes on with the job search.

This module sits above answers, loans and expungement (it uses all three); the actions in those
modules import it inside ``run``.
"""
from __future__ import annotations

from typing import Any

from rasa_sdk import Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import jobs_followup
from actions.expungement import (ActionExpungementStart, date_after_expungement_answer,
                                 sentence_after_expungement_answer)
from actions.loans import PURPOSE_WORDS, purpose_after_loan_answer, rule_answer
from actions.menu import tracker_locale
from vietnamese.clock import today_in_vietnam


async def previous_answer_followup(dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any], *,
                                   sentence: bool = True, purpose_words: int | None = PURPOSE_WORDS,
                                   jobs: bool = True) -> list[EventType] | None:
    """The events of the answer that follows the bot's previous answer, or None when this message is
    not such a follow-up. ``sentence``: another sentence after an expungement answer; ``purpose_words``:
    the longest purpose read after a loan answer (None: not read); ``jobs``: work after the jobs answer."""
    if sentence and (sentence_after_expungement_answer(tracker) or date_after_expungement_answer(tracker)):
        return await ActionExpungementStart().run(dispatcher, tracker, domain)
    today = today_in_vietnam()
    locale = tracker_locale(tracker)
    if purpose_words is not None and (facts := purpose_after_loan_answer(tracker, purpose_words)) is not None:
        return rule_answer(dispatcher, facts, today, locale)
    if jobs:
        return jobs_followup(dispatcher, tracker, today, locale)
    return None
