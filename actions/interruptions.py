"""A question in the middle of a calculation form (issue 14): answered as it
would be outside the form, then the form goes on with the question it was
asking (data/rules.yml, one rule per form and topic). "thôi" still stops it."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import ActionAnswer
from actions.expungement import asks_about_record, story_answer
from actions.menu import tracker_locale
from bot.i18n import gettext
from vietnamese.clock import today_in_vietnam


class ActionAnswerInForm(Action):
    def name(self) -> str:
        return "action_answer_in_form"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        locale = tracker_locale(tracker)
        events = None
        if asks_about_record(tracker.latest_message or {}):
            # a whole story ("bị 3 năm tù, ra tù 01/06/2023, bao giờ xóa án tích"): its date, computed
            events = story_answer(dispatcher, tracker, today_in_vietnam(), locale)
        if events is None:
            events = await ActionAnswer().run(dispatcher, tracker, domain)
        dispatcher.utter_message(text=gettext(
            "To go on with the calculation, please answer the question below (or say \"thôi\" to stop).",
            locale))
        return events
