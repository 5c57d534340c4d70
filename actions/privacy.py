""""Xóa dữ liệu của tôi": say what is erased and what is kept, ask, then erase.

The erasure itself is ``bot.supervision.privacy.erase_from_chat`` (the person's data if the
chat is enrolled; the chat's own message copies in any case). The chat history
lives in Rasa's tracker store, which cannot be changed from inside a turn (Rasa
saves the turn after this action), so the action ends with a control message
``{"loive": "erase_conversation", "conversations": [...]}`` that the gateway
acts on once the turn is over (``bot.conversation.core``); channels never show it.
"""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.common import prologue
from actions.menu import last_bot_action, tracker_locale
from bot.supervision import people, privacy
from bot.supervision.privacy import ERASE_CONVERSATION
from bot.supervision.checkins import person_for_identity
from bot.i18n import gettext

ASK = "action_erase_ask"


def asked_just_before(tracker: Tracker) -> bool:
    """True when the bot's last action before this message was the question:
    erasure cannot be undone, so a "yes" counts only as the answer to it."""
    return last_bot_action(tracker) == ASK


class ActionEraseAsk(Action):
    def name(self) -> str:
        return ASK

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        if (p := prologue(dispatcher, tracker)) is None:
            return [ActiveLoop(None), SlotSet("requested_slot", None)]
        locale, sessions = p.locale, p.sessions
        with sessions() as s:
            person = person_for_identity(s, tracker.sender_id)
        if person is not None:
            lines = [gettext(
                "I will erase your data: your name, report schedule, reports, reminders, the date you asked me "
                "to remember and this conversation; this chat will no longer be linked to you.", locale),
                gettext("Kept, for accountability: the log of who viewed or changed your data, and past alerts "
                        "(without your name or their details).", locale)]
            if person.role == "supervisee":
                lines.append(gettext("You will still have to report to the commune police as arranged.", locale))
        else:
            lines = [gettext("I will erase this conversation and the messages waiting for you here. You have not "
                             "registered, so nothing else about you is stored.", locale)]
        text = "\n".join([*lines, gettext("Erase now?", locale)])
        dispatcher.utter_message(text=text, buttons=[
            {"title": gettext("Erase", locale), "payload": "/affirm"},
            {"title": gettext("No, keep it", locale), "payload": "/deny"}])
        # A form in progress (a calculation, a check-in) stops here, so that the
        # next message answers this question and not the form's.
        return [ActiveLoop(None), SlotSet("requested_slot", None)]


class ActionEraseFinish(Action):
    def name(self) -> str:
        return "action_erase_finish"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        if (p := prologue(dispatcher, tracker)) is None:
            return []
        locale, sessions = p.locale, p.sessions
        if not asked_just_before(tracker):
            dispatcher.utter_message(text=gettext(
                "To erase your data, write \"xóa dữ liệu của tôi\" and confirm.", locale))
            return []
        with sessions.begin() as s:
            enrolled = person_for_identity(s, tracker.sender_id) is not None
            conversations = privacy.erase_from_chat(s, tracker.sender_id)
        if enrolled:
            dispatcher.utter_message(text=gettext(
                "Done: your data and this conversation are erased, and this chat is no longer linked to you. "
                "Kept, for accountability: the log of who viewed or changed your data, and past alerts "
                "without your name or their details.", locale))
        else:
            dispatcher.utter_message(text=gettext("Done: this conversation is erased.", locale))
        dispatcher.utter_message(json_message={"loive": ERASE_CONVERSATION, "conversations": conversations})
        return []


class ActionEraseDeclined(Action):
    def name(self) -> str:
        return "action_erase_declined"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker,
                  domain: dict[str, Any]) -> list[EventType]:
        dispatcher.utter_message(text=gettext("All right, nothing was erased.", tracker_locale(tracker)))
        return []
