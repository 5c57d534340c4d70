"""A fake Telegram Bot API server on loopback, for python-telegram-bot pointed at
it with ``base_url``. Real HTTP, PTB's wire format (form fields, JSON-encoded
``reply_markup``), ``{"ok": true, "result": …}`` answers. It records every
call, serves ``getUpdates`` from a queue (polling mode), and injects failures:
429 with ``retry_after``, 403 for blocked chats, slow answers."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

BOT_ID = 777000111


@dataclass
class Call:
    method: str
    params: dict[str, Any]
    at: float
    status: int = 200


@dataclass
class FakeTelegram:
    token: str = "123456:TEST-token"
    calls: list[Call] = field(default_factory=list)
    updates: list[dict] = field(default_factory=list)
    blocked_chats: set[int] = field(default_factory=set)
    fail_next: list[tuple[int, dict]] = field(default_factory=list)   # (status, body) for the next sendMessage calls
    delay_s: float = 0.0
    webhook: dict[str, Any] = field(default_factory=dict)
    _next_message_id: int = 1
    _update_counter: int = 1000
    lock: threading.Lock = field(default_factory=threading.Lock)

    # --- what tests read --------------------------------------------------------

    def sent(self, chat_id: int | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [c.params for c in self.calls if c.method == "sendMessage" and c.status == 200
                    and (chat_id is None or int(c.params["chat_id"]) == chat_id)]

    def called(self, method: str) -> list[dict[str, Any]]:
        with self.lock:
            return [c.params for c in self.calls if c.method == method]

    def wait_sent(self, chat_id: int, n: int = 1, timeout: float = 60.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = self.sent(chat_id)
            if len(got) >= n:
                return got
            time.sleep(0.1)
        return self.sent(chat_id)

    # --- updates a test makes ------------------------------------------------------

    def next_update_id(self) -> int:
        with self.lock:
            self._update_counter += 1
            return self._update_counter

    def message_update(self, chat_id: int, text: str, update_id: int | None = None,
                       language_code: str = "vi") -> dict:
        uid = update_id or self.next_update_id()
        user = {"id": chat_id, "is_bot": False, "first_name": "Test", "language_code": language_code}
        return {"update_id": uid, "message": {
            "message_id": uid, "date": int(time.time()), "text": text, "from": user,
            "chat": {"id": chat_id, "type": "private", "first_name": "Test"},
            **({"entities": [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]}
               if text.startswith("/") else {})}}

    def callback_update(self, chat_id: int, data: str, update_id: int | None = None) -> dict:
        uid = update_id or self.next_update_id()
        user = {"id": chat_id, "is_bot": False, "first_name": "Test", "language_code": "vi"}
        return {"update_id": uid, "callback_query": {
            "id": f"cq{uid}", "from": user, "chat_instance": "ci", "data": data,
            "message": {"message_id": 1, "date": int(time.time()), "text": "…",
                        "chat": {"id": chat_id, "type": "private", "first_name": "Test"},
                        "from": {"id": BOT_ID, "is_bot": True, "first_name": "Lối Về"}}}}

    def queue_update(self, update: dict) -> None:
        with self.lock:
            self.updates.append(update)

    # --- the server ----------------------------------------------------------------

    def app(self) -> Starlette:
        async def endpoint(request: Request) -> JSONResponse:
            if request.path_params["token"] != self.token:
                return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
            method = request.path_params["method"]
            body = (await request.body()).decode()
            if request.headers.get("content-type", "").startswith("application/json"):
                params: dict[str, Any] = json.loads(body or "{}")
            else:  # PTB posts form-urlencoded fields (no uploads here)
                params = {k: v[0] for k, v in parse_qs(body, keep_blank_values=True).items()}
            if "reply_markup" in params:
                params["reply_markup"] = json.loads(params["reply_markup"])
            if self.delay_s:
                await asyncio.sleep(self.delay_s)
            if method == "getUpdates":  # long poll: hold up to a second while nothing is queued
                offset = int(params.get("offset", 0) or 0)
                for _ in range(20):
                    with self.lock:
                        if any(u["update_id"] >= offset for u in self.updates):
                            break
                    await asyncio.sleep(0.05)
                return self._answer(method, params)
            response = self._answer(method, params)
            with self.lock:
                self.calls.append(Call(method, params, time.monotonic(), response.status_code))
            return response

        return Starlette(routes=[Route("/bot{token}/{method}", endpoint, methods=["GET", "POST"])])

    def _answer(self, method: str, params: dict[str, Any]) -> JSONResponse:
        def ok(result: Any) -> JSONResponse:
            return JSONResponse({"ok": True, "result": result})

        if method == "getMe":
            return ok({"id": BOT_ID, "is_bot": True, "first_name": "Lối Về", "username": "loive_test_bot",
                       "can_join_groups": False, "can_read_all_group_messages": False,
                       "supports_inline_queries": False})
        if method == "sendMessage":
            chat_id = int(params["chat_id"])
            with self.lock:
                injected = self.fail_next.pop(0) if self.fail_next else None
            if injected:
                status, body = injected
                return JSONResponse(body, status)
            if chat_id in self.blocked_chats:
                return JSONResponse({"ok": False, "error_code": 403,
                                     "description": "Forbidden: bot was blocked by the user"}, 403)
            if len(params.get("text", "")) > 4096:
                return JSONResponse({"ok": False, "error_code": 400,
                                     "description": "Bad Request: message is too long"}, 400)
            with self.lock:
                self._next_message_id += 1
                mid = self._next_message_id
            return ok({"message_id": mid, "date": int(time.time()), "text": params["text"],
                       "chat": {"id": chat_id, "type": "private"},
                       "from": {"id": BOT_ID, "is_bot": True, "first_name": "Lối Về"}})
        if method in ("sendChatAction", "answerCallbackQuery", "deleteWebhook", "close", "logOut"):
            if method == "deleteWebhook":
                self.webhook = {}
            return ok(True)
        if method == "setWebhook":
            self.webhook = dict(params)
            return ok(True)
        if method == "getWebhookInfo":
            return ok({"url": self.webhook.get("url", ""), "has_custom_certificate": False,
                       "pending_update_count": 0})
        if method == "getUpdates":
            offset = int(params.get("offset", 0) or 0)
            with self.lock:
                self.updates = [u for u in self.updates if u["update_id"] >= offset]
                batch = list(self.updates[:100])
            return ok(batch)
        return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found: method not found"}, 404)
