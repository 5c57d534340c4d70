"""Time, in the gateway: APScheduler ticks, the dispatcher delivers.

APScheduler (3.11, asyncio) only drives time: every ``LOIVE_TICK_S`` seconds
the tick generates due outbox rows from the database (``bot.supervision.reminders.tick``),
records the heartbeat and, once a day, applies the retention setting. Nothing
lives in APScheduler's memory, so a restart loses nothing. The dispatcher loop
runs beside it and also watches the heartbeat. Every gateway replica may run
both: generation is idempotent (and on PostgreSQL one replica ticks at a time),
claims are exclusive.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
from collections.abc import Callable, Mapping

import anyio
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from bot.supervision import conversations, enrollment, reminders

from bot.conversation import offered
from bot.channels.base import Sender
from bot.config import Settings
from bot.delivery.dispatcher import Dispatcher
from bot.domain.knowledge import KnowledgeBase
from vietnamese.clock import utcnow

log = logging.getLogger(__name__)

TICK_LOCK = 7_461_901  # PostgreSQL advisory lock id: one replica ticks at a time
RETENTION = "retention"


def tick(sessions: sessionmaker[Session], settings: Settings, now: dt.datetime,
         trackers: Callable[[], Engine | None] | None = None) -> dict[str, int] | None:
    """One tick in one transaction. None when another replica is ticking.
    Once a day the retention settings are applied, to Rasa's conversation
    histories too (``trackers``: the tracker store's engine)."""
    purged: dict[str, int] | None = None
    with sessions.begin() as s:
        if s.get_bind().dialect.name == "postgresql" and not s.execute(
                text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": TICK_LOCK}).scalar():
            return None
        counts = reminders.tick(s, now)
        counts["relay_closed_idle"] = conversations.close_idle(s, now, dt.timedelta(minutes=settings.relay_idle_minutes))
        counts["relay_escalated"] = conversations.escalate(
            s, now, dt.timedelta(minutes=settings.relay_answer_within_minutes))
        last = reminders.last_beat(s, RETENTION)
        if last is None or now - last >= dt.timedelta(days=1):
            purged = reminders.purge(s, now, settings.checkin_retention_days, settings.outbox_retention_days)
            purged["offered_payloads"] = offered.purge(s, now)
            purged["relay_messages"] = conversations.purge(s, now, settings.relay_retention_days)
            reminders.beat(s, RETENTION, now)
        if transient := enrollment.purge_transient(s, now):  # chats made only to answer a refused code
            log.info("transient identities purged=%d", transient)
    if purged is not None:
        if trackers is not None:
            try:
                engine = trackers()
                if engine is not None:
                    purged["tracker_events"] = reminders.purge_trackers(
                        engine, now - dt.timedelta(days=settings.outbox_retention_days))
            except Exception as exc:  # noqa: BLE001 - tomorrow's purge tries again
                log.warning("retention purge of the tracker store failed: %s", type(exc).__name__)
        if any(purged.values()):
            log.info("retention purge %s", " ".join(f"{k}={v}" for k, v in purged.items()))
    return counts


class ReminderService:
    def __init__(self, sessions: sessionmaker[Session], senders: Mapping[str, Sender], settings: Settings,
                 kb: KnowledgeBase | None = None, clock: Callable[[], dt.datetime] = utcnow,
                 trackers: Callable[[], Engine | None] | None = None) -> None:
        self.sessions = sessions
        self.trackers = trackers
        self.settings = settings
        self.clock = clock
        self.dispatcher = Dispatcher(sessions, senders, kb or KnowledgeBase.load(), clock=clock)
        self._scheduler: AsyncIOScheduler | None = None
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        try:
            counts = await anyio.to_thread.run_sync(tick, self.sessions, self.settings, self.clock(),
                                                    self.trackers)
        except Exception:
            log.exception("scheduler tick failed; the next tick retries")
            return
        if counts and any(counts.values()):
            log.info("tick queued %s", " ".join(f"{k}={v}" for k, v in counts.items() if v))

    @property
    def ticking(self) -> bool:
        return self._scheduler is not None

    async def start(self, tick: bool = True) -> None:
        """The dispatcher always runs (it also delivers replies); the tick only
        where ``tick`` (LOIVE_SCHEDULER) is on."""
        if tick:
            self._scheduler = AsyncIOScheduler(timezone=dt.timezone.utc)
            self._scheduler.add_job(self._tick, "interval", seconds=self.settings.tick_s, id="tick",
                                    next_run_time=utcnow(), max_instances=1,
                                    coalesce=True, misfire_grace_time=self.settings.tick_s)
            self._scheduler.start()
        self._task = asyncio.create_task(self.dispatcher.run(self._stop), name="dispatcher")
        log.info("outbox: tick %s, dispatcher %s, channels %s",
                 f"every {self.settings.tick_s}s" if tick else "off here", self.dispatcher.worker,
                 ",".join(sorted(self.dispatcher.senders)))

    async def stop(self) -> None:
        if self._scheduler is not None:
            self._scheduler.shutdown(wait=False)
        self._stop.set()
        if self._task is not None:
            await self._task
