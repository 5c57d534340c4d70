"""People with a chat identity each, due outbox rows for them, and a clock.

Rows are addressed by their keys, so a test sharing a database with others
(the PostgreSQL pass uses one database per session, and the running product's
dispatcher works on it too) looks only at its own rows. Tests pin the clock
far in the future (2090), where nobody else's rows are due and the product's
real-time dispatcher never finds these due.
"""

from __future__ import annotations

import datetime as dt
import os
import time

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from bot import outbox
from vietnamese.clock import VIETNAM_TZ
from bot.storage.models import ChannelIdentity, CheckinSchedule, Commune, Person, OutboxMessage, WebInboxMessage, new_id

# 10:00 on a Tuesday in Vietnam: outside quiet hours, far beyond anyone else's rows.
TEST_NOW = dt.datetime(2090, 1, 31, 10, 0, tzinfo=VIETNAM_TZ).astimezone(dt.timezone.utc)


class WallClock:
    """``base`` plus the wall time elapsed since ``t_ref`` (plus ``offset_s``):
    moves like real time, so leases and ``retry_after`` behave, yet sits on a
    pinned day. Processes given the same ``base`` and ``t_ref`` share one
    timeline; ``offset_s`` moves one of them ahead (past a dead worker's lease)."""

    def __init__(self, base: dt.datetime = TEST_NOW, t_ref: float | None = None, offset_s: float = 0.0) -> None:
        self.base = base
        self.t_ref = time.time() if t_ref is None else t_ref
        self.offset_s = offset_s

    def __call__(self) -> dt.datetime:
        return self.base + dt.timedelta(seconds=time.time() - self.t_ref + self.offset_s)

    def advance(self, seconds: float) -> None:
        self.offset_s += seconds

    def args(self, offset_s: float | None = None) -> list[str]:
        """Command-line arguments giving a dispatch worker this timeline."""
        return ["--clock-base", self.base.isoformat(), "--t-ref", repr(self.t_ref),
                "--offset-s", repr(self.offset_s if offset_s is None else offset_s)]


def add_people(s: Session, n: int, channel: str, *, tag: str | None = None, schedule_created: dt.datetime | None = None,
               locale: str = "vi") -> list[str]:
    """``n`` supervisees in a new commune, each with one identity on ``channel``
    (external id ``{tag}-{i}``); with ``schedule_created``, each also gets a
    monthly check-in window (first 5 days of the month) created then."""
    tag = tag or os.urandom(4).hex()
    commune_id = s.execute(insert(Commune).values(name=f"Xã bench {tag}").returning(Commune.id)).scalar_one()
    ids = [new_id() for _ in range(n)]
    now = dt.datetime.now(dt.timezone.utc)
    s.execute(insert(Person), [{"id": pid, "role": "supervisee", "display_name": f"Người {i}",
                                "commune_id": commune_id, "created_at": now} for i, pid in enumerate(ids)])
    s.execute(insert(ChannelIdentity), [{"id": new_id(), "channel": channel, "external_id": f"{tag}-{i}",
                                         "locale": locale, "person_id": pid, "created_at": now, "last_inbound_at": now}
                                        for i, pid in enumerate(ids)])
    if schedule_created is not None:
        s.execute(insert(CheckinSchedule), [{"person_id": pid, "kind": "monthly_window", "window_days": 5,
                                             "grace_hours": 24, "active": True, "created_at": schedule_created}
                                            for pid in ids])
    return ids


def enqueue_due(s: Session, person_ids: list[str], due: dt.datetime) -> list[str]:
    """One due row per person (a "streak" note: it needs no schedule, so the
    product's scheduler, ticking on a shared database, adds nothing for them).
    Returns the rows' keys."""
    keys = []
    for pid in person_ids:
        key = f"streak:{pid}:3:{due.date().isoformat()}"
        outbox.enqueue(s, key, "streak", pid, due, subject_id=pid)
        keys.append(key)
    return keys


def statuses(s: Session, keys: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for i in range(0, len(keys), 500):
        out.update(s.execute(select(OutboxMessage.key, OutboxMessage.status).where(OutboxMessage.key.in_(keys[i:i + 500]))).all())
    return out


def rows(s: Session, keys: list[str]) -> list[OutboxMessage]:
    out: list[OutboxMessage] = []
    for i in range(0, len(keys), 500):
        out += s.scalars(select(OutboxMessage).where(OutboxMessage.key.in_(keys[i:i + 500]))).all()
    return out


def web_inbox_keys(s: Session, keys: list[str]) -> list[str]:
    """The web inbox rows written for ``keys`` (one per delivery)."""
    out: list[str] = []
    for i in range(0, len(keys), 500):
        out += s.scalars(select(WebInboxMessage.key).where(WebInboxMessage.key.in_(keys[i:i + 500]))).all()
    return out
