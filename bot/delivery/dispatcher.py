"""The outbox dispatcher: claims due rows and delivers them through the channel
senders, paced by each channel's rate limits.

Per row: claim (lease) → render → ``sending`` (committed) → platform call →
``sent``. A crash leaves at most the rows that were mid-call ``sending``; once
their lease expires they come back ``in_doubt`` and the channel is asked
whether they arrived before anything is sent again (see ``bot.outbox`` and
``bot.channels.base``). Any number of dispatchers may run against one
database: claims are exclusive.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import os
import socket
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import anyio
from sqlalchemy.orm import Session, sessionmaker

from bot.supervision import messages, reminders

from bot.conversation import offered

from bot import outbox
from bot.channels.base import Outgoing, RetryLater, Sender, Unreachable
from bot.delivery.ratelimit import Limiter
from bot.domain.knowledge import KnowledgeBase
from bot.supervision.alerts import chat_unreachable
from vietnamese.clock import utcnow
from bot.storage.models import ChannelIdentity, OutboxMessage

log = logging.getLogger(__name__)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{os.urandom(3).hex()}"


@dataclass(frozen=True)
class Job:
    id: int
    key: str
    kind: str
    in_doubt: bool
    channel: str = ""
    msg: Outgoing | None = None    # None: skipped at render time
    skip: messages.Skip | None = None


class Dispatcher:
    def __init__(self, sessions: sessionmaker[Session], senders: Mapping[str, Sender], kb: KnowledgeBase, *,
                 worker: str | None = None, batch: int = 100, concurrency: int = 32,
                 clock: Callable[[], dt.datetime] = utcnow) -> None:
        self.sessions = sessions
        self.senders = dict(senders)
        self.kb = kb
        self.worker = worker or worker_name()
        self.batch = batch
        self.concurrency = concurrency
        self.clock = clock
        self.limiters = {name: Limiter(sender.rate_limit) for name, sender in self.senders.items()}
        self.stats: Counter[str] = Counter()
        self._wake = asyncio.Event()
        self._stop: asyncio.Event | None = None   # run()'s stop: rows not yet started are given back

    def wake(self) -> None:
        """Something was queued for now (a reply): skip the idle wait."""
        self._wake.set()

    # --- database steps (run in a worker thread) ---------------------------------

    def _claim_and_render(self) -> list[Job]:
        now = self.clock()
        channels = frozenset(self.senders)
        jobs: list[Job] = []
        with self.sessions.begin() as s:
            ids = outbox.claim(s, self.worker, now, limit=self.batch)
            for row in (s.get(OutboxMessage, i) for i in ids):
                assert row is not None
                out = messages.render(s, row, self.kb, channels, now)
                if isinstance(out, messages.Skip):
                    if out.kind is messages.SkipKind.WAIT:
                        outbox.mark_waiting(s, row.id, self.worker, out.reason)
                    elif out.kind is messages.SkipKind.UNREACHABLE:
                        outbox.mark_failed(s, row.id, self.worker, now, out.reason, permanent=True)
                    else:
                        outbox.mark_cancelled(s, row.id, self.worker, out.reason)
                    jobs.append(Job(row.id, row.key, row.kind, row.in_doubt, skip=out))
                    continue
                offered.record(s, out.identity.id, [b.payload for b in out.buttons], now)  # bot/conversation/offered.py
                jobs.append(Job(row.id, row.key, row.kind, row.in_doubt, out.identity.channel, Outgoing(
                    key=row.key, identity_id=out.identity.id, external_id=out.identity.external_id,
                    text=out.text, buttons=out.buttons, locale=out.identity.locale, kind=row.kind)))
        return jobs

    def _db(self, fn: Callable[..., bool], *args: object) -> bool:
        with self.sessions.begin() as s:
            return fn(s, *args)

    def _mark_unreachable(self, identity_id: str) -> None:
        """The platform refuses (blocked, never started): stop using this chat
        until the person writes again, and tell their mentor and officers."""
        now = self.clock()
        with self.sessions.begin() as s:
            identity = s.get(ChannelIdentity, identity_id)
            if identity is not None:
                chat_unreachable(s, identity, now)

    # --- one row -------------------------------------------------------------------

    async def _deliver(self, job: Job, sem: asyncio.Semaphore) -> None:
        msg = job.msg
        assert msg is not None
        channel = job.channel
        sender, limiter = self.senders[channel], self.limiters[channel]
        async with sem:
            if self._stopping():
                await anyio.to_thread.run_sync(self._give_back, job)
                return
            if job.in_doubt:
                try:
                    arrived = await sender.delivered(job.key)
                except Exception as exc:  # cannot tell yet: back off, still in doubt (not the whole batch)
                    log.warning("delivered() failed kind=%s reminder=%d channel=%s error=%s", job.kind, job.id,
                                channel, type(exc).__name__)
                    await anyio.to_thread.run_sync(self._db, outbox.mark_failed, job.id, self.worker, self.clock(),
                                                   type(exc).__name__)
                    self.stats["failed_attempts"] += 1
                    return
                if arrived:
                    await anyio.to_thread.run_sync(self._db, outbox.mark_sending, job.id, self.worker, self.clock(),
                                                   msg.identity_id)
                    await anyio.to_thread.run_sync(self._db, outbox.mark_sent, job.id, self.worker, self.clock())
                    self.stats["in_doubt_confirmed"] += 1
                    return
                self.stats["in_doubt_resent" if arrived is None else "in_doubt_not_arrived"] += 1
            await limiter.acquire(msg.external_id)
            if self._stopping():
                await anyio.to_thread.run_sync(self._give_back, job)
                return
            if not await anyio.to_thread.run_sync(self._db, outbox.mark_sending, job.id, self.worker, self.clock(),
                                                  msg.identity_id):
                self.stats["lost_claim"] += 1
                return
            try:
                await sender.send(msg)
            except RetryLater as exc:
                limiter.pause(exc.retry_after)
                at = self.clock() + dt.timedelta(seconds=exc.retry_after)
                await anyio.to_thread.run_sync(self._db, outbox.mark_retry, job.id, self.worker, at, "rate limited")
                self.stats["rate_limited"] += 1
                return
            except Unreachable:
                await anyio.to_thread.run_sync(self._mark_unreachable, msg.identity_id)
                if job.kind == "reply":  # bound to that chat
                    await anyio.to_thread.run_sync(self._db, outbox.mark_failed, job.id, self.worker, self.clock(),
                                                   "unreachable", True)
                else:                    # the person may have another channel
                    await anyio.to_thread.run_sync(self._db, outbox.mark_retry, job.id, self.worker, self.clock(),
                                                   "unreachable; trying another channel")
                self.stats["unreachable"] += 1
                return
            except Exception as exc:  # any platform or network failure: back off and retry
                log.warning("send failed kind=%s reminder=%d channel=%s error=%s", job.kind, job.id, channel,
                            type(exc).__name__)
                await anyio.to_thread.run_sync(self._db, outbox.mark_failed, job.id, self.worker, self.clock(),
                                               type(exc).__name__)
                self.stats["failed_attempts"] += 1
                return
            if await anyio.to_thread.run_sync(self._db, outbox.mark_sent, job.id, self.worker, self.clock()):
                self.stats["sent"] += 1
            else:
                self.stats["sent_after_lost_claim"] += 1

    # --- loop ----------------------------------------------------------------------

    def _stopping(self) -> bool:
        return self._stop is not None and self._stop.is_set()

    def _give_back(self, job: Job) -> None:
        if self._db(outbox.release, job.id, self.worker):
            self.stats["released"] += 1

    async def _deliver_batch(self, jobs: list[Job], sem: asyncio.Semaphore) -> None:
        for job in jobs:
            if job.skip is not None:
                self.stats[f"skipped:{job.skip.reason}"] += 1
        # One chat's rows go one after another, in the order claimed (due time,
        # then id): a relayed conversation arrives in the order it was written.
        chats: dict[tuple[str, str], list[Job]] = {}
        for j in jobs:
            if j.msg is not None:
                chats.setdefault((j.channel, j.msg.external_id), []).append(j)

        async def in_order(chat_jobs: list[Job]) -> None:
            for j in chat_jobs:
                await self._deliver(j, sem)

        await asyncio.gather(*(in_order(js) for js in chats.values()))

    async def run_once(self) -> int:
        """Claim one batch and deliver it; returns how many rows were claimed."""
        jobs = await anyio.to_thread.run_sync(self._claim_and_render)
        await self._deliver_batch(jobs, asyncio.Semaphore(self.concurrency))
        return len(jobs)

    def check_scheduler(self) -> bool:
        with self.sessions.begin() as s:
            return reminders.watchdog(s, self.clock())

    async def run(self, stop: asyncio.Event, idle_s: float = 5.0, watchdog_every_s: float = 60.0) -> None:
        """Deliver until ``stop`` is set; also watch the scheduler's heartbeat.
        Idle polls (``idle_s``) are only for rows queued elsewhere (a tick,
        another replica, a retry coming due): a reply queued in this process
        wakes the loop at once.

        Batches overlap: while one is delivered the next is claimed, rendered
        and queued behind it on one semaphore, so a rate-limited channel never
        waits between batches, neither for rendering (a few ms a row: 0.95 of
        30 msg/s) nor for the platform's answer to the last send of the batch
        before (0.92 with 300 ms answers). At most two batches are claimed at
        once. On ``stop``, sends already under way finish and rows not yet
        started are given back (pending) for the next dispatcher."""
        last_watch = 0.0
        loop = asyncio.get_running_loop()
        sem = asyncio.Semaphore(self.concurrency)     # shared by consecutive batches
        previous: asyncio.Future[None] | None = None  # a full batch, still being delivered
        self._stop = stop
        while not stop.is_set():
            try:
                if loop.time() - last_watch >= watchdog_every_s:
                    last_watch = loop.time()
                    if await anyio.to_thread.run_sync(self.check_scheduler):
                        log.error("scheduler heartbeat is older than %s; admins alerted", reminders.STALLED_AFTER)
                jobs = await anyio.to_thread.run_sync(self._claim_and_render)
                current = asyncio.ensure_future(self._deliver_batch(jobs, sem))
                earlier, previous = previous, current
                if earlier is not None:
                    await earlier
                if len(jobs) < self.batch:   # nothing more due for now: finish before idling
                    previous = None
                    await current
                claimed = len(jobs)
            except Exception:
                log.exception("dispatcher cycle failed; retrying")
                claimed = 0
            if claimed == 0 and not self._wake.is_set():
                with anyio.move_on_after(idle_s):
                    waiters = [asyncio.ensure_future(stop.wait()), asyncio.ensure_future(self._wake.wait())]
                    try:
                        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
                    finally:
                        for w in waiters:
                            w.cancel()
            self._wake.clear()
        if previous is not None:   # its rows not yet started see the stop and are given back
            await previous
        self._stop = None
