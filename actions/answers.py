"""Answers of fact from the knowledge base: the entry valid today, with its citation."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType
from rasa_sdk.executor import CollectingDispatcher

from actions.menu import tracker_locale
from vietnamese.clock import today_in_vietnam
from bot.domain.knowledge import KnowledgeBase
from bot.i18n import answer_text, formatters, gettext

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
        entries = KNOWLEDGE.entries_for(intent, today, latest.get("text") or "")
        if not entries:
            dispatcher.utter_message(text=gettext(
                "I do not have a checked answer to this yet. Please ask the police of your commune.", locale))
            return []
        utter_entries(dispatcher, entries, today, locale)
        return []
