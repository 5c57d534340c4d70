"""Per-channel send pacing: a channel-wide rate and a minimum gap per chat.

Reservation based: each ``acquire`` books the next free slot for the channel
and for the chat and sleeps until both are reached, so messages leave evenly
spaced and never in bursts above the limit. ``pause`` holds the whole channel
(a 429 with ``retry_after``). One limiter per channel per process: with several
gateway replicas give each its share of the platform's limit
(``LOIVE_<CHANNEL>_RATE``)."""

from __future__ import annotations

import asyncio
import time

from bot.channels.base import RateLimit


class Limiter:
    def __init__(self, limit: RateLimit, clock=time.monotonic) -> None:  # noqa: ANN001
        self.interval = 1.0 / limit.per_second if limit.per_second > 0 else 0.0
        self.per_chat = limit.per_chat_interval_s
        self.clock = clock
        self._next = 0.0
        self._chat_next: dict[str, float] = {}

    def reserve(self, chat: str) -> float:
        """Book a slot; returns the seconds to wait before sending."""
        now = self.clock()
        slot = max(now, self._next, self._chat_next.get(chat, 0.0))
        self._next = slot + self.interval
        self._chat_next[chat] = slot + self.per_chat
        if len(self._chat_next) > 10_000:  # forget chats whose gap has passed
            self._chat_next = {c: t for c, t in self._chat_next.items() if t > now}
        return slot - now

    async def acquire(self, chat: str) -> None:
        wait = self.reserve(chat)
        if wait > 0:
            await asyncio.sleep(wait)

    def pause(self, seconds: float) -> None:
        self._next = max(self._next, self.clock() + seconds)
