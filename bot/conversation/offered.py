"""Button payloads that act on something are accepted only where they were shown.

An alert's buttons (``/alert_action{…}``) and a reminder's "Đã nhận"
(``/ack_reminder{…}``) are recorded for the conversation they are offered to,
when the dispatcher sends them or when a turn's reply carries them. A message
with such an intent that was never offered to that conversation (typed, or
copied from someone else's screen) is refused by the gateway before Rasa sees
it, so it changes nothing. Only a digest of each payload is stored.
Erasure needs no record: its "yes" counts only right after the question
(actions/privacy.py).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from bot.storage.models import OfferedPayload

GUARDED_INTENTS = frozenset({"alert_action", "ack_reminder", "relay_open", "staff_code"})
# Rasa reads "/intent@0.9{json}rest" after stripping the text (its regex message pattern).
_INTENT = re.compile(r"^/([^{@]+)")
KEEP_FOR = dt.timedelta(days=90)


def guarded(text: str) -> bool:
    """Would Rasa read this text as an intent payload that acts on something?"""
    m = _INTENT.match(text.strip())
    return bool(m) and m.group(1).strip() in GUARDED_INTENTS


def _digest(payload: str) -> str:
    return hashlib.sha256(payload.strip().encode()).hexdigest()


def record(s: Session, identity_id: str, payloads: Iterable[str], now: dt.datetime) -> int:
    """Remember the guarded payloads among ``payloads`` as offered to this conversation."""
    rows = [{"identity_id": identity_id, "digest": _digest(p), "offered_at": now}
            for p in dict.fromkeys(payloads) if guarded(p)]
    if not rows:
        return 0
    insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[s.get_bind().dialect.name]
    stmt = insert(OfferedPayload).values(rows)
    s.execute(stmt.on_conflict_do_update(index_elements=["identity_id", "digest"],
                                         set_={"offered_at": stmt.excluded.offered_at}))
    return len(rows)


def was_offered(s: Session, identity_id: str | None, payload: str) -> bool:
    if identity_id is None:
        return False
    return s.scalar(select(OfferedPayload.offered_at).where(OfferedPayload.identity_id == identity_id,
                                                            OfferedPayload.digest == _digest(payload))) is not None


def purge(s: Session, now: dt.datetime, keep_for: dt.timedelta = KEEP_FOR) -> int:
    return s.execute(delete(OfferedPayload).where(OfferedPayload.offered_at < now - keep_for)).rowcount
