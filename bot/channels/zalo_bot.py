"""Zalo Bot Platform: a "Bot …" account, Telegram-like, with a static token.

Configured by ``ZALO_BOT_TOKEN``; ``ZALO_BOT_API_BASE`` (default
``https://bot-api.zaloplatforms.com``), ``ZALO_BOT_WEBHOOK_URL`` (the public
https URL of ``/webhooks/zalo-bot``) and ``ZALO_BOT_WEBHOOK_SECRET`` (8–256
characters; derived from the product's secret key when empty). Register the
webhook once with ``python -m bot zalo-bot set-webhook`` (``info``,
``delete-webhook``), which calls ``setWebhook {url, secret_token}``.

**Webhook** ``POST /webhooks/zalo-bot``: ``X-Bot-Api-Secret-Token`` is
compared in constant time (missing or wrong → 403, nothing read). The body is
``{"ok": true, "result": {"event_name", "message"}}`` (a flat
``{"event_name", "message"}`` is accepted too); a body that is not such an
event → 400. Private chats only; group messages are ignored. Events:

* ``message.text.received`` → the conversation, keyed by ``message_id``;
* ``message.unsupported.received`` (Zalo withholds the content of protected
  users: minors, people with disabilities…) → a polite reply that this account
  cannot be served here and that the commune officer can help;
* other messages (image, sticker) → a short "text only" reply.

As for Zalo OA, a slow turn carries on in the background and the webhook
answers 200 at 1.5 s.

**Sending** ``sendMessage {chat_id, text}``, text cut under 2000 characters.
There are no buttons: choices become a numbered list under the text ("1. Đồng
ý / 2. Không đồng ý", then "Nhắn số để chọn."), and their payloads are kept in
``channel_identities.last_choices``. When the person's next message is just one
of those numbers, it reaches Rasa as that payload; whatever the next message
is, the choices are then forgotten (so a number typed later, say as an answer
to "how many years?", stays a number). 429 → ``RetryLater``; 401 (token
refused) is a configuration error: logged, and retried with back-off like any
failure. Zalo documents no "blocked" signal, so nothing maps to
``Unreachable``. Paced at ``ZALO_BOT_RATE`` per second and 1 s per chat.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import secrets
from collections.abc import Awaitable, Callable
from typing import Any

import anyio
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from bot.channels import ChannelRuntime
from bot.channels.base import ONLY_TEXT, Outgoing, RateLimit, RetryLater, Sender
from bot.conversation.inbound import DeadlineTurns, parse_json, receive, reply_directly, webhook_body
from bot.channels.telegram import split_text
from bot.channels.zalo_client import ZaloAuthError, ZaloBotClient, ZaloRateLimited
from bot.channels.zalo_oa import ANSWER_WITHIN_S
from bot.config import Settings
from bot.conversation.core import Core, Inbound
from bot.conversation.rasa_client import Button
from bot.i18n import N_, gettext
from bot.storage.models import ChannelIdentity

log = logging.getLogger(__name__)

CHANNEL = "zalo_bot"       # identities, inbound events, the sender
MAX_TEXT = 2000            # sendMessage: text 1–2000 characters
RATE_LIMITED_PAUSE_S = 2.0
CHOOSE_HINT = N_("Reply with a number to choose.")
UNSUPPORTED = N_("Sorry, Zalo does not let me read messages from this account, so I cannot help you here. "
                 "Please contact your commune officer directly.")
_NUMBER = re.compile(r"\s*(\d{1,2})\s*[.)]?\s*")


def webhook_secret(settings: Settings) -> str:
    """ZALO_BOT_WEBHOOK_SECRET, or one derived from the product's secret key
    (stable across restarts and replicas; 64 hex characters)."""
    if settings.zalo_bot_webhook_secret:
        return settings.zalo_bot_webhook_secret
    return hmac.new(settings.secret(), b"zalo-bot-webhook", hashlib.sha256).hexdigest()


# --- numbered choices -------------------------------------------------------------


def with_choices(text: str, buttons: tuple[Button, ...], locale: str) -> str:
    lines = [f"{i}. {b.title}" for i, b in enumerate(buttons, 1)]
    return f"{text}\n\n" + "\n".join(lines) + "\n" + gettext(CHOOSE_HINT, locale)


def store_choices(sessions: sessionmaker[Session], identity_id: str, payloads: list[str]) -> None:
    # The random id makes each list distinct, so clearing one never clears a newer one.
    value = json.dumps({"id": secrets.token_hex(8), "payloads": payloads}, ensure_ascii=False)
    with sessions.begin() as s:
        s.execute(update(ChannelIdentity).where(ChannelIdentity.id == identity_id).values(last_choices=value))


def take_choice(sessions: sessionmaker[Session], external_id: str, text: str) -> tuple[str, str | None]:
    """(the text for Rasa, the choices that were shown or None). A message that
    is just the number of a shown choice becomes that choice's payload."""
    with sessions() as s:
        shown = s.scalar(select(ChannelIdentity.last_choices).where(ChannelIdentity.channel == CHANNEL,
                                                                    ChannelIdentity.external_id == external_id))
    if not shown:
        return text, None
    try:
        payloads = json.loads(shown)["payloads"]
    except (ValueError, KeyError, TypeError):
        return text, shown
    m = _NUMBER.fullmatch(text)
    if m and 1 <= int(m.group(1)) <= len(payloads):
        return str(payloads[int(m.group(1)) - 1]), shown
    return text, shown


