"""Zalo Official Account (Open API v3): a verified organisation's OA.

Configured by ``ZALO_OA_APP_ID``, ``ZALO_OA_SECRET_KEY`` (the *OA* secret key:
webhook signatures), ``ZALO_APP_SECRET_KEY`` (the *App* secret key: token
refresh) and the first tokens ``ZALO_OA_ACCESS_TOKEN`` /
``ZALO_OA_REFRESH_TOKEN`` from the OAuth consent; base URLs
``ZALO_OA_API_BASE``, ``ZALO_OAUTH_BASE``, ``ZALO_ZNS_BASE``.

**Webhook** ``POST /webhooks/zalo-oa``. ``X-ZEvent-Signature`` must be
``mac=`` + SHA-256 hex of ``app_id + raw body + timestamp (from the body) + OA
secret key`` (a plain hash, not an HMAC), compared in constant time: missing or
wrong → 403, a body for another app → 403, a body that is not a JSON event →
400; nothing is read or stored before the check passes. Zalo wants an answer
within about 2 s, so a turn that takes longer carries on in the background and
the webhook answers 200 at 1.5 s (a retry of the same ``msg_id`` is then a
duplicate). Events:

* ``user_send_text`` → the conversation, keyed by ``message.msg_id``. A tapped
  button (``oa.query.hide``) arrives as the text of such an event: its payload,
  which is the Rasa payload itself.
* ``follow`` → the greeting (the bot says what it is and shows the menu);
  ``unfollow`` → the identity is marked unreachable and, for an enrolled
  supervisee, their mentor and officers are alerted (as when a send is refused).
* any other ``user_send_*`` (image, sticker, file, location…) → a short
  "text only" reply. Other events (delivery, seen, OA echoes) are ignored.

**Tokens.** The access token (about 25 h) and the single-use refresh token live
in the ``oauth_tokens`` row ``zalo_oa``, seeded from the settings on first use
(with an unknown age, so the first send refreshes it when it can). A token due
within 5 minutes, or refused with -216, is refreshed: the row is locked
(PostgreSQL ``SELECT … FOR UPDATE``; SQLite's write lock), re-read (another
replica may have refreshed it meanwhile: then that pair is used), refreshed, and
both new tokens are committed in one transaction before the new access token is
used. A send refused with -216 is retried once. Tokens are never logged. If
the refresh token is ever lost, redo the OAuth consent, delete the row and set
the new tokens in the environment.

**The 48-hour window.** Zalo lets an OA send 8 free replies within 48 h of the
user's last message (channels §2.1.6). ``last_inbound_at`` (set by every
inbound message) and ``replies_since_inbound`` (reset when a turn's replies are
queued) track it. Before a send the needed messages are reserved atomically on
the identity row:

* a reply to what the user just wrote is always sent (and counted);
* anything else (a reminder, an alert to a mentor) is sent only inside the
  window with a free reply left. Outside it, or when Zalo answers -230/-305/-311,
  the sender raises ``OutsideWindow``, a kind of ``Unreachable``: the dispatcher
  marks this Zalo identity unreachable until the person writes again, alerts
  an enrolled supervisee's mentor and officers ("reminders cannot reach them"),
  and puts the message back to be delivered on another channel of the person's,
  or, when there is none, keeps it **waiting** until the person writes again
  (then it is re-rendered, and dropped if it has gone stale). Nothing fails
  silently, and no paid proactive message is spent without a human deciding.
* ZNS is not used, even when ``ZALO_ZNS_TEMPLATE_ID`` is set: ZNS template
  messages are addressed to a phone number, and Lối Về deliberately stores no
  phone numbers. The client can send one (``ZaloOAClient.send_zns``); wiring
  it in needs a consented phone number per person first.

**Sending** ``POST {api}/v3.0/oa/message/cs``: success only on HTTP 200 and
``error == 0``. Texts are cut under 2000 characters; buttons become a
``button`` template of ``oa.query.hide`` buttons (title ≤ 100 characters,
payload ≤ 1000: a longer payload is stored and sent as ``cb:<id>``), at most 5
per message, so more choices follow in further messages. -32 or HTTP 429 →
``RetryLater``; -213 (not following) → ``Unreachable``. Paced at
``ZALO_OA_RATE`` per second and 1 s per chat.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import logging
import weakref
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.supervision.alerts import chat_unreachable
from bot.channels import ChannelRuntime
from bot.channels.base import ONLY_TEXT, Outgoing, RateLimit, RetryLater, Sender, Unreachable
from bot.conversation.inbound import (DeadlineTurns, load_payload, parse_json, receive, reply_directly, store_payload,
                                  webhook_body)
from bot.channels.telegram import split_text
from bot.channels.zalo_client import (NOT_FOLLOWING, WINDOW_CLOSED, ZaloAuthError, ZaloError, ZaloOAClient,
                                      ZaloRateLimited)
from bot.config import Settings
from bot.conversation.core import Core, Inbound
from bot.conversation.rasa_client import Button
from bot.i18n import N_, gettext
from bot.storage.db import insert_for
from vietnamese.clock import utcnow
from bot.storage.models import ChannelIdentity, OAuthToken

log = logging.getLogger(__name__)

CHANNEL = "zalo_oa"        # identities, inbound events, the sender (≤ 16 characters)
TOKEN_NAME = "zalo_oa"
REFRESH_MARGIN = dt.timedelta(minutes=5)
WINDOW = dt.timedelta(hours=48)
FREE_REPLIES = 8
MAX_TEXT = 2000            # [U] Zalo's documented text limit for cs messages
MAX_BUTTONS = 5            # [S] per button template
MAX_TITLE = 100
MAX_PAYLOAD = 1000
ANSWER_WITHIN_S = 1.5      # Zalo wants 200 within about 2 s
RATE_LIMITED_PAUSE_S = 2.0  # -32 carries no retry-after
MORE_CHOICES = N_("More choices:")


class OutsideWindow(Unreachable):
    """Zalo's free-reply window is closed for this user (48 h since their last
    message, or 8 replies used): only they can reopen it, by writing."""


# --- webhook signature ------------------------------------------------------------


def signature(app_id: str, raw_body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """The ``X-ZEvent-Signature`` value Zalo sends for this body."""
    digest = hashlib.sha256(app_id.encode() + raw_body + timestamp.encode() + oa_secret_key.encode()).hexdigest()
    return f"mac={digest}"


def signature_ok(header: str, app_id: str, raw_body: bytes, timestamp: str, oa_secret_key: str) -> bool:
    expected = signature(app_id, raw_body, timestamp, oa_secret_key)[4:]
    got = header.strip()
    if got[:4].lower() == "mac=":
        got = got[4:]
    return hmac.compare_digest(got.lower().encode(), expected.encode())


# --- tokens -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    access_token: str
    refresh_token: str
    expires_at: dt.datetime


class TokenStore:
    """The OA's access and refresh tokens, in the database, rotated safely by
    any number of gateway replicas."""

    def __init__(self, sessions: sessionmaker[Session], client: ZaloOAClient, settings: Settings,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.sessions = sessions
        self.client = client
        self.clock = clock
        self._seed_access = settings.zalo_oa_access_token
        self._seed_refresh = settings.zalo_oa_refresh_token
        self.can_refresh = bool(settings.zalo_app_secret_key)
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary())

    def _local_lock(self) -> asyncio.Lock:
        return self._locks.setdefault(asyncio.get_running_loop(), asyncio.Lock())

    def _row(self, t: OAuthToken) -> _Token:
        return _Token(t.access_token, t.refresh_token, t.expires_at)

    def load(self) -> _Token:
        """The current tokens; seeds the row from the settings the first time."""
        with self.sessions.begin() as s:
            row = s.get(OAuthToken, TOKEN_NAME)
            if row is None:
                now = self.clock()
                s.execute(insert_for(s)(OAuthToken).values(
                    name=TOKEN_NAME, access_token=self._seed_access, refresh_token=self._seed_refresh,
                    expires_at=now, updated_at=now).on_conflict_do_nothing(index_elements=["name"]))
                row = s.get(OAuthToken, TOKEN_NAME, populate_existing=True)
                assert row is not None
            return self._row(row)

    def _lock_row(self, s: Session) -> _Token:
        """Begin the refresh transaction: take the row lock, then re-read."""
        if s.get_bind().dialect.name == "postgresql":
            row = s.execute(select(OAuthToken).where(OAuthToken.name == TOKEN_NAME).with_for_update()).scalar_one()
        else:  # SQLite: a write takes the database's write lock until commit
            s.execute(update(OAuthToken).where(OAuthToken.name == TOKEN_NAME).values(name=OAuthToken.name))
            row = s.execute(select(OAuthToken).where(OAuthToken.name == TOKEN_NAME)).scalar_one()
        return self._row(row)

    def _store(self, s: Session, access: str, refresh: str, expires_in: int) -> None:
        now = self.clock()
        s.execute(update(OAuthToken).where(OAuthToken.name == TOKEN_NAME).values(
            access_token=access, refresh_token=refresh, expires_at=now + dt.timedelta(seconds=expires_in),
            updated_at=now))
        s.commit()

    def _fresh(self, t: _Token) -> bool:
        return t.expires_at - REFRESH_MARGIN > self.clock()

    async def access_token(self) -> str:
        token = await anyio.to_thread.run_sync(self.load)
        if self._fresh(token) or not (token.refresh_token and self.can_refresh):
            return token.access_token  # a token we cannot refresh is used until Zalo refuses it
        return await self.refresh(token.access_token)

    async def refresh(self, stale: str) -> str:
        """A new access token in place of ``stale`` (refused or about to expire).
        Raises ``ZaloAuthError`` when the tokens cannot be refreshed."""
        if not self.can_refresh:
            raise ZaloAuthError(-216, "access token refused and ZALO_APP_SECRET_KEY is not set")
        await anyio.to_thread.run_sync(self.load)  # the row exists before it is locked
        async with self._local_lock():  # one refresh at a time in this process; the row lock across replicas
            session = self.sessions()
            try:
                current = await anyio.to_thread.run_sync(self._lock_row, session)
                if current.access_token != stale and self._fresh(current):
                    await anyio.to_thread.run_sync(session.commit)
                    return current.access_token  # refreshed meanwhile by another request or replica
                if not current.refresh_token:
                    raise ZaloAuthError(-216, "no refresh token: redo the OAuth consent")
                try:
                    pair = await self.client.refresh(current.refresh_token)
                except ZaloError as exc:
                    log.error("zalo oa token refresh failed (code %s); if it persists, redo the OAuth consent",
                              exc.code)
                    raise
                try:
                    await anyio.to_thread.run_sync(self._store, session, pair.access_token, pair.refresh_token,
                                                   pair.expires_in)
                except Exception:
                    log.critical("zalo oa tokens were rotated but could not be stored: redo the OAuth consent")
                    raise
                log.info("zalo oa tokens rotated; the access token is valid for %d s", pair.expires_in)
                return pair.access_token
            finally:
                await anyio.to_thread.run_sync(session.close)  # rolls back whatever was not committed


# --- rendering ------------------------------------------------------------------------


def _button(sessions: sessionmaker[Session], b: Button) -> dict[str, str]:
    payload = b.payload if len(b.payload) <= MAX_PAYLOAD else store_payload(sessions, b.payload)
    return {"title": b.title[:MAX_TITLE], "type": "oa.query.hide", "payload": payload}


def _template(text: str, buttons: list[dict[str, str]]) -> dict[str, Any]:
    return {"text": text, "attachment": {"type": "template",
                                         "payload": {"template_type": "button", "buttons": buttons}}}


def render(sessions: sessionmaker[Session], msg: Outgoing) -> list[dict[str, Any]]:
    """The ``message`` objects for one outgoing message, in order."""
    chunks = split_text(msg.text or "…", MAX_TEXT)
    if not msg.buttons:
        return [{"text": c} for c in chunks]
    buttons = [_button(sessions, b) for b in msg.buttons]
    groups = [buttons[i:i + MAX_BUTTONS] for i in range(0, len(buttons), MAX_BUTTONS)]
    messages: list[dict[str, Any]] = [{"text": c} for c in chunks[:-1]]
    messages.append(_template(chunks[-1], groups[0]))
    more = gettext(MORE_CHOICES, msg.locale)
    messages += [_template(more, g) for g in groups[1:]]
    return messages


# --- the 48-hour window ----------------------------------------------------------------


def reserve(sessions: sessionmaker[Session], identity_id: str, n: int, is_reply: bool, now: dt.datetime) -> bool:
    """Count ``n`` messages against the window, atomically; False if they do not fit."""
    with sessions.begin() as s:
        q = update(ChannelIdentity).where(ChannelIdentity.id == identity_id)
        if not is_reply:
            q = q.where(ChannelIdentity.last_inbound_at > now - WINDOW,
                        ChannelIdentity.replies_since_inbound + n <= FREE_REPLIES)
        done = s.execute(q.values(replies_since_inbound=ChannelIdentity.replies_since_inbound + n)).rowcount
    return bool(done) or is_reply


def release(sessions: sessionmaker[Session], identity_id: str, n: int) -> None:
    """Give back what was reserved but not sent."""
    with sessions.begin() as s:
        s.execute(update(ChannelIdentity)
                  .where(ChannelIdentity.id == identity_id, ChannelIdentity.replies_since_inbound >= n)
                  .values(replies_since_inbound=ChannelIdentity.replies_since_inbound - n))


# --- sending --------------------------------------------------------------------------


class ZaloOASender(Sender):
    channel = CHANNEL

    def __init__(self, client: ZaloOAClient, tokens: TokenStore, sessions: sessionmaker[Session], rate: float,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.client = client
        self.tokens = tokens
        self.sessions = sessions
        self.clock = clock
        self.rate_limit = RateLimit(per_second=rate, per_chat_interval_s=1.0)

    async def _send_one(self, user_id: str, message: dict[str, Any]) -> None:
        token = await self.tokens.access_token()
        try:
            await self.client.send_cs(token, user_id, message)
        except ZaloAuthError:
            token = await self.tokens.refresh(token)
            await self.client.send_cs(token, user_id, message)  # once; a second refusal raises

    async def send(self, msg: Outgoing) -> None:
        messages = await anyio.to_thread.run_sync(render, self.sessions, msg)
        n = len(messages)
        if not await anyio.to_thread.run_sync(reserve, self.sessions, msg.identity_id, n, msg.kind == "reply",
                                              self.clock()):
            raise OutsideWindow("outside Zalo's 48-hour window or its 8 free replies")
        sent = 0
        try:
            for message in messages:
                await self._send_one(msg.external_id, message)
                sent += 1
        except ZaloRateLimited:
            raise RetryLater(RATE_LIMITED_PAUSE_S) from None
        except ZaloError as exc:
            if exc.code == NOT_FOLLOWING:
                raise Unreachable("not following the OA") from None
            if exc.code in WINDOW_CLOSED:
                raise OutsideWindow(f"zalo error {exc.code}") from None
            raise
        finally:
            if sent < n:
                await anyio.to_thread.run_sync(release, self.sessions, msg.identity_id, n - sent)

    async def aclose(self) -> None:
        await self.client.aclose()


# --- receiving ------------------------------------------------------------------------


def _event_key(*parts: str) -> str:
    """An event id without the platform user id in it (for events with no msg_id)."""
    return hashlib.sha256(":".join(parts).encode()).hexdigest()[:40]


def mark_unfollowed(sessions: sessionmaker[Session], external_id: str, now: dt.datetime | None = None) -> bool:
    """The user unfollowed the OA: stop sending there until they write again, and
    tell an enrolled supervisee's mentor and officers (as a refused send does)."""
    now = now or utcnow()
    with sessions.begin() as s:
        identity = s.scalar(select(ChannelIdentity).where(ChannelIdentity.channel == CHANNEL,
                                                          ChannelIdentity.external_id == external_id))
        if identity is None:
            return False
        chat_unreachable(s, identity, now)
    return True


