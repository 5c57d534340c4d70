"""Enrollment: the one-time codes staff issue, a chat redeeming one with the
person's consent, and the limits that keep codes from being guessed.

Codes cannot be guessed by rotating chats, addresses or replicas.

Every code a chat sends (a message that is only a code, ``/start CODE``, a
typed ``/enroll{…}``) is checked here by the gateway before Rasa sees it.
Failed codes are counted per clock hour in the database (``rate_counters``,
shared by every gateway replica): per chat (``LOIVE_ENROLL_MAX_FAILURES``), per
source address of the web chat (``…_PER_SOURCE``) and across all chats
(``…_GLOBAL``). A slot is reserved atomically before the code is looked at and
given back when the code is right, so concurrent guesses cannot overshoot.
The README shows why the global limit keeps the chance of hitting any of
10,000 live codes within a code's life below one in a million.

A refused code never reaches Rasa (no tracker) and makes no identity row for
the web chat; a webhook channel needs one to send the answer, so a chat that
had none gets a transient row, deleted an hour later unless it goes on
talking.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

from sqlalchemy import delete, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session, sessionmaker

from bot.config import Settings
from vietnamese.clock import utcnow
from bot.supervision.people import ANONYMOUS_CHANNELS, audit, person
from bot.storage.models import (
    ChannelIdentity,
    Consent,
    EnrollmentAttempt,
    EnrollmentCode,
    OfferedPayload,
    RateCounter,
    OutboxMessage,
    WebInboxMessage,
    new_id,
)
from bot.i18n import normalize_locale

# No 0/O, 1/I/L: codes are read aloud and typed from paper. 31^10 ≈ 8.2·10^14,
# so that the hourly limits on failed codes (bot/supervision/enrollment.py) keep the
# chance of guessing any of 10,000 live codes below one in a million (README).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"
CODE_LENGTH = 10


# --- enrollment codes ------------------------------------------------------------


def code_digest(code: str, secret: bytes) -> str:
    normalized = "".join(ch for ch in code.upper() if ch.isalnum())
    return hmac.new(secret, normalized.encode(), hashlib.sha256).hexdigest()


@dataclass(frozen=True)
class IssuedCode:
    code: str
    expires_at: dt.datetime


def issue_enrollment_code(s: Session, person_id: str, secret: bytes, days: int, actor: str,
                          now: dt.datetime | None = None) -> IssuedCode:
    p = person(s, person_id)
    now = now or utcnow()
    # A new code replaces any unused one: only the latest piece of paper works.
    s.execute(update(EnrollmentCode)
              .where(EnrollmentCode.person_id == p.id, EnrollmentCode.used_at.is_(None),
                     EnrollmentCode.expires_at > now)
              .values(expires_at=now))
    code = ""
    while not any(ch.isdigit() for ch in code) or code.isdigit():  # find_code() wants letters and digits
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    expires = now + dt.timedelta(days=days)
    s.add(EnrollmentCode(person_id=p.id, code_hash=code_digest(code, secret), created_at=now, expires_at=expires))
    audit(s, actor, "issue_enrollment_code", p.id)
    return IssuedCode(code, expires)


# --- enrollment in chat ------------------------------------------------------------

CONSENT_VERSION = "consent-2026-11-30"  # worrying answers alert mentor and commune police
CODE_IN_TEXT = re.compile(rf"(?<![A-Za-z0-9])([{CODE_ALPHABET}{CODE_ALPHABET.lower()}]{{{CODE_LENGTH}}})(?![A-Za-z0-9])")


@dataclass(frozen=True)
class Redemption:
    status: str                  # "ok" | "invalid" | "rate_limited" | "already_linked" | "anonymous"
    person_id: str | None = None


def find_code(text: str) -> str | None:
    """An enrollment code inside a message ("mã của tôi là K7P2QXMA", "/start K7P2QXMA")."""
    for m in CODE_IN_TEXT.finditer(text or ""):
        candidate = m.group(1).upper()
        if any(ch.isdigit() for ch in candidate) and not candidate.isdigit():  # never a word or a number
            return candidate
    return None


def check_code(s: Session, identity_id: str, code: str, secret: bytes, *, max_failures: int,
               window: dt.timedelta, now: dt.datetime | None = None) -> Redemption:
    """Is this code valid for this chat right now? Records the attempt; too many
    failures from one chat within ``window`` refuse further tries (brute force).
    Expired, used and unknown codes all answer "invalid": no oracle for guessers."""
    now = now or utcnow()
    identity = s.get(ChannelIdentity, identity_id)
    if identity is not None and identity.channel in ANONYMOUS_CHANNELS:
        return Redemption("anonymous")
    failures = s.scalar(select(func.count()).select_from(EnrollmentAttempt).where(
        EnrollmentAttempt.identity_id == identity_id, EnrollmentAttempt.succeeded.is_(False),
        EnrollmentAttempt.at > now - window))
    if failures >= max_failures:
        return Redemption("rate_limited")
    row = s.scalar(select(EnrollmentCode).where(EnrollmentCode.code_hash == code_digest(code, secret)))
    ok = row is not None and row.used_at is None and row.expires_at > now
    s.add(EnrollmentAttempt(identity_id=identity_id, at=now, succeeded=ok))
    if not ok:
        return Redemption("invalid")
    identity = s.get(ChannelIdentity, identity_id)
    if identity is not None and identity.person_id == row.person_id:
        return Redemption("already_linked", row.person_id)
    return Redemption("ok", row.person_id)


def enroll(s: Session, identity_id: str, code: str, secret: bytes, accepted: bool,
           now: dt.datetime | None = None) -> str | None:
    """Record the consent answer; when accepted, use up the code and link this
    chat to the person. Returns the person id when linked."""
    now = now or utcnow()
    row = s.scalar(select(EnrollmentCode).where(EnrollmentCode.code_hash == code_digest(code, secret))
                   .with_for_update())
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    identity = s.get(ChannelIdentity, identity_id)
    if identity is None or identity.channel in ANONYMOUS_CHANNELS:
        return None
    s.add(Consent(person_id=row.person_id, text_version=CONSENT_VERSION, accepted=accepted,
                  channel=identity.channel, at=now))
    if not accepted:
        audit(s, f"identity:{identity_id}", "consent_refused", row.person_id)
        return None
    row.used_at = now
    identity.person_id = row.person_id
    audit(s, f"identity:{identity_id}", "enrolled", row.person_id, channel=identity.channel)
    return row.person_id


# --- limits on failed codes ----------------------------------------------------

OK, INVALID, RATE_LIMITED = "ok", "invalid", "rate_limited"
WINDOW = dt.timedelta(hours=1)
TRANSIENT_FOR = dt.timedelta(hours=1)
KEEP_COUNTERS = dt.timedelta(days=1)


class _Limited(Exception):
    pass


def _insert(s: Session):  # noqa: ANN202
    return {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[s.get_bind().dialect.name]


def window_start(now: dt.datetime) -> dt.datetime:
    return now.replace(minute=0, second=0, microsecond=0)


def _keyed(secret: bytes, value: str) -> str:
    return hmac.new(secret, b"loive:guard:" + value.encode(), hashlib.sha256).hexdigest()[:32]


def scopes(settings: Settings, secret: bytes, channel: str, external_id: str,
           source: str | None) -> list[tuple[str, int]]:
    """(counter scope, limit per hour) that a failed code from this chat counts against."""
    found = [("global", settings.enroll_max_failures_global),
             ("chat:" + _keyed(secret, f"{channel}\0{external_id}"), settings.enroll_max_failures)]
    if source:
        found.append(("src:" + _keyed(secret, source), settings.enroll_max_failures_per_source))
    return found


def bump(s: Session, scope: str, start: dt.datetime, delta: int) -> int:
    stmt = _insert(s)(RateCounter).values(scope=scope, window_start=start, count=delta)
    stmt = stmt.on_conflict_do_update(index_elements=["scope", "window_start"],
                                      set_={"count": RateCounter.count + delta})
    return s.execute(stmt.returning(RateCounter.count)).scalar_one()


def _code_is_live(s: Session, code: str, secret: bytes, now: dt.datetime) -> bool:
    row = s.scalar(select(EnrollmentCode).where(EnrollmentCode.code_hash == code_digest(code, secret)))
    return row is not None and row.used_at is None and row.expires_at > now


def attempt(sessions: sessionmaker[Session], settings: Settings, channel: str, external_id: str,
            source: str | None, code: str, now: dt.datetime | None = None) -> str:
    """OK (the code is live: Rasa may take the enrollment on), INVALID, or
    RATE_LIMITED (a limit is reached: the code is not even looked at)."""
    now = now or utcnow()
    secret = settings.secret()
    start = window_start(now)
    limits = scopes(settings, secret, channel, external_id, source)
    try:
        with sessions.begin() as s:
            if any(bump(s, scope, start, 1) > limit for scope, limit in limits):
                raise _Limited  # rolls the reservations back
            live = _code_is_live(s, code, secret, now)
            if live:  # only failures count
                for scope, _ in limits:
                    bump(s, scope, start, -1)
            s.execute(delete(RateCounter).where(RateCounter.window_start < start - KEEP_COUNTERS))
            purge_transient(s, now)
    except _Limited:
        return RATE_LIMITED
    return OK if live else INVALID


def transient_identity(sessions: sessionmaker[Session], channel: str, external_id: str,
                       locale: str | None, now: dt.datetime | None = None) -> str:
    """The chat's identity id, made transient if it had none (only to carry a refusal)."""
    now = now or utcnow()
    with sessions.begin() as s:
        s.execute(_insert(s)(ChannelIdentity).values(
            id=new_id(), channel=channel, external_id=external_id, locale=normalize_locale(locale),
            created_at=now, last_inbound_at=now, transient_until=now + TRANSIENT_FOR)
            .on_conflict_do_nothing(index_elements=["channel", "external_id"]))
        return s.scalar(select(ChannelIdentity.id).where(ChannelIdentity.channel == channel,
                                                         ChannelIdentity.external_id == external_id))


def purge_transient(s: Session, now: dt.datetime) -> int:
    """Delete identities made only to answer refused codes, once their time is up."""
    ids = list(s.scalars(select(ChannelIdentity.id).where(ChannelIdentity.transient_until < now,
                                                          ChannelIdentity.person_id.is_(None))))
    if not ids:
        return 0
    s.execute(delete(OutboxMessage).where(OutboxMessage.identity_id.in_(ids), OutboxMessage.person_id.is_(None)))
    for model in (WebInboxMessage, EnrollmentAttempt, OfferedPayload):
        s.execute(delete(model).where(model.identity_id.in_(ids)))
    return s.execute(delete(ChannelIdentity).where(ChannelIdentity.id.in_(ids))).rowcount

