"""The topic menu, and the fallback that offers it when the NLU is unsure."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from bot.i18n import N_, gettext, normalize_locale

# (button title, intent payload): the one list of topics, in menu order.
TOPICS: tuple[tuple[str, str], ...] = (
    (N_("Loans"), "/ask_loan"),
    (N_("Clearing a criminal record"), "/ask_expungement"),
    (N_("Papers"), "/ask_documents"),
    (N_("Regular check-in"), "/checkin"),
    (N_("Talk to an officer"), "/request_human"),
)


def tracker_locale(tracker: Tracker) -> str:
    """The locale the channel gave for this message (metadata ``locale``), else the default."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    return normalize_locale(metadata.get("locale"))


def topic_buttons(locale: str) -> list[dict[str, str]]:
    return [{"title": gettext(title, locale), "payload": payload} for title, payload in TOPICS]


class ActionTopicMenu(Action):
    def name(self) -> str:
        return "action_topic_menu"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        locale = tracker_locale(tracker)
        dispatcher.utter_message(
            text=gettext("What would you like to ask about?", locale),
            buttons=topic_buttons(locale),
        )
        return []


class ActionFallbackTopics(Action):
    """Say we did not understand and offer the topics.

    The user's turn is reverted so that an unrecognised message does not become
    part of the dialogue history the policies learn from.
    """

    def name(self) -> str:
        return "action_fallback_topics"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        locale = tracker_locale(tracker)
        dispatcher.utter_message(
            text=gettext(
                "Sorry, I did not understand. Please choose a topic below "
                "or write your question in a few words.",
                locale,
            ),
            buttons=topic_buttons(locale),
        )
        return [UserUtteranceReverted()]
