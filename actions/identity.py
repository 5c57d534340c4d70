"""Anonymous senders (the web chat without its cookie) get questions and
answers only. The gateway marks their messages with ``"anonymous": true`` in
the metadata, and their conversations live under the channel ``web-anon``,
which can never be linked to a person (bot.supervision.people.ANONYMOUS_CHANNELS). Every
action that touches a person's data (enrollment, check-ins, reminders, alerts,
erasure) calls ``refused_anonymous`` first."""

from __future__ import annotations

from rasa_sdk import Tracker
from rasa_sdk.executor import CollectingDispatcher

from actions.enrollment import database
from actions.menu import tracker_locale
from bot.i18n import gettext
from bot.supervision.people import ANONYMOUS_CHANNELS, ANONYMOUS_ONLY
from bot.storage.models import ChannelIdentity



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