def clear_choices(sessions: sessionmaker[Session], external_id: str, shown: str) -> None:
    """Forget the choices the person just answered (unless newer ones were sent meanwhile)."""
    with sessions.begin() as s:
        s.execute(update(ChannelIdentity).where(ChannelIdentity.channel == CHANNEL,
                                                ChannelIdentity.external_id == external_id,
                                                ChannelIdentity.last_choices == shown)
                  .values(last_choices=None))


# --- sending --------------------------------------------------------------------------


class ZaloBotSender(Sender):
    channel = CHANNEL

    def __init__(self, client: ZaloBotClient, sessions: sessionmaker[Session], rate: float) -> None:
        self.client = client
        self.sessions = sessions
        self.rate_limit = RateLimit(per_second=rate, per_chat_interval_s=1.0)

    async def send(self, msg: Outgoing) -> None:
        text = msg.text or "…"
        if msg.buttons:
            await anyio.to_thread.run_sync(store_choices, self.sessions, msg.identity_id,
                                           [b.payload for b in msg.buttons])
            text = with_choices(text, msg.buttons, msg.locale)
        try:
            for chunk in split_text(text, MAX_TEXT):
                await self.client.send_message(msg.external_id, chunk)
        except ZaloRateLimited:
            raise RetryLater(RATE_LIMITED_PAUSE_S) from None
        except ZaloAuthError:
            log.error("zalo bot token refused (401): check ZALO_BOT_TOKEN")
            raise

    async def aclose(self) -> None:
        await self.client.aclose()


# --- receiving ------------------------------------------------------------------------


def _event(data: Any) -> tuple[str, dict[str, Any]]:
    """(event name, message) from a wrapped or flat body; ValueError if neither."""
    if not isinstance(data, dict):
        raise ValueError("not an object")
    result = data.get("result") if isinstance(data.get("result"), dict) else data
    event, message = result.get("event_name"), result.get("message")
    if not isinstance(event, str) or not isinstance(message, dict):
        raise ValueError("no event_name or message")
    return event, message


def _chat(message: dict[str, Any]) -> tuple[str, str]:
    chat = message.get("chat") if isinstance(message.get("chat"), dict) else {}
    sender = message.get("from") if isinstance(message.get("from"), dict) else {}
    chat_id = chat.get("id", sender.get("id"))
    if not isinstance(chat_id, (str, int)) or isinstance(chat_id, bool) or not str(chat_id):
        raise ValueError("no chat id")
    return str(chat_id)[:128], str(chat.get("chat_type") or "PRIVATE").upper()


