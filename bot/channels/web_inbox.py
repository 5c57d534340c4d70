"""Messages the product sends first to a web-chat user (reminders, alerts).

The web chat is request/response, so these wait in the ``web_inbox`` table
until the page asks for them (``GET /api/inbox``, with the chat's cookie). Writing the row is
the delivery: keyed by the outbox key and idempotent, so it is exactly once.
"""

from __future__ import annotations

import json

import anyio
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from bot.channels.base import Outgoing, RateLimit, Sender
from vietnamese.clock import utcnow
from bot.supervision.people import audit
from bot.storage.db import insert_for
from bot.storage.models import ChannelIdentity, WebInboxMessage

CHANNEL = "web"
MAX_FETCH = 50


class WebInboxSender(Sender):
    channel = CHANNEL
    rate_limit = RateLimit(per_second=200.0, per_chat_interval_s=0.0)

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def _write(self, msg: Outgoing) -> None:
        body = json.dumps({"text": msg.text, "buttons": [{"title": b.title, "payload": b.payload}
                                                        for b in msg.buttons]}, ensure_ascii=False)
        with self.sessions.begin() as s:
            s.execute(insert_for(s)(WebInboxMessage).values(key=msg.key, identity_id=msg.identity_id, body=body,
                                                     created_at=utcnow())
                      .on_conflict_do_nothing(index_elements=["key"]))

    async def send(self, msg: Outgoing) -> None:
        await anyio.to_thread.run_sync(self._write, msg)

    def _exists(self, key: str) -> bool:
        with self.sessions() as s:
            return s.scalar(select(WebInboxMessage.id).where(WebInboxMessage.key == key)) is not None

    async def delivered(self, key: str) -> bool | None:
        return await anyio.to_thread.run_sync(self._exists, key)


def fetch(sessions: sessionmaker[Session], external_id: str, after: int = 0) -> list[dict[str, object]]:
    """Messages for this web identity with id > ``after``, oldest first. Passing
    ``after`` acknowledges everything up to it (marked fetched, later purged), so
    a response lost on the way never loses a message: the page asks again.
    A read that returns or acknowledges messages is audited (who, whose, how
    many); an empty poll reads nothing and is not."""
    with sessions.begin() as s:
        identity = s.execute(select(ChannelIdentity.id, ChannelIdentity.person_id).where(
            ChannelIdentity.channel == CHANNEL, ChannelIdentity.external_id == external_id)).first()
        if identity is None:
            return []
        acknowledged = 0
        if after:
            acknowledged = s.execute(update(WebInboxMessage)
                                     .where(WebInboxMessage.identity_id == identity.id, WebInboxMessage.id <= after,
                                            WebInboxMessage.fetched_at.is_(None))
                                     .values(fetched_at=utcnow())).rowcount
        rows = s.scalars(select(WebInboxMessage).where(WebInboxMessage.identity_id == identity.id,
                                                       WebInboxMessage.id > after,
                                                       WebInboxMessage.fetched_at.is_(None))
                         .order_by(WebInboxMessage.id).limit(MAX_FETCH)).all()
        if rows or acknowledged:
            actor = f"person:{identity.person_id}" if identity.person_id else f"identity:{identity.id}"
            audit(s, actor, "read_web_inbox", identity.person_id, identity=identity.id, returned=len(rows),
                  acknowledged=acknowledged)
        return [{"id": r.id, **json.loads(r.body)} for r in rows]