class BadEvent(ValueError):
    pass


def _user(data: dict[str, Any], field: str) -> str:
    who = data.get(field)
    uid = who.get("id") if isinstance(who, dict) else None
    if not isinstance(uid, (str, int)) or isinstance(uid, bool) or not str(uid):
        raise BadEvent(f"no {field}.id")
    return str(uid)[:128]


class ZaloOAChannel:
    def __init__(self, settings: Settings, core: Core, wake: Callable[[], None]) -> None:
        self.settings = settings
        self.core = core
        self.wake = wake
        self.app_id = settings.zalo_oa_app_id
        self.oa_secret = settings.zalo_oa_secret_key
        self.client = ZaloOAClient(api_base=settings.zalo_oa_api_base, oauth_base=settings.zalo_oauth_base,
                                   zns_base=settings.zalo_zns_base, app_id=settings.zalo_oa_app_id,
                                   app_secret_key=settings.zalo_app_secret_key)
        self.tokens = TokenStore(core.sessions, self.client, settings)
        self.sender = ZaloOASender(self.client, self.tokens, core.sessions, settings.zalo_oa_rate)
        self.turns = DeadlineTurns("zalo oa", ANSWER_WITHIN_S)

    # --- one verified event ----------------------------------------------------------

    def _work(self, data: dict[str, Any]) -> Callable[[], Awaitable[None]] | None:
        """What to do for this event (validated now), or None to ignore it."""
        event = data.get("event_name")
        if not isinstance(event, str):
            raise BadEvent("no event_name")
        if event in ("follow", "unfollow"):
            user = _user(data, "follower") if isinstance(data.get("follower"), dict) else _user(data, "sender")
            if event == "unfollow":
                return lambda: anyio.to_thread.run_sync(mark_unfollowed, self.core.sessions, user)
            key = "follow:" + _event_key(event, user, str(data.get("timestamp")))
            return lambda: self._text(user, "/greet", key)
        if not event.startswith("user_send_"):
            return None  # delivery and seen receipts, OA echoes, anonymous chats
        user = _user(data, "sender")
        message = data.get("message")
        if not isinstance(message, dict):
            raise BadEvent("no message")
        msg_id = message.get("msg_id")
        key = str(msg_id)[:128] if isinstance(msg_id, (str, int)) and str(msg_id) else (
            "msg:" + _event_key(event, user, str(data.get("timestamp"))))
        text = message.get("text")
        if event == "user_send_text" and isinstance(text, str) and text.strip():
            return lambda: self._text(user, text, key)
        return lambda: reply_directly(self.core, CHANNEL, key, user, ONLY_TEXT, self.wake)

    async def _text(self, user: str, text: str, key: str) -> None:
        text = await anyio.to_thread.run_sync(load_payload, self.core.sessions, text)
        await receive(self.core, Inbound(channel=CHANNEL, external_id=user, text=text[:4096]), key, self.wake)

    async def webhook(self, request: Request) -> Response:
        got = await webhook_body(request, "x-zevent-signature")
        if isinstance(got, Response):
            return got
        header, body = got
        try:
            data = parse_json(body)
            if not isinstance(data, dict) or not isinstance(data.get("timestamp"), (str, int)):
                raise ValueError("no timestamp")
        except ValueError:
            return JSONResponse({"error": "not a Zalo event"}, status_code=400)
        if str(data.get("app_id", "")) != self.app_id or not signature_ok(
                header, self.app_id, body, str(data["timestamp"]), self.oa_secret):
            log.warning("zalo oa webhook refused: bad signature or another app")
            return JSONResponse({"error": "forbidden"}, status_code=403)
        try:
            work = self._work(data)
        except BadEvent:
            return JSONResponse({"error": "not a Zalo event"}, status_code=400)
        return await self.turns.answer(work)

    async def stop(self) -> None:
        await self.turns.drain()


def setup(settings: Settings, core: Core, wake: Callable[[], None]) -> ChannelRuntime | None:
    if not (settings.zalo_oa_app_id and settings.zalo_oa_secret_key
            and (settings.zalo_oa_access_token or settings.zalo_oa_refresh_token)):
        return None
    if not settings.zalo_app_secret_key:
        log.warning("ZALO_APP_SECRET_KEY is not set: Zalo OA tokens cannot be refreshed")
    if settings.zalo_zns_template_id:
        log.warning("ZALO_ZNS_TEMPLATE_ID is ignored: ZNS is addressed to phone numbers and none are stored; "
                    "reminders outside Zalo's 48-hour window alert the mentor instead")
    channel = ZaloOAChannel(settings, core, wake)
    return ChannelRuntime(channel=CHANNEL, sender=channel.sender, webhook=channel.webhook, stop=channel.stop)
