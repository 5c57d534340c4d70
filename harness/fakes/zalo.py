"""Zalo on loopback, over real HTTP: the OA API v3 with OAuth v4 and ZNS
(``FakeZaloOA``), and the Zalo Bot Platform API (``FakeZaloBot``).

Both record every call and behave like the real services where it matters:

* OA: a send needs the current ``access_token`` header (else ``-216``, as HTTP
  200); ``/v4/oa/access_token`` needs the ``secret_key`` header and accepts each
  refresh token **once** (a reused one gets ``-14020``), returning a new pair
  and invalidating the old access token. ``fail_next`` queues answers for the
  next sends: a Zalo error code, an HTTP status, or a delay (a timeout for a
  client with a shorter one). ``refresh_delay_s`` widens the window in which
  two refreshes could collide.
* Zalo Bot: ``POST /bot<token>/<method>``; a wrong token → 401; ``sendMessage``
  refuses texts outside 1–2000 characters (400), like the real one.

``oa_event``/``signed`` build webhook bodies the way Zalo signs them.

``SlowRasa`` is fault injection only (a turn slower than Zalo's deadline); the
channel tests otherwise talk to the real product with its trained model.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs

from sqlalchemy import func, select
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.storage.models import ChannelIdentity, InboundEvent

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, sessionmaker

    from harness.helpers import Product


@contextlib.contextmanager
def _served(app) -> Iterator[str]:  # noqa: ANN001
    from harness.helpers import serve

    with serve(app) as url:
        yield url


def wait_until(predicate: Callable[[], Any], timeout: float = 30.0, interval: float = 0.1) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return predicate()


def rasa_turns(product: Any, conversation_id: str) -> list[tuple[str, str]]:
    """(text, intent) of each user message in the real Rasa's tracker of this
    conversation (a ``harness.helpers.Product``'s Rasa, over its HTTP API); ``[]``
    for a conversation Rasa never saw."""
    import httpx

    r = httpx.get(f"http://127.0.0.1:{product.env['LOIVE_RASA_PORT']}/conversations/{conversation_id}/tracker",
                  params={"token": product.env["LOIVE_RASA_TOKEN"]}, timeout=30)
    r.raise_for_status()
    return [(e.get("text") or "", e["parse_data"]["intent"]["name"]) for e in r.json()["events"]
            if e["event"] == "user"]



@dataclass
class ChannelProduct:
    """The running product (a ``harness.helpers.Product``) with one channel
    pointed at a fake platform, and what the channel tests ask of it. Each
    channel's subclass adds its fake and says how to read what it was sent."""

    product: Product
    sessions: sessionmaker[Session]  # on the product's database
    channel: ClassVar[str]

    def sends(self, chat: str) -> list:
        """What the fake platform received for ``chat``, in order."""
        raise NotImplementedError

    def wait_sends(self, chat: str, n: int, timeout: float = 60.0) -> list:
        assert wait_until(lambda: len(self.sends(chat)) >= n, timeout=timeout), self.sends(chat)
        return self.sends(chat)

    def _identity_column(self, column: Any, chat: str) -> Any:
        with self.sessions() as s:
            return s.scalar(select(column).where(ChannelIdentity.channel == self.channel,
                                                 ChannelIdentity.external_id == chat))

    def identities(self, *chats: str) -> int:
        with self.sessions() as s:
            return s.scalar(select(func.count()).select_from(ChannelIdentity).where(
                ChannelIdentity.channel == self.channel, ChannelIdentity.external_id.in_(chats)))

    def events(self, *event_ids: str) -> list[str]:
        """Statuses of the inbound-event rows with these platform ids."""
        with self.sessions() as s:
            return list(s.scalars(select(InboundEvent.status).where(
                InboundEvent.channel == self.channel, InboundEvent.event_id.in_(event_ids))))

    def conversation(self, chat: str) -> str:
        return self._identity_column(ChannelIdentity.id, chat)

    def unreachable(self, chat: str) -> Any:
        return self._identity_column(ChannelIdentity.unreachable_at, chat)

    def rasa_turns(self, chat: str) -> list[tuple[str, str]]:
        """(text, intent) of what the real Rasa was told in this chat's conversation."""
        return rasa_turns(self.product, self.conversation(chat))


# --- Zalo OA ---------------------------------------------------------------------------


@dataclass(frozen=True)
class OASend:
    user_id: str
    message: dict[str, Any]
    access_token: str
    at: float = field(default_factory=time.monotonic)

    @property
    def text(self) -> str:
        return self.message.get("text", "")

    @property
    def buttons(self) -> list[dict[str, Any]]:
        attachment = self.message.get("attachment") or {}
        return list((attachment.get("payload") or {}).get("buttons") or [])


class FakeZaloOA:
    def __init__(self, *, app_id: str, app_secret_key: str, access_token: str, refresh_token: str,
                 expires_in: int = 90000, refresh_delay_s: float = 0.0) -> None:
        self.app_id = app_id
        self.app_secret_key = app_secret_key
        self.access_token = access_token
        self.refresh_token = refresh_token
        self.expires_in = expires_in
        self.refresh_delay_s = refresh_delay_s
        self._lock = threading.Lock()
        self._used_refresh: set[str] = set()
        self._sends: list[OASend] = []
        self._refused: list[tuple[str, Any]] = []   # (user_id, what was answered instead)
        self._refreshes: list[str] = []             # refresh tokens presented, accepted or not
        self._zns: list[dict[str, Any]] = []
        self._inject: deque[tuple[str, Any]] = deque()
        self.app = Starlette(routes=[
            Route("/v3.0/oa/message/cs", self._cs, methods=["POST"]),
            Route("/v4/oa/access_token", self._token, methods=["POST"]),
            Route("/message/template", self._zns_send, methods=["POST"]),
        ])

    # --- control ---------------------------------------------------------------------

    def fail_next(self, *answers: tuple[str, Any]) -> None:
        """Queue answers for the next sends: ("error", -32), ("status", 429), ("delay", 3.0)."""
        with self._lock:
            self._inject.extend(answers)

    def revoke_access_token(self) -> None:
        with self._lock:
            self.access_token = "revoked-" + secrets.token_hex(4)

    @contextlib.contextmanager
    def serve(self) -> Iterator[str]:
        with _served(self.app) as url:
            yield url

    # --- what happened -----------------------------------------------------------------

    def sends(self, user_id: str | None = None) -> list[OASend]:
        with self._lock:
            return [x for x in self._sends if user_id is None or x.user_id == user_id]

    def refused(self) -> list[tuple[str, Any]]:
        with self._lock:
            return list(self._refused)

    def refreshes(self) -> list[str]:
        with self._lock:
            return list(self._refreshes)

    def zns(self) -> list[dict[str, Any]]:
        with self._lock:
            return list(self._zns)

    # --- HTTP ----------------------------------------------------------------------------

    async def _cs(self, request: Request) -> JSONResponse:
        token = request.headers.get("access_token", "")
        try:
            body = await request.json()
            user_id = body["recipient"]["user_id"]
            message = body["message"]
            if not isinstance(user_id, str) or not isinstance(message, dict):
                raise TypeError
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": -201, "message": "Parameters are invalid"})
        with self._lock:
            inject = self._inject.popleft() if self._inject else None
        if inject is not None and inject[0] == "delay":
            await asyncio.sleep(inject[1])
            inject = None
        with self._lock:
            if inject is not None:
                self._refused.append((user_id, inject))
                if inject[0] == "status":
                    return JSONResponse({"error": inject[1], "message": "HTTP error"}, status_code=inject[1])
                return JSONResponse({"error": inject[1], "message": f"error {inject[1]}"})
            if token != self.access_token:
                self._refused.append((user_id, ("error", -216)))
                return JSONResponse({"error": -216, "message": "Access token is invalid"})
            text = message.get("text")
            if not isinstance(text, str) or not 0 < len(text) <= 2000:
                return JSONResponse({"error": -201, "message": "text is invalid"})
            self._sends.append(OASend(user_id, message, token))
        return JSONResponse({"error": 0, "message": "Success",
                             "data": {"message_id": secrets.token_hex(8), "user_id": user_id}})

    async def _token(self, request: Request) -> JSONResponse:
        if not request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            return JSONResponse({"error": -14002, "error_name": "Form encoding expected"})
        form = {k: v[0] for k, v in parse_qs((await request.body()).decode()).items()}
        if request.headers.get("secret_key") != self.app_secret_key or form.get("app_id") != self.app_id:
            return JSONResponse({"error": -14014, "error_name": "Invalid app secret key"})
        if form.get("grant_type") != "refresh_token":
            return JSONResponse({"error": -14001, "error_name": "Invalid grant type"})
        presented = str(form.get("refresh_token") or "")
        with self._lock:
            self._refreshes.append(presented)
            ok = presented == self.refresh_token and presented not in self._used_refresh
            if ok:
                self._used_refresh.add(presented)
        if self.refresh_delay_s:
            await asyncio.sleep(self.refresh_delay_s)
        if not ok:
            return JSONResponse({"error": -14020, "error_name": "Invalid refresh token"})
        with self._lock:
            self.access_token = "at-" + secrets.token_hex(8)
            self.refresh_token = "rt-" + secrets.token_hex(8)
            return JSONResponse({"access_token": self.access_token, "refresh_token": self.refresh_token,
                                 "expires_in": str(self.expires_in)})

    async def _zns_send(self, request: Request) -> JSONResponse:
        body = await request.json()
        with self._lock:
            if request.headers.get("access_token") != self.access_token:
                return JSONResponse({"error": -124, "message": "Access token is invalid"})
            self._zns.append(body)
        return JSONResponse({"error": 0, "message": "Success", "data": {"msg_id": secrets.token_hex(8)}})


def signature(app_id: str, body: bytes, timestamp: str, oa_secret_key: str) -> str:
    """Written out independently of bot.channels.zalo_oa on purpose."""
    return "mac=" + hashlib.sha256(app_id.encode() + body + timestamp.encode() + oa_secret_key.encode()).hexdigest()


def oa_event(app_id: str, event_name: str, user_id: str, *, text: str | None = None, msg_id: str | None = None,
             timestamp: str | None = None) -> dict[str, Any]:
    timestamp = timestamp or str(int(time.time() * 1000))
    if event_name in ("follow", "unfollow"):
        return {"app_id": app_id, "oa_id": "oa-1", "event_name": event_name, "follower": {"id": user_id},
                "source": "testing", "timestamp": timestamp}
    message: dict[str, Any] = {"msg_id": msg_id or secrets.token_hex(16)}
    if text is not None:
        message["text"] = text
    return {"app_id": app_id, "user_id_by_app": "app-" + user_id, "event_name": event_name,
            "sender": {"id": user_id}, "recipient": {"id": "oa-1"}, "message": message, "timestamp": timestamp}


def signed(event: dict[str, Any], app_id: str, oa_secret_key: str) -> tuple[bytes, dict[str, str]]:
    body = json.dumps(event, ensure_ascii=False).encode()
    return body, {"Content-Type": "application/json",
                  "X-ZEvent-Signature": signature(app_id, body, str(event["timestamp"]), oa_secret_key)}


# --- Zalo Bot ----------------------------------------------------------------------------


@dataclass(frozen=True)
class BotSend:
    chat_id: str
    text: str
    at: float = field(default_factory=time.monotonic)


@dataclass
class FakeZaloBot:
    token: str
    _sends: list[BotSend] = field(default_factory=list)
    _calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    _inject: deque[tuple[str, Any]] = field(default_factory=deque)
    webhook: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.app = Starlette(routes=[Route("/{bot_token}/{method}", self._call, methods=["GET", "POST"])])

    def fail_next(self, *answers: tuple[str, Any]) -> None:
        """("status", 429) or ("delay", seconds) for the next sendMessage calls."""
        with self._lock:
            self._inject.extend(answers)

    @contextlib.contextmanager
    def serve(self) -> Iterator[str]:
        with _served(self.app) as url:
            yield url

    def sends(self, chat_id: str | None = None) -> list[BotSend]:
        with self._lock:
            return [x for x in self._sends if chat_id is None or x.chat_id == chat_id]

    def calls(self) -> list[tuple[str, dict[str, Any]]]:
        with self._lock:
            return list(self._calls)

    async def _call(self, request: Request) -> JSONResponse:
        if request.path_params["bot_token"] != f"bot{self.token}":
            return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, status_code=401)
        method = request.path_params["method"]
        raw = await request.body()
        params = json.loads(raw) if raw else {}
        with self._lock:
            self._calls.append((method, params))
        if method == "sendMessage":
            with self._lock:
                inject = self._inject.popleft() if self._inject else None
            if inject is not None and inject[0] == "delay":
                await asyncio.sleep(inject[1])
            elif inject is not None:
                code = inject[1]
                return JSONResponse({"ok": False, "error_code": code, "description": "Quota exceeded"
                                     if code == 429 else "error"}, status_code=code)
            chat_id, text = params.get("chat_id"), params.get("text")
            if not isinstance(chat_id, str) or not isinstance(text, str) or not 1 <= len(text) <= 2000:
                return JSONResponse({"ok": False, "error_code": 400, "description": "Bad request"}, status_code=400)
            with self._lock:
                self._sends.append(BotSend(chat_id, text))
            return JSONResponse({"ok": True, "result": {"message_id": secrets.token_hex(8), "date": 0}})
        if method == "setWebhook":
            secret = params.get("secret_token")
            if not isinstance(secret, str) or not 8 <= len(secret) <= 256:
                return JSONResponse({"ok": False, "error_code": 400, "description": "Bad secret_token"},
                                    status_code=400)
            self.webhook = {"url": params.get("url", ""), "secret_token": secret}
            return JSONResponse({"ok": True, "result": {"url": self.webhook["url"], "updated_at": 1}})
        if method == "deleteWebhook":
            self.webhook = {}
            return JSONResponse({"ok": True, "result": {"url": "", "updated_at": 2}})
        if method == "getWebhookInfo":
            return JSONResponse({"ok": True, "result": {"url": self.webhook.get("url", ""), "updated_at": 1}})
        if method == "getMe":
            return JSONResponse({"ok": True, "result": {"id": "1", "account_name": "Bot Lối Về",
                                                        "account_type": "BASIC", "can_join_groups": False}})
        return JSONResponse({"ok": False, "error_code": 404, "description": "Not found"}, status_code=404)


