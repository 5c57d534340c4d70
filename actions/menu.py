"""The topic menu, and the two-stage fallback that offers topics when the NLU is unsure."""

from __future__ import annotations

from typing import Any

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, UserUtteranceReverted
from rasa_sdk.executor import CollectingDispatcher

from vietnamese.clock import today_in_vietnam
from bot.i18n import N_, gettext, normalize_locale

FALLBACK_ACTION = "action_fallback_topics"
FALLBACK_INTENT = "nlu_fallback"

# Every topic the assistant can be asked about: intent → button title.
TOPIC_LABELS: dict[str, str] = {
    "ask_loan": N_("Loans"),
    "ask_expungement": N_("Clearing a criminal record"),
    "ask_documents": N_("Papers"),
    "ask_criminal_record": N_("Criminal record certificate"),
    "ask_residence": N_("Residence registration"),
    "ask_id_card": N_("ID card"),
    "ask_release_duties": N_("Duties on conditional release"),
    "ask_support": N_("Jobs and other support"),
    "checkin": N_("Regular check-in"),
    "enroll": N_("Register with my officer"),
    "request_human": N_("Talk to an officer"),
}
# The main menu, in order.
MENU: tuple[str, ...] = ("ask_loan", "ask_expungement", "ask_documents", "checkin", "request_human")


def tracker_locale(tracker: Tracker) -> str:
    """The locale the channel gave for this message (metadata ``locale``), else the default."""
    metadata = (tracker.latest_message or {}).get("metadata") or {}
    return normalize_locale(metadata.get("locale"))


def topic_button(intent: str, locale: str) -> dict[str, str]:
    return {"title": gettext(TOPIC_LABELS[intent], locale), "payload": f"/{intent}"}


def topic_buttons(locale: str, intents: tuple[str, ...] = MENU) -> list[dict[str, str]]:
    return [topic_button(i, locale) for i in intents]


def likely_topics(tracker: Tracker, n: int = 2) -> list[str]:
    """The n most likely topic intents of the latest message, best first."""
    ranking = (tracker.latest_message or {}).get("intent_ranking") or []
    return [r["name"] for r in ranking if r.get("name") in TOPIC_LABELS][:n]


def nothing_recognised(tracker: Tracker) -> bool:
    """True when the fallback came from UnknownWordsFallback (no known word at all)."""
    ranking = (tracker.latest_message or {}).get("intent_ranking") or []
    return bool(ranking) and ranking[0].get("name") == FALLBACK_INTENT and ranking[0].get("confidence") == 1.0


def last_bot_action(tracker: Tracker) -> str | None:
    """The bot's last action before the person's latest message (not listening, not a
    session start), or None: what the message may be an answer to."""
    seen_user = False
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            if seen_user:
                return None
            seen_user = True
        elif seen_user and event.get("event") == "action" and event.get("name") not in (
                "action_listen", "action_session_start", None):
            return event.get("name")
    return None


def previous_parse(tracker: Tracker) -> dict[str, Any] | None:
    """The parse data of the person's message before the latest one, or None."""
    seen_latest = False
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if seen_latest:
            return event.get("parse_data") or {}
        seen_latest = True
    return None

def previous_intent(tracker: Tracker) -> str | None:
    """The intent of the person's message before the latest one, or None: the topic the
    bot's last answer was about."""
    seen_latest = False
    for event in reversed(tracker.events):
        if event.get("event") != "user":
            continue
        if seen_latest:
            return ((event.get("parse_data") or {}).get("intent") or {}).get("name")
        seen_latest = True
    return None


def previous_turn_was_fallback(tracker: Tracker) -> bool:
    """Did the user turn before this one also end in the fallback?

    The fallback reverts its user turn, so this reads the raw event log: the
    fallback action between the last two user messages.
    """
    users_seen = 0
    for event in reversed(tracker.events):
        if event.get("event") == "user":
            users_seen += 1
            if users_seen == 2:
                return False
        elif users_seen == 1 and event.get("event") == "action" and event.get("name") == FALLBACK_ACTION:
            return True
    return False


class ActionTopicMenu(Action):
    def name(self) -> str:
        return "action_topic_menu"

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        locale = tracker_locale(tracker)
        from actions.followups import previous_answer_followup  # (it builds on this module)

        # "không kịp thì sao" right after the loan deadline answer, which the classifier calls a "no":
        # a short question read with the previous answer's topic (actions.followups.context_question).
        events = await previous_answer_followup(dispatcher, tracker, domain, sentence=False, purpose_words=None,
                                                jobs=False)
        if events is not None:
            return events
        question = no_with_a_question(tracker) or help_with_a_question(tracker)
        if question is not None:
            from actions.answers import utter_question  # (answers builds on this module)
            return utter_question(dispatcher, question, today_in_vietnam(), locale, tracker)
        dispatcher.utter_message(
            text=gettext("What would you like to ask about?", locale),
            buttons=topic_buttons(locale),
        )
        return []


