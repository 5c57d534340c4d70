"""Telegram, with python-telegram-bot 22.

* **Webhook** (``TELEGRAM_WEBHOOK_URL`` set): Telegram posts to the gateway's
  ``POST /webhooks/telegram``; the ``X-Telegram-Bot-Api-Secret-Token`` header is
  compared in constant time (missing or wrong → 403, nothing read). The
  Application is built with ``updater(None)``: our ASGI app feeds it.
* **Polling** (no public URL, for local use): PTB's Updater long-polls
  ``getUpdates`` and hands each update to the same handler.

Either way an update is processed once (its ``update_id`` through
``bot.conversation.inbound``), the reply goes out through the outbox, every
callback query is answered, and a typing indicator shows while Rasa works.
Buttons become inline keyboards; a payload over 64 bytes is stored and sent as
an opaque ``cb:<id>``. Long texts are split under 4096 characters. Sending is
paced at ``TELEGRAM_RATE`` (30/s) overall and 1/s per chat; a 429's
``retry_after`` pauses the channel; 403 (blocked, never started) marks the chat
unreachable and alerts the person's mentor.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import logging
import os
from collections.abc import Callable

import anyio
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
os.environ.setdefault("PTB_TIMEDELTA", "1")  # RetryAfter.retry_after as a timedelta (PTB 22.2+), no warning

from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ChatAction, ChatType
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import Application, ContextTypes, TypeHandler

from bot.channels import ChannelRuntime
from bot.channels.base import ONLY_TEXT, Outgoing, RateLimit, RetryLater, Sender, Unreachable
from bot.conversation.inbound import load_payload, parse_json, receive, reply_directly, store_payload, webhook_body
from bot.config import Settings
from bot.conversation.core import Core, Inbound
from bot.conversation.rasa_client import Button, RasaError, RasaUnavailable
from bot.i18n import N_, normalize_locale

log = logging.getLogger(__name__)

CHANNEL = "telegram"
MAX_TEXT = 4096
MAX_CALLBACK_BYTES = 64
ALLOWED_UPDATES = ["message", "callback_query"]


def webhook_secret(settings: Settings) -> str:
    """TELEGRAM_WEBHOOK_SECRET, or one derived from the product's secret key
    (stable across restarts and replicas; only ``A-Za-z0-9_-``)."""
    if settings.telegram_webhook_secret:
        return settings.telegram_webhook_secret
    return hmac.new(settings.secret(), b"telegram-webhook", hashlib.sha256).hexdigest()


def split_text(text: str, limit: int = MAX_TEXT) -> list[str]:
    """Chunks of at most ``limit`` characters, cut at a paragraph, line or word
    break when there is one in the second half of the chunk."""
    chunks: list[str] = []
    rest = text
    while len(rest) > limit:
        window = rest[:limit]
        cut = max(window.rfind("\n\n"), window.rfind("\n"), window.rfind(" "))
        if cut < limit // 2:
            cut = limit
        chunks.append(rest[:cut].rstrip())
        rest = rest[cut:].lstrip()
    if rest or not chunks:
        chunks.append(rest)
    return chunks


# --- buttons ---------------------------------------------------------------------


def keyboard(sessions: sessionmaker[Session], buttons: tuple[Button, ...]) -> InlineKeyboardMarkup | None:
    if not buttons:
        return None
    rows = []
    for b in buttons:
        data = b.payload if len(b.payload.encode()) <= MAX_CALLBACK_BYTES else store_payload(sessions, b.payload)
        rows.append([InlineKeyboardButton(b.title[:64], callback_data=data)])
    return InlineKeyboardMarkup(rows)


# --- sending -----------------------------------------------------------------------


class TelegramSender(Sender):
    channel = CHANNEL

    def __init__(self, bot: Bot, sessions: sessionmaker[Session], rate: float) -> None:
        self.bot = bot
        self.sessions = sessions
        self.rate_limit = RateLimit(per_second=rate, per_chat_interval_s=1.0)

    async def send(self, msg: Outgoing) -> None:
        markup = await anyio.to_thread.run_sync(keyboard, self.sessions, msg.buttons)
        chunks = split_text(msg.text or "…")
        try:
            for i, chunk in enumerate(chunks):
                await self.bot.send_message(chat_id=int(msg.external_id), text=chunk,
                                            reply_markup=markup if i == len(chunks) - 1 else None)
        except RetryAfter as exc:
            retry = exc.retry_after
            raise RetryLater(retry.total_seconds() if isinstance(retry, dt.timedelta) else float(retry)) from None
        except Forbidden:
            raise Unreachable("blocked or never started") from None
        except BadRequest as exc:
            if "chat not found" in str(exc).lower():
                raise Unreachable("chat not found") from None
            raise


# --- receiving ---------------------------------------------------------------------


class TelegramChannel:
    def __init__(self, settings: Settings, core: Core, wake: Callable[[], None]) -> None:
        self.settings = settings
        self.core = core
        self.wake = wake
        self.secret = webhook_secret(settings)
        builder = Application.builder().token(settings.telegram_token).base_url(settings.telegram_api_base)
        if settings.telegram_webhook_url:
            builder = builder.updater(None)
        self.application = builder.build()
        self.application.add_handler(TypeHandler(Update, self._from_polling))
        self.sender = TelegramSender(self.application.bot, core.sessions, settings.telegram_rate)
        self._starter: asyncio.Task[None] | None = None

    # One update, whichever way it came. Raises only when it should be retried.
    async def process(self, update: Update) -> None:
        event = str(update.update_id)
        if update.callback_query is not None:
            query = update.callback_query
            try:
                await query.answer()  # stop the button's spinner, always
            except TelegramError as exc:
                log.warning("answer_callback_query failed: %s", type(exc).__name__)
            chat = query.message.chat if query.message else None
            if chat is None or chat.type != ChatType.PRIVATE or not query.data:
                return
            text = await anyio.to_thread.run_sync(load_payload, self.core.sessions, query.data)
            user = query.from_user
        elif update.message is not None:
            message = update.message
            if message.chat.type != ChatType.PRIVATE:
                return  # the product works in private chats only
            user = message.from_user
            chat = message.chat
            if not message.text:
                await reply_directly(self.core, CHANNEL, event, str(chat.id), ONLY_TEXT, self.wake,
                                     normalize_locale(user.language_code) if user and user.language_code else None)
                return
            text = message.text
        else:
            return
        locale = normalize_locale(user.language_code) if user and user.language_code else None
        asyncio.create_task(self._typing(chat.id))
        await receive(self.core, Inbound(channel=CHANNEL, external_id=str(chat.id), text=text[:4096],
                                         locale=locale), event, self.wake)

    async def _typing(self, chat_id: int) -> None:
        try:
            await self.application.bot.send_chat_action(chat_id=chat_id, action=ChatAction.TYPING)
        except TelegramError:
            pass  # cosmetic

    async def _from_polling(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        if isinstance(update, Update):
            try:
                await self.process(update)
            except (RasaUnavailable, RasaError) as exc:
                log.warning("telegram update not processed (%s); it is not retried in polling mode",
                            type(exc).__name__)

    async def webhook(self, request: Request) -> Response:
        got = await webhook_body(request, "x-telegram-bot-api-secret-token", self.secret)
        if isinstance(got, Response):
            return got
        _, body = got
        try:
            data = parse_json(body)
            if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
                raise ValueError("no update_id")
            update = Update.de_json(data, self.application.bot)
        except Exception:  # malformed JSON or not an Update
            return JSONResponse({"error": "not a Telegram update"}, status_code=400)
        try:
            await self.process(update)
        except (RasaUnavailable, RasaError):
            return JSONResponse({"error": "try again"}, status_code=503)  # Telegram retries
        return JSONResponse({"ok": True})

    # --- lifecycle ---------------------------------------------------------------

    async def _initialize(self) -> None:
        delay = 1.0
        while True:
            try:
                await self.application.initialize()
                await self.application.start()
                if not self.settings.telegram_webhook_url and self.application.updater is not None:
                    await self.application.updater.start_polling(allowed_updates=ALLOWED_UPDATES)
                log.info("telegram ready: @%s, %s", self.application.bot.username,
                         "webhook" if self.settings.telegram_webhook_url else "polling")
                return
            except TelegramError as exc:
                log.warning("telegram not reachable yet (%s); retrying in %.0f s", type(exc).__name__, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 60.0)

    async def start(self) -> None:
        # In the background: an unreachable Telegram must not stop the gateway.
        self._starter = asyncio.create_task(self._initialize(), name="telegram-start")

    async def stop(self) -> None:
        if self._starter is not None and not self._starter.done():
            self._starter.cancel()
            return
        if self.application.updater is not None and self.application.updater.running:
            await self.application.updater.stop()
        if self.application.running:
            await self.application.stop()
        await self.application.shutdown()


def setup(settings: Settings, core: Core, wake: Callable[[], None]) -> ChannelRuntime | None:
    if not settings.telegram_token:
        return None
    channel = TelegramChannel(settings, core, wake)
    return ChannelRuntime(channel=CHANNEL, sender=channel.sender, webhook=channel.webhook, start=channel.start,
                          stop=channel.stop, mode="webhook" if settings.telegram_webhook_url else "polling")


# --- the CLI: python -m bot telegram set-webhook | delete-webhook | info ----------


async def manage_webhook(settings: Settings, action: str) -> str:
    if not settings.telegram_token:
        raise SystemExit("TELEGRAM_BOT_TOKEN is not set")
    bot = Bot(settings.telegram_token, base_url=settings.telegram_api_base)
    async with bot:
        if action == "set-webhook":
            if not settings.telegram_webhook_url:
                raise SystemExit("TELEGRAM_WEBHOOK_URL is not set (the public https URL of /webhooks/telegram)")
            await bot.set_webhook(url=settings.telegram_webhook_url, secret_token=webhook_secret(settings),
                                  allowed_updates=ALLOWED_UPDATES)
        elif action == "delete-webhook":
            await bot.delete_webhook()
        info = await bot.get_webhook_info()
    return f"url={info.url or '-'} pending={info.pending_update_count} last_error={info.last_error_message or '-'}"
