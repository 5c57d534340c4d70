"""The channel-agnostic core: an inbound message from any channel becomes the
same event, goes to Rasa under an opaque conversation id, and comes back as
replies (text + buttons) for the channel to render."""

from __future__ import annotations

import logging
import re
import time
from dataclasses import dataclass

import anyio
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from bot.gateway.rasa_client import RasaClient, Reply
from bot.i18n import normalize_locale
from bot.people import find_code
from bot.storage.models import ChannelIdentity, new_id, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Inbound:
    channel: str
    external_id: str
    text: str
    locale: str | None = None


def resolve_identity(
    sessions: sessionmaker[Session], channel: str, external_id: str, locale: str | None
) -> tuple[str, str]:
    """Get or create the identity (safe under concurrent first messages) and mark
    this inbound time. Returns (conversation id, locale)."""
    now = utcnow()
    with sessions.begin() as s:
        dialect = s.get_bind().dialect.name
        insert = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[dialect]
        s.execute(
            insert(ChannelIdentity)
            .values(
                id=new_id(),
                channel=channel,
                external_id=external_id,
                locale=normalize_locale(locale),
                created_at=now,
                last_inbound_at=now,
            )
            .on_conflict_do_nothing(index_elements=["channel", "external_id"])
        )
        values: dict[str, object] = {"last_inbound_at": now}
        if locale:
            values["locale"] = normalize_locale(locale)
        s.execute(
            update(ChannelIdentity)
            .where(ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id)
            .values(**values)
        )
        row = s.execute(
            select(ChannelIdentity.id, ChannelIdentity.locale).where(
                ChannelIdentity.channel == channel, ChannelIdentity.external_id == external_id
            )
        ).one()
    return row.id, row.locale


_START = re.compile(r"^\s*/start(?:\s+|$)", re.IGNORECASE)


def as_rasa_text(text: str) -> str:
    """Enrollment codes reach Rasa as an intent payload: a message that is only a
    code, or a deep link "/start CODE", becomes /enroll{"enrollment_code": CODE}.
    Everything else (including Rasa button payloads) passes unchanged."""
    stripped = text.strip()
    start = _START.match(stripped)
    rest = stripped[start.end():] if start else stripped
    code = find_code(rest)
    if code and (start or rest.upper() == code):
        return '/enroll{"enrollment_code": "%s"}' % code
    if start:  # "/start" without a (valid-looking) code: a greeting
        return "/greet"
    return text


class Core:
    def __init__(self, sessions: sessionmaker[Session], rasa: RasaClient) -> None:
        self.sessions = sessions
        self.rasa = rasa

    async def handle(self, msg: Inbound) -> list[Reply]:
        started = time.perf_counter()
        conversation_id, locale = await anyio.to_thread.run_sync(
            resolve_identity, self.sessions, msg.channel, msg.external_id, msg.locale
        )
        replies = await self.rasa.send(
            conversation_id, as_rasa_text(msg.text), {"channel": msg.channel, "locale": locale}
        )
        # Never log message bodies or platform ids: the opaque id and counts only.
        log.info(
            "turn channel=%s conversation=%s replies=%d ms=%.0f",
            msg.channel,
            conversation_id,
            len(replies),
            (time.perf_counter() - started) * 1000,
        )
        return replies
