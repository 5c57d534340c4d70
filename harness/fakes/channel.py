"""A messaging platform on loopback, over real HTTP, and the sender for it.

``FakeChannel`` behaves like the platforms the dispatcher talks to:

* ``POST /send`` ``{"key", "chat", "text"}`` delivers one message, at most
  ``per_second`` per second (a token bucket: capacity ``capacity``, refilled at
  ``per_second``); over the limit it answers ``429 {"retry_after": s}`` and
  delivers nothing. ``delay_s`` holds the answer after the message is
  recorded, like a platform that delivers first and answers late, so a worker
  killed meanwhile leaves a delivered message it never saw confirmed.
* ``GET /delivered?key=…`` answers ``{"delivered": true|false}``, what a
  platform with idempotency keys offers.

Every delivery is recorded (key, chat, arrival time), repeats included, so a
test counts duplicates and missing messages from the platform's side.
``FakeSender`` is a ``bot.channels.base.Sender`` posting there with httpx.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import threading
import time
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.channels.base import Outgoing, RateLimit, RetryLater, Sender

CHANNEL = "fake"
PLATFORM_RATE = 30.0   # messages per second, the limit the fake enforces by default


@dataclass(frozen=True)
class Delivery:
    key: str
    chat: str
    at: float      # time.monotonic() when the message arrived


class TokenBucket:
    def __init__(self, per_second: float, capacity: float, clock=time.monotonic) -> None:  # noqa: ANN001
        self.rate, self.capacity, self.clock = per_second, capacity, clock
        self.tokens = capacity
        self.last = clock()

    def take(self) -> float:
        """0.0 if a token was taken, else the seconds until one is available."""
        now = self.clock()
        self.tokens = min(self.capacity, self.tokens + (now - self.last) * self.rate)
        self.last = now
        if self.tokens >= 1.0:
            self.tokens -= 1.0
            return 0.0
        return (1.0 - self.tokens) / self.rate


class FakeChannel:
    def __init__(self, per_second: float = PLATFORM_RATE, capacity: float | None = None, *, delay_s: float = 0.0,
                 retry_granularity_s: float = 1.0, delivered_failures: int = 0, clock=time.monotonic) -> None:  # noqa: ANN001
        self.bucket = TokenBucket(per_second, per_second if capacity is None else capacity, clock)
        self.per_second = per_second
        self.delay_s = delay_s                      # answer this late (after recording the delivery)
        self.retry_granularity_s = retry_granularity_s  # retry_after rounded up to this (Telegram: whole seconds)
        self.delivered_failures = delivered_failures  # answer 500 to this many /delivered queries first
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self._rejected: list[tuple[str, float]] = []   # (key, retry_after) of each 429
        self._asked: list[str] = []
        self._keys: set[str] = set()
        self.app = Starlette(routes=[Route("/send", self._send, methods=["POST"]),
                                     Route("/delivered", self._delivered, methods=["GET"])])

    # --- HTTP ----------------------------------------------------------------------

    async def _send(self, request: Request) -> JSONResponse:
        try:
            body = await request.json()
            key, chat, text = body["key"], body["chat"], body["text"]
            if not all(isinstance(x, str) and x for x in (key, chat, text)):
                raise ValueError
        except (ValueError, KeyError, TypeError):
            return JSONResponse({"error": "key, chat and text are required strings"}, status_code=400)
        with self._lock:
            wait = self.bucket.take()
            if wait > 0:
                g = self.retry_granularity_s
                retry_after = math.ceil(wait / g) * g if g > 0 else wait
                self._rejected.append((key, retry_after))
            else:
                self._deliveries.append(Delivery(key, chat, time.monotonic()))
                self._keys.add(key)
        if wait > 0:
            return JSONResponse({"error": "too many requests", "retry_after": retry_after}, status_code=429)
        if self.delay_s > 0:
            await asyncio.sleep(self.delay_s)
        return JSONResponse({"ok": True})

    async def _delivered(self, request: Request) -> JSONResponse:
        key = request.query_params.get("key", "")
        if not key:
            return JSONResponse({"error": "key is required"}, status_code=400)
        with self._lock:
            self._asked.append(key)
            if self.delivered_failures > 0:
                self.delivered_failures -= 1
                return JSONResponse({"error": "unavailable"}, status_code=500)
            return JSONResponse({"delivered": key in self._keys})

    @contextlib.contextmanager
    def serve(self) -> Iterator[str]:
        """Run on a free loopback port (uvicorn in a thread); yield the base URL."""
        from harness.helpers import serve

        with serve(self.app) as url:
            yield url

    # --- what happened ---------------------------------------------------------------

    def deliveries(self, keys: Iterable[str] | None = None) -> list[Delivery]:
        with self._lock:
            found = list(self._deliveries)
        if keys is None:
            return found
        wanted = set(keys)
        return [d for d in found if d.key in wanted]

    def counts(self, keys: Iterable[str] | None = None) -> Counter[str]:
        return Counter(d.key for d in self.deliveries(keys))

    def delivered_count(self, keys: Iterable[str]) -> int:
        """How many of ``keys`` arrived at least once."""
        with self._lock:
            return len(self._keys.intersection(keys))

    def rejected(self) -> list[tuple[str, float]]:
        with self._lock:
            return list(self._rejected)

    def asked(self) -> list[str]:
        with self._lock:
            return list(self._asked)


class FakeSender(Sender):
    """Posts to a ``FakeChannel``. 429 → ``RetryLater``; other errors raise."""

    channel = CHANNEL

    def __init__(self, url: str, per_second: float = PLATFORM_RATE, timeout_s: float = 10.0) -> None:
        self.url = url.rstrip("/")
        self.rate_limit = RateLimit(per_second=per_second, per_chat_interval_s=0.0)
        self.timeout_s = timeout_s
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def _http(self) -> httpx.AsyncClient:
        # An httpx client belongs to one event loop; tests call asyncio.run more than once.
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = httpx.AsyncClient(timeout=self.timeout_s, limits=httpx.Limits(max_connections=64))
            self._loop = loop
        return self._client

    async def send(self, msg: Outgoing) -> None:
        r = await self._http().post(f"{self.url}/send",
                                    json={"key": msg.key, "chat": msg.external_id, "text": msg.text})
        if r.status_code == 429:
            raise RetryLater(float(r.json().get("retry_after", 1.0)))
        r.raise_for_status()

    async def delivered(self, key: str) -> bool | None:
        r = await self._http().get(f"{self.url}/delivered", params={"key": key})
        r.raise_for_status()
        return bool(r.json()["delivered"])

    async def aclose(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
