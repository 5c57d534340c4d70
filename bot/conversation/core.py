"""The channel-agnostic core: an inbound message from any channel becomes the
same event, goes to Rasa under an opaque conversation id, and comes back as
replies (text + buttons) for the channel to render."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from dataclasses import dataclass, replace
from typing import Any

import anyio
from sqlalchemy import Engine, bindparam, case, create_engine, inspect, select, text, update
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings, load_settings
from bot.supervision import enrollment
from bot.conversation import offered, relay, staff
from bot.conversation.rasa_client import RasaClient, RasaError, RasaUnavailable, Reply, parse_rest_output
from bot.conversation.english import english_turn
from bot.i18n import N_, domain_text, gettext, normalize_locale
from bot.outbox import wake_waiting
from bot.supervision.people import ANONYMOUS_CHANNELS, ANONYMOUS_ONLY
from bot.supervision.enrollment import find_code
from bot.supervision.privacy import ERASE_CONVERSATION
from bot.runtime.rasa_env import tracker_store_config
from vietnamese.clock import utcnow
from bot.storage.db import insert_for
from bot.storage.models import ChannelIdentity, new_id

log = logging.getLogger(__name__)

# What the person gets while Rasa or the action server cannot answer: never
# silence, and never a claim that their message (a check-in answer) was taken.
BUSY = N_("The system is busy, please send your message again in a few minutes.")


def busy_reply(locale: str | None) -> Reply:
    return Reply(gettext(BUSY, locale))


@dataclass(frozen=True)
class Turn:
    replies: list[Reply]
    conversation_id: str | None   # None: refused before the identity was looked up


@dataclass(frozen=True)
class Inbound:
    channel: str
    external_id: str
    text: str
    locale: str | None = None
    # Where the request came from (the web chat's client address), for the
    # per-source limit on enrollment codes; never stored or logged as such.
    source: str | None = None
    # The platform's id of this message (set by bot.conversation.inbound):
    # keys a relayed message so that a retry or a restart sends it once.
    event_id: str | None = None

    @property
    def anonymous(self) -> bool:
        """A sender that proved nothing (the web chat without its cookie):
        questions and answers only, never linked to a person."""
        return self.channel in ANONYMOUS_CHANNELS


# Answers the gateway gives itself, without Rasa (so nothing reaches a tracker).
NOT_OFFERED = N_("Sorry, I cannot do this from a typed command. Please use the buttons I sent you.")
CODE_REFUSALS = {
    enrollment.INVALID: N_(
        "This code is not right or has expired. Please check it, or ask your officer for a new one."),
    enrollment.RATE_LIMITED: N_("Too many wrong codes. Please try again in an hour, or ask your officer."),
}


def resolve_identity(
    sessions: sessionmaker[Session], channel: str, external_id: str, locale: str | None
) -> tuple[str, str]:
    """Get or create the identity (safe under concurrent first messages) and mark
    this inbound time: the chat is reachable again, and reminders that waited
    for the person to write go back to the queue. Returns (conversation id, locale)."""
    now = utcnow()
    with sessions.begin() as s:
        s.execute(
            insert_for(s)(ChannelIdentity)
            .values(
                id=new_id(),
                channel=channel,
                external_id=external_id,
                locale=normalize_locale(locale),
                created_at=now,
                last_inbound_at=now,
            )
            .on_conflict_do_nothing(index_elements=["channel", "external_id"])
        )
        # Never backwards: a concurrent first message may have created the row after this "now".
        latest = case((ChannelIdentity.last_inbound_at < now, now), else_=ChannelIdentity.last_inbound_at)
        values: dict[str, object] = {"last_inbound_at": latest, "unreachable_at": None, "replies_since_inbound": 0,
                                     "transient_until": None}  # a real turn: a chat that stays
        if locale:
            values["locale"] = normalize_locale(locale)
        s.execute(
            update(ChannelIdentity)
            .where(ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id)
            .values(**values)
        )
        row = s.execute(
            select(ChannelIdentity.id, ChannelIdentity.locale, ChannelIdentity.person_id).where(
                ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id
            )
        ).one()
        if row.person_id is not None:
            wake_waiting(s, row.person_id, now)
    return row.id, row.locale


_START = re.compile(r"^\s*/start(?:\s+|$)", re.IGNORECASE)


# Rasa's own reading of "/intent@confidence{entities}" (YAMLStoryReader._regex_message_pattern).
_PAYLOAD = re.compile(r"^/(?P<intent>[^{@]+)(?:@[0-9.]+)?(?P<entities>\{.+\})?", re.DOTALL)


def enroll_payload(code: str) -> str:
    return '/enroll{"enrollment_code": "%s"}' % code


def enrollment_code_in(text: str) -> str | None:
    """The code this message offers for enrollment, if any: a message that is
    only a code, a deep link "/start CODE", or a typed /enroll{...} payload
    (whatever its code looks like). The gateway checks every one of them
    (bot.supervision.enrollment) before Rasa sees it."""
    stripped = text.strip()
    start = _START.match(stripped)
    rest = stripped[start.end():] if start else stripped
    code = find_code(rest)
    if code and (start or rest.upper() == code):
        return code
    payload = _PAYLOAD.match(stripped)
    if payload and payload.group("intent").strip() == "enroll" and payload.group("entities"):
        try:
            entities = json.loads(payload.group("entities"))
        except ValueError:
            return None
        value = entities.get("enrollment_code") if isinstance(entities, dict) else None
        if isinstance(value, str) and value.strip():
            return "".join(ch for ch in value.upper() if ch.isalnum())[:64] or None
    return None


def as_rasa_text(text: str) -> str:
    """Enrollment codes reach Rasa as an intent payload: a message that is only a
    code, or a deep link "/start CODE", becomes /enroll{"enrollment_code": CODE}.
    Everything else (including Rasa button payloads) passes unchanged."""
    stripped = text.strip()
    start = _START.match(stripped)
    code = enrollment_code_in(stripped)
    if code and not stripped.startswith("/enroll"):
        return enroll_payload(code)
    if start:  # "/start" without a (valid-looking) code: a greeting
        return "/greet"
    return text


def in_locale(replies: list[Reply], locale: str) -> list[Reply]:
    """Rasa's own responses (domain.yml, Vietnamese) in the page's language."""
    if locale == "vi":
        return replies
    return [Reply(text=domain_text(r.text, locale),
                  buttons=tuple(replace(b, title=domain_text(b.title, locale)) for b in r.buttons))
            for r in replies]


def peek_identity(sessions: sessionmaker[Session], channel: str, external_id: str) -> tuple[str, str] | None:
    """(conversation id, locale) of an existing identity; creates nothing."""
    with sessions() as s:
        row = s.execute(select(ChannelIdentity.id, ChannelIdentity.locale).where(
            ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id)).first()
    return (row.id, row.locale) if row is not None else None


def payload_was_offered(sessions: sessionmaker[Session], identity_id: str | None, text: str) -> bool:
    with sessions() as s:
        return offered.was_offered(s, identity_id, text)


def record_offered(sessions: sessionmaker[Session], identity_id: str, replies: list[Reply]) -> None:
    payloads = [b.payload for r in replies for b in r.buttons]
    if any(offered.guarded(p) for p in payloads):
        with sessions.begin() as s:
            offered.record(s, identity_id, payloads, utcnow())


# --- control messages: custom JSON an action sends to the gateway, never shown ---

# A turn of the same conversation that was already waiting behind the erasing
# one when its history was wiped saves its (stale) copy of the events back
# (Rasa's SQL tracker store appends what it believes is missing): wipe again
# once such a turn must be over.
SECOND_WIPE_AFTER_S = 45.0


def controls(items: Any) -> list[dict[str, Any]]:
    """The custom messages of one turn's Rasa output that are addressed to us."""
    if not isinstance(items, list):
        return []
    return [item["custom"] for item in items
            if isinstance(item, dict) and isinstance(item.get("custom"), dict) and "loive" in item["custom"]]


