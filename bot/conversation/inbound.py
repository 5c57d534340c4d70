"""One path for every webhook channel: dedupe → Rasa → replies into the outbox.

A platform that retries a webhook (Telegram on a non-2xx or a timeout, Zalo
within seconds) sends the same update id again; ``claim_event`` lets exactly
one request process it. The turn's replies become outbox rows keyed by the
event id (``reply:<channel>:<event>:<n>``), written in the same transaction that
marks the event done, so a crash anywhere neither loses the reply (the event
can be taken over) nor sends it twice (the keys). The dispatcher then delivers
them with the channel's own rendering and rate limits; replies bypass quiet
hours (the person just wrote).
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import hmac
import json
import logging
import secrets
from collections.abc import Awaitable, Callable

import anyio
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.supervision import enrollment
from bot.conversation.core import Core, Inbound, busy_reply, resolve_identity
from bot.conversation.rasa_client import RasaError, RasaUnavailable, Reply
from bot.i18n import gettext
from bot.outbox import enqueue_reply
from bot.storage.db import insert_for
from vietnamese.clock import utcnow
from bot.storage.models import CallbackPayload, ChannelIdentity, InboundEvent

log = logging.getLogger(__name__)

# A turn normally takes well under a second; an event still "processing" after
# this long belongs to a gateway that died, and a platform retry may take it over.
TAKEOVER_AFTER = dt.timedelta(minutes=2)


# The largest webhook body any platform sends us; anything bigger is refused unread.
MAX_WEBHOOK_BYTES = 1024 * 1024


async def webhook_body(request: Request, header: str, secret: str | None = None) -> tuple[str, bytes] | Response:
    """The authentication header's value and the raw body of a platform
    webhook, or the refusal to send back instead: 403 when the header is
    missing or, given ``secret``, differs from it (compared in constant time),
    before the body is read; 413 when the body is too large. A channel whose
    signature covers the body (Zalo OA) checks it itself afterwards."""
    value = request.headers.get(header, "")
    if not value or (secret is not None and not hmac.compare_digest(value.encode(), secret.encode())):
        return JSONResponse({"error": "forbidden"}, status_code=403)
    body = await read_body(request, MAX_WEBHOOK_BYTES)
    if body is None:  # the connection closes: the rest of the body is not even drained
        return JSONResponse({"error": "too large"}, status_code=413, headers={"Connection": "close"})
    return value, body


async def read_body(request: Request, limit: int) -> bytes | None:
    """The request body, or None as soon as it is known to exceed ``limit``
    bytes: from the Content-Length header before anything is read, else while
    it streams in (never more than ``limit`` plus one chunk is held)."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)


MAX_JSON_DEPTH = 32  # no platform nests deeper than a few levels


def parse_json(body: bytes | str) -> object:
    """Parse a JSON body; ValueError for anything a handler should answer with
    4xx: invalid JSON, nesting deeper than MAX_JSON_DEPTH (json.loads itself
    overflows the stack at about 1000 levels), and strings that no database
    can store (a lone UTF-16 surrogate, a NUL character)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError, UnicodeDecodeError):
        raise ValueError("invalid JSON") from None
    stack: list[tuple[object, int]] = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValueError("JSON nested too deep")
        if isinstance(value, dict):
            stack.extend((k, depth) for k in value)
            stack.extend((v, depth + 1) for v in value.values())
        elif isinstance(value, list):
            stack.extend((v, depth + 1) for v in value)
        elif isinstance(value, str):
            check_text(value)
    return data


def check_text(value: str) -> None:
    """ValueError for a string that cannot be stored as text: a lone surrogate
    (not encodable as UTF-8) or a NUL (PostgreSQL refuses it in text)."""
    if "\x00" in value:
        raise ValueError("NUL character in a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("lone surrogate in a string") from None


def claim_event(sessions: sessionmaker[Session], channel: str, event_id: str,
                now: dt.datetime | None = None) -> bool:
    """True if this request should process the event; False for a duplicate."""
    now = now or utcnow()
    with sessions.begin() as s:
        new = s.execute(insert_for(s)(InboundEvent).values(channel=channel, event_id=event_id, status="processing",
                                                            received_at=now)
                        .on_conflict_do_nothing(index_elements=["channel", "event_id"])
                        .returning(InboundEvent.id)).first()
        if new is not None:
            return True
        return bool(s.execute(update(InboundEvent)
                              .where(InboundEvent.channel == channel, InboundEvent.event_id == event_id,
                                     InboundEvent.status == "processing",
                                     InboundEvent.received_at < now - TAKEOVER_AFTER)
                              .values(received_at=now)).rowcount)


def release_event(sessions: sessionmaker[Session], channel: str, event_id: str) -> None:
    """The turn failed before any reply was queued: let the platform's retry in."""
    with sessions.begin() as s:
        s.query(InboundEvent).filter(InboundEvent.channel == channel, InboundEvent.event_id == event_id,
                                     InboundEvent.status == "processing").delete(synchronize_session=False)