def no_with_a_question(tracker: Tracker):  # noqa: ANN201 (an Entry or None)
    """A "no" that says what it is about, with nothing asked ("chưa có giấy chứng nhận",
    typed instead of the button "Tôi chưa có giấy chứng nhận" under a loan answer): the
    question the question model is as sure of as it must be to take over another topic
    (nlu.questions.OVERRIDE), when it has the words of a question (MIN_WORDS)."""
    from actions.answers import question_entry
    from nlu.questions import MIN_WORDS, OVERRIDE
    from vietnamese.text import fold

    latest = tracker.latest_message or {}
    ranking = (latest.get("question") or {}).get("ranking") or []
    if (latest.get("intent") or {}).get("name") != "deny" or not ranking:
        return None
    top = ranking[0]
    if float(top.get("confidence") or 0.0) < OVERRIDE or len(fold(latest.get("text") or "").split()) < MIN_WORDS:
        return None
    return question_entry(top.get("id"), today_in_vietnam())


# "thế bạn giúp được gì cho người vừa ra tù": "what can you do" asked about someone's situation is
# that situation's question (what a person just out of prison gets), when the question model is this
# sure of it and the message has this many words; "bạn giúp được gì" alone keeps the menu. A question
# that clearly wins (CLEAR_RATIO times the runner-up) counts from HELP_QUESTION_CLEAR: that message
# had support.what at 0.398 against 0.100 (acceptance_fresh9, 2026-12-02).
HELP_QUESTION_CONFIDENCE = 0.5
HELP_QUESTION_CLEAR = 0.35
HELP_QUESTION_WORDS = 6


def help_with_a_question(tracker: Tracker):  # noqa: ANN201 (an Entry or None)
    from actions.answers import question_entry
    from nlu.questions import CLEAR_RATIO
    from vietnamese.text import fold

    latest = tracker.latest_message or {}
    ranking = (latest.get("question") or {}).get("ranking") or []
    if (latest.get("intent") or {}).get("name") != "help" or not ranking:
        return None
    top = float(ranking[0].get("confidence") or 0.0)
    runner_up = float(ranking[1].get("confidence") or 0.0) if len(ranking) > 1 else 0.0
    sure = top >= HELP_QUESTION_CONFIDENCE or top >= HELP_QUESTION_CLEAR and top >= CLEAR_RATIO * runner_up
    if not sure or len(fold(latest.get("text") or "").split()) < HELP_QUESTION_WORDS:
        return None
    return question_entry(ranking[0].get("id"), today_in_vietnam())


class ActionFallbackTopics(Action):
    """Two-stage fallback.

    1st time: "Did you mean …?" with the two most likely topics as buttons (or,
    if not one word was recognised, the menu).
    2nd time in a row: give up politely, offer the menu and an officer.
    The user's turn is reverted so an unrecognised message does not become part
    of the dialogue history the policies learn from.
    """

    def name(self) -> str:
        return FALLBACK_ACTION

    async def run(
        self, dispatcher: CollectingDispatcher, tracker: Tracker, domain: dict[str, Any]
    ) -> list[EventType]:
        locale = tracker_locale(tracker)
        from actions.followups import previous_answer_followup  # (it builds on this module)
        from actions.answers import loan_question_after_loan_answer, utter_question
        from actions.loans import PURPOSE_WORDS_UNCLASSIFIED

        events = await previous_answer_followup(dispatcher, tracker, domain, purpose_words=PURPOSE_WORDS_UNCLASSIFIED)
        if events is not None:
            return events
        # "ma nop ho so o dau ad" right after a loan answer, which the classifier could not place:
        # where to apply for that loan (as action_answer does for a message routed elsewhere).
        today = today_in_vietnam()
        if (entry := loan_question_after_loan_answer(tracker, today)) is not None:
            return utter_question(dispatcher, entry, today, locale, tracker)
        if previous_turn_was_fallback(tracker):
            dispatcher.utter_message(
                text=gettext(
                    "Sorry, I still cannot understand. Please choose a topic, or talk to an "
                    "officer of your commune.",
                    locale,
                ),
                buttons=topic_buttons(locale),
            )
            return [UserUtteranceReverted()]
        guesses = [] if nothing_recognised(tracker) else likely_topics(tracker)
        if guesses:
            dispatcher.utter_message(
                text=gettext("Did you want to ask about…?", locale),
                buttons=[topic_button(i, locale) for i in guesses]
                + [{"title": gettext("Something else", locale), "payload": "/help"}],
            )
        else:
            dispatcher.utter_message(
                text=gettext(
                    "Sorry, I did not understand. Please choose a topic below "
                    "or write your question in a few words.",
                    locale,
                ),
                buttons=topic_buttons(locale),
            )
        return [UserUtteranceReverted()]