class ZaloBotChannel:
    def __init__(self, settings: Settings, core: Core, wake: Callable[[], None]) -> None:
        self.core = core
        self.wake = wake
        self.secret = webhook_secret(settings)
        self.client = ZaloBotClient(settings.zalo_bot_token, settings.zalo_bot_api_base)
        self.sender = ZaloBotSender(self.client, core.sessions, settings.zalo_bot_rate)
        self.turns = DeadlineTurns("zalo bot", ANSWER_WITHIN_S)

    def _work(self, event: str, message: dict[str, Any]) -> Callable[[], Awaitable[None]] | None:
        chat, chat_type = _chat(message)
        if chat_type != "PRIVATE" or not event.startswith("message."):
            return None  # the product works in private chats only
        mid = message.get("message_id")
        key = str(mid)[:128] if isinstance(mid, (str, int)) and str(mid) else hashlib.sha256(
            json.dumps([event, chat, message.get("date"), message.get("text")]).encode()).hexdigest()[:40]
        text = message.get("text")
        if event == "message.text.received" and isinstance(text, str) and text.strip():
            return lambda: self._text(chat, text, key)
        if event == "message.unsupported.received":
            return lambda: reply_directly(self.core, CHANNEL, key, chat, UNSUPPORTED, self.wake)
        return lambda: reply_directly(self.core, CHANNEL, key, chat, ONLY_TEXT, self.wake)

    async def _text(self, chat: str, text: str, key: str) -> None:
        sessions = self.core.sessions
        rasa_text, shown = await anyio.to_thread.run_sync(take_choice, sessions, chat, text)
        processed = await receive(self.core, Inbound(channel=CHANNEL, external_id=chat, text=rasa_text[:4096]),
                                  key, self.wake)
        if processed and shown is not None:
            await anyio.to_thread.run_sync(clear_choices, sessions, chat, shown)

    async def webhook(self, request: Request) -> Response:
        got = await webhook_body(request, "x-bot-api-secret-token", self.secret)
        if isinstance(got, Response):
            return got
        _, body = got
        try:
            event, message = _event(parse_json(body))
            work = self._work(event, message)
        except ValueError:
            return JSONResponse({"error": "not a Zalo Bot event"}, status_code=400)
        return await self.turns.answer(work)

    async def stop(self) -> None:
        await self.turns.drain()


def setup(settings: Settings, core: Core, wake: Callable[[], None]) -> ChannelRuntime | None:
    if not settings.zalo_bot_token:
        return None
    channel = ZaloBotChannel(settings, core, wake)
    return ChannelRuntime(channel=CHANNEL, sender=channel.sender, webhook=channel.webhook, stop=channel.stop)


# --- the CLI: python -m bot zalo-bot set-webhook | delete-webhook | info --------------


async def manage_webhook(settings: Settings, action: str) -> str:
    if not settings.zalo_bot_token:
        raise SystemExit("ZALO_BOT_TOKEN is not set")
    client = ZaloBotClient(settings.zalo_bot_token, settings.zalo_bot_api_base)
    try:
        if action == "set-webhook":
            if not settings.zalo_bot_webhook_url:
                raise SystemExit("ZALO_BOT_WEBHOOK_URL is not set (the public https URL of /webhooks/zalo-bot)")
            await client.set_webhook(settings.zalo_bot_webhook_url, webhook_secret(settings))
        elif action == "delete-webhook":
            await client.delete_webhook()
        info = await client.get_webhook_info()
    finally:
        await client.aclose()
    info = info if isinstance(info, dict) else {}
    return f"url={info.get('url') or '-'} updated_at={info.get('updated_at') or '-'}"