def tracker_database_url(settings: Settings) -> URL:
    """Where Rasa keeps the trackers: the same rule that configures Rasa
    (bot.runtime.rasa_env.tracker_store_config), as a SQLAlchemy URL."""
    cfg = tracker_store_config(settings)
    if cfg["dialect"] == "sqlite":
        return URL.create("sqlite", database=cfg["db"])
    return URL.create("postgresql+psycopg", username=cfg.get("username"), password=cfg.get("password"),
                      host=cfg["url"], port=cfg["port"], database=cfg["db"], query=cfg.get("query") or {})


def tracker_engine(settings: Settings) -> Engine:
    url = tracker_database_url(settings)
    if url.get_backend_name() == "sqlite":
        return create_engine(url, connect_args={"timeout": 30})  # Rasa writes the same file
    return create_engine(url, pool_pre_ping=True, pool_size=1, max_overflow=2)


def wipe_conversations(sessions: sessionmaker[Session], trackers: Engine, turn_conversation: str,
                       others: list[str], before: float) -> int:
    """Delete the tracker events (message texts, slots, everything) stamped
    before ``before`` (Unix time) of the conversation whose turn asked for it,
    and of the ``others`` that really were erased (their identity is forgotten:
    ``erased:``); nothing else, whatever the message said. Returns rows deleted.

    Rasa's HTTP API cannot do this: ``PUT /conversations/{id}/tracker/events``
    makes the SQL tracker store save the given events *after* those it already
    has (SQLTrackerStore.save appends), so an empty list deletes nothing."""
    ids = [turn_conversation]
    if others:
        with sessions() as s:
            ids += list(s.scalars(select(ChannelIdentity.id).where(
                ChannelIdentity.id.in_([str(o) for o in others]), ChannelIdentity.id != turn_conversation,
                ChannelIdentity.external_id.like("erased:%"))))
    statement = text("DELETE FROM events WHERE sender_id IN :ids AND timestamp <= :before").bindparams(
        bindparam("ids", expanding=True))
    with trackers.begin() as conn:
        if not inspect(conn).has_table("events"):
            return 0
        return conn.execute(statement, {"ids": ids, "before": before}).rowcount