def finish_event(sessions: sessionmaker[Session], channel: str, event_id: str, identity_id: str,
                 replies: list[Reply], now: dt.datetime | None = None) -> int:
    """Queue the replies and mark the event done, atomically. Returns rows queued."""
    now = now or utcnow()
    with sessions.begin() as s:
        n = 0
        for i, reply in enumerate(replies):
            body = json.dumps(reply.as_dict(), ensure_ascii=False)
            n += enqueue_reply(s, f"reply:{channel}:{event_id}:{i}", identity_id, body, now + dt.timedelta(
                microseconds=i))  # keeps the order of a turn's replies
        s.execute(update(InboundEvent).where(InboundEvent.channel == channel, InboundEvent.event_id == event_id)
                  .values(status="done"))
        s.execute(update(ChannelIdentity).where(ChannelIdentity.id == identity_id)
                  .values(unreachable_at=None, replies_since_inbound=0))
    return n


def identity_of(sessions: sessionmaker[Session], channel: str, external_id: str) -> str | None:
    with sessions() as s:
        return s.scalar(select(ChannelIdentity.id).where(ChannelIdentity.channel == channel,
                                                         ChannelIdentity.external_id == external_id))


async def receive(core: Core, msg: Inbound, event_id: str, wake: Callable[[], None] | None = None) -> bool:
    """Process one inbound message once. Returns False for a duplicate. When
    Rasa or the action server cannot answer, the person is told so ("busy,
    send it again in a few minutes") and the event is done: a platform retry
    minutes later would answer a message the person may already have resent.
    Raises (after releasing the event, so the platform's retry is processed)
    on any other failure."""
    sessions = core.sessions
    if not await anyio.to_thread.run_sync(claim_event, sessions, msg.channel, event_id):
        log.info("duplicate event channel=%s ignored", msg.channel)
        return False
    if msg.event_id is None:
        msg = dataclasses.replace(msg, event_id=event_id)
    try:
        turn = await core.turn(msg)
        replies, identity = turn.replies, turn.conversation_id
    except (RasaUnavailable, RasaError) as exc:
        replies = getattr(exc, "replies", None) or [busy_reply(msg.locale)]
        identity = getattr(exc, "conversation_id", None)
    except Exception:
        await anyio.to_thread.run_sync(release_event, sessions, msg.channel, event_id)
        raise
    if identity is None:  # refused before Core.handle looked the identity up
        identity = await anyio.to_thread.run_sync(identity_of, sessions, msg.channel, msg.external_id)
    if identity is None:  # the gateway refused a code from a new chat: an address for the answer only
        identity = await anyio.to_thread.run_sync(enrollment.transient_identity, sessions, msg.channel,
                                                  msg.external_id, msg.locale)
    await anyio.to_thread.run_sync(finish_event, sessions, msg.channel, event_id, identity, replies)
    if wake is not None:
        wake()
    return True


async def reply_directly(core: Core, channel: str, event_id: str, external_id: str, msgid: str,
                         wake: Callable[[], None] | None = None, locale: str | None = None) -> None:
    """A fixed answer without Rasa (a photo was sent, a protected account),
    deduplicated and queued like any reply. ``msgid`` is a catalog message."""
    sessions = core.sessions
    if not await anyio.to_thread.run_sync(claim_event, sessions, channel, event_id):
        return
    identity, locale = await anyio.to_thread.run_sync(resolve_identity, sessions, channel, external_id, locale)
    await anyio.to_thread.run_sync(finish_event, sessions, channel, event_id, identity, [Reply(gettext(msgid, locale))])
    if wake is not None:
        wake()


# --- button payloads longer than a platform allows ------------------------------------

EXPIRED_PAYLOAD = "/help"  # a stored payload that is gone (purged): show the menu


def store_payload(sessions: sessionmaker[Session], payload: str) -> str:
    """Keep a long button payload in the database; returns ``cb:<opaque id>``."""
    key = secrets.token_urlsafe(12)
    with sessions.begin() as s:
        s.add(CallbackPayload(id=key, payload=payload, created_at=utcnow()))
    return f"cb:{key}"


def load_payload(sessions: sessionmaker[Session], text: str) -> str:
    """A tapped button's data back to the Rasa payload; other text unchanged."""
    if not text.startswith("cb:"):
        return text
    with sessions() as s:
        row = s.get(CallbackPayload, text[3:].strip())
        return row.payload if row else EXPIRED_PAYLOAD


# --- webhooks that must be answered within a deadline (Zalo: about 2 s) ------------------


class DeadlineTurns:
    """Runs each webhook's turn as a task and answers the platform in time: 200
    once the turn is done or at the deadline while it still runs (a retry
    meanwhile is a duplicate); 503 when Rasa could not answer (the event was
    released, so the platform's retry is processed)."""

    def __init__(self, name: str, within_s: float) -> None:
        self.name = name
        self.within_s = within_s
        self._tasks: set[asyncio.Task[None]] = set()

    async def answer(self, work: Callable[[], Awaitable[None]] | None) -> Response:
        """``work`` None: an event with nothing to do (acknowledged at once)."""
        if work is None:
            return JSONResponse({"ok": True})
        task = asyncio.ensure_future(work())
        self._tasks.add(task)
        task.add_done_callback(self._finished)
        done, _ = await asyncio.wait({task}, timeout=self.within_s)
        if task in done and task.exception() is not None:
            if isinstance(task.exception(), (RasaUnavailable, RasaError)):
                return JSONResponse({"error": "try again"}, status_code=503)
            return JSONResponse({"error": "internal error"}, status_code=500)
        return JSONResponse({"ok": True})

    def _finished(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("%s event not processed (%s); the platform's retry will be", self.name,
                        type(task.exception()).__name__)

    async def drain(self) -> None:
        """On shutdown: let turns under way finish (briefly), then cancel."""
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=10)
        for task in list(self._tasks):
            task.cancel()