def bot_update(chat_id: str, text: str | None = None, *, event_name: str = "message.text.received",
               message_id: str | None = None, chat_type: str = "PRIVATE", flat: bool = False) -> dict[str, Any]:
    message: dict[str, Any] = {"from": {"id": chat_id, "display_name": "Người dùng", "is_bot": False},
                               "chat": {"id": chat_id, "chat_type": chat_type},
                               "message_id": message_id or secrets.token_hex(12),
                               "date": int(time.time() * 1000)}
    if text is not None:
        message["text"] = text
    result = {"event_name": event_name, "message": message}
    return result if flat else {"ok": True, "result": result}


# --- fault injection: a Rasa that answers late ---------------------------------------------


class SlowRasa:
    """A stand-in for Rasa's REST channel, for the one fault a real Rasa does not
    produce on demand: a turn slower than Zalo's webhook deadline. Used only by
    the slow-turn test in tests/product/test_zalo_oa.py; everything else runs against the
    real product (``zproduct``), and "Rasa down" is a closed port, not a fake.

    ``POST /webhooks/rest/webhook`` records (sender, message) and answers
    ``echo: <message>`` only once ``release()`` is called (so a test can see the
    webhook answered while the turn is still running, without timing it);
    ``GET /status`` says a model is loaded."""

    def __init__(self) -> None:
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._turns: list[tuple[str, str]] = []
        self.app = Starlette(routes=[Route("/webhooks/rest/webhook", self._turn, methods=["POST"]),
                                     Route("/status", self._status, methods=["GET"])])

    @contextlib.contextmanager
    def serve(self) -> Iterator[str]:
        with _served(self.app) as url:
            yield url

    def turns(self) -> list[tuple[str, str]]:
        with self._lock:
            return list(self._turns)

    def messages(self) -> list[str]:
        return [m for _, m in self.turns()]

    async def _turn(self, request: Request) -> JSONResponse:
        body = await request.json()
        with self._lock:
            self._turns.append((body["sender"], body["message"]))
        for _ in range(3000):   # at most 60 s
            if self._released.is_set():
                break
            await asyncio.sleep(0.02)
        return JSONResponse([{"text": f"echo: {body['message']}"}])

    def release(self) -> None:
        """Let the turns held so far (and any later ones) answer."""
        self._released.set()

    async def _status(self, request: Request) -> JSONResponse:
        return JSONResponse({"model_file": "slow.tar.gz"})