class Core:
    def __init__(self, sessions: sessionmaker[Session], rasa: RasaClient, settings: Settings | None = None) -> None:
        self.sessions = sessions
        self.rasa = rasa
        self._settings = settings
        self._trackers: Engine | None = None
        self._pending: set[asyncio.Task[None]] = set()

    def trackers(self) -> Engine:
        if self._trackers is None:
            self._trackers = tracker_engine(self._settings or load_settings())
        return self._trackers

    def settings(self) -> Settings:
        if self._settings is None:
            self._settings = load_settings()
        return self._settings

    async def refusal(self, msg: Inbound) -> list[Reply] | None:
        """The gateway's own answer to a message Rasa must not see: an
        enrollment code that is refused (or any code from an anonymous sender),
        a payload acting on an alert or reminder that was never offered to this
        conversation. None when the message may go on to Rasa."""
        code = enrollment_code_in(msg.text)
        acting = offered.guarded(msg.text)
        if code is None and not acting:
            return None
        known = await anyio.to_thread.run_sync(peek_identity, self.sessions, msg.channel, msg.external_id)
        locale = normalize_locale(msg.locale or (known[1] if known else None) or self.settings().locale)
        if msg.anonymous:
            verdict: str | None = ANONYMOUS_ONLY
        elif code is not None:
            outcome = await anyio.to_thread.run_sync(enrollment.attempt, self.sessions, self.settings(),
                                                     msg.channel, msg.external_id, msg.source, code)
            verdict = CODE_REFUSALS.get(outcome)
        else:
            shown = await anyio.to_thread.run_sync(payload_was_offered, self.sessions,
                                                   known[0] if known else None, msg.text)
            verdict = None if shown else NOT_OFFERED
        if verdict is None:
            return None
        log.info("turn channel=%s refused by the gateway (%s)", msg.channel,
                 "anonymous" if msg.anonymous else "code" if code is not None else "payload not offered")
        return [Reply(gettext(verdict, locale))]

    async def handle(self, msg: Inbound) -> list[Reply]:
        return (await self.turn(msg)).replies

    async def turn(self, msg: Inbound) -> Turn:
        """One turn: the replies, and the conversation (identity) they belong to,
        so that a channel need not look it up again. On RasaUnavailable/RasaError
        the exception carries ``replies`` and ``conversation_id`` the same way."""
        started = time.perf_counter()
        refused = await self.refusal(msg)
        if refused is not None:
            return Turn(refused, None)
        conversation_id, locale = await anyio.to_thread.run_sync(
            resolve_identity, self.sessions, msg.channel, msg.external_id, msg.locale
        )
        if not msg.anonymous:
            # A staff member's menu words, unless they are typed in a relayed conversation (then they are relayed).
            typed_in_relay = not msg.text.strip().startswith("/") and await anyio.to_thread.run_sync(
                relay.in_conversation, self.sessions, conversation_id)
            menu = None if typed_in_relay else await anyio.to_thread.run_sync(
                staff.route, self.sessions, self.settings(), conversation_id, msg.text, locale, utcnow())
            if menu is not None:
                await anyio.to_thread.run_sync(record_offered, self.sessions, conversation_id, menu)
                log.info("turn channel=%s conversation=%s staff menu replies=%d", msg.channel, conversation_id,
                         len(menu))
                return Turn(menu, conversation_id)
            key = f"{msg.channel}:{msg.event_id}" if msg.event_id else f"{msg.channel}:{new_id()}"
            routed = await anyio.to_thread.run_sync(relay.route, self.sessions, conversation_id, msg.text, key,
                                                    locale, utcnow())
            if routed is not None:
                if not routed.to_rasa:
                    await anyio.to_thread.run_sync(record_offered, self.sessions, conversation_id, routed.replies)
                    log.info("turn channel=%s conversation=%s relayed replies=%d", msg.channel, conversation_id,
                             len(routed.replies))
                    return Turn(routed.replies, conversation_id)
                # safety: relayed, and Rasa's crisis path answers as well
                relayed = routed.replies
            else:
                relayed = []
        else:
            relayed = []
        metadata: dict[str, Any] = {"channel": msg.channel, "locale": locale}
        if msg.anonymous:
            metadata["anonymous"] = True   # actions answer questions only (actions/common.py prologue)
        try:
            text = as_rasa_text(msg.text)
            if locale == "en":
                english = english_turn(text)
                text = english.text
                if english.question_id:
                    metadata["question_id"] = english.question_id   # answered by actions.answers.chosen_question
            items = await self.rasa.send_raw(conversation_id, text, metadata)
            replies = in_locale(parse_rest_output(items), locale)
        except (RasaUnavailable, RasaError) as exc:
            # The channel answers with this (the web chat along with its 5xx).
            exc.replies = [busy_reply(locale)]  # type: ignore[attr-defined]
            exc.conversation_id = conversation_id  # type: ignore[attr-defined]
            log.warning("turn channel=%s conversation=%s not answered: %s", msg.channel, conversation_id,
                        type(exc).__name__)
            raise
        if not replies:
            # Rasa answered nothing: a custom action failed (the action server is
            # down or restarting) and Rasa carried on silently.
            log.warning("turn channel=%s conversation=%s: Rasa gave no reply (action server down?)",
                        msg.channel, conversation_id)
            replies = [busy_reply(locale)]
        replies = relayed + replies
        await anyio.to_thread.run_sync(record_offered, self.sessions, conversation_id, replies)
        for control in controls(items):
            if control.get("loive") == ERASE_CONVERSATION:
                others = control.get("conversations")
                await self.erase_conversation(conversation_id, others if isinstance(others, list) else [])
        # Never log message bodies or platform ids: the opaque id and counts only.
        log.info(
            "turn channel=%s conversation=%s replies=%d ms=%.0f",
            msg.channel,
            conversation_id,
            len(replies),
            (time.perf_counter() - started) * 1000,
        )
        return Turn(replies, conversation_id)

    async def erase_conversation(self, conversation_id: str, others: list[str]) -> None:
        """Wipe the history now (Rasa saved this turn before answering), and
        once more later for a turn that was queued behind this one."""
        before = time.time()   # Rasa stamps tracker events with its own wall clock (time.time)
        await self._wipe(conversation_id, others, before)
        task = asyncio.create_task(self._wipe_later(conversation_id, others, before))
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def _wipe(self, conversation_id: str, others: list[str], before: float) -> None:
        try:
            n = await anyio.to_thread.run_sync(wipe_conversations, self.sessions, self.trackers(), conversation_id,
                                               others, before)
        except Exception:  # the person was already told; the second pass retries
            log.exception("conversation wipe failed conversation=%s", conversation_id)
            return
        log.info("conversation wiped conversation=%s others=%d events=%d", conversation_id, len(others), n)

    async def _wipe_later(self, conversation_id: str, others: list[str], before: float) -> None:
        await asyncio.sleep(SECOND_WIPE_AFTER_S)
        await self._wipe(conversation_id, others, before)

