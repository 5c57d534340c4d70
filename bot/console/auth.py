"""Who is using the staff console: sign-in without shared secrets, sessions, CSRF.

* **Sign-in by chat.** A staff member (mentor, officer, admin) names themself
  on ``/staff/login``; a one-time code and link go to their enrolled chat
  (Telegram, Zalo or the signed web chat) through the outbox, as any message
  does (``staff_signin`` rows, critical: quiet hours never hold them). Valid
  ``SIGNIN_VALID`` minutes, used once; ``MAX_CODE_FAILURES`` wrong codes end
  it. The code is checked only in the browser that asked (its pending
  cookie); the link works in any browser but only through a POST (a chat app
  that previews a link cannot use it up). The answer to "send me a code" is
  the same whether the name is known or not.
* **Admins** may also set a password (Argon2id, ``argon2-cffi``).
* **Sessions** live in ``staff_sessions``: the cookie carries a random token,
  the table its keyed digest; they expire (``SESSION_MAX``, ``SESSION_IDLE``)
  and can be revoked (sign-out; an admin revokes a staff member's sessions).
* **CSRF**: every form carries a token bound to the session (or, before
  sign-in, to a pre-session cookie), and requests another site makes a browser
  send are refused (``bot.channels.web_session.cross_site``).
* **Limits**: requests for a code per source address and per staff member, and
  codes typed per source address, counted per clock hour in ``rate_counters``
  (shared by every replica).
* **Audit**: every sign-in (and refusal of a known person) is written to the
  audit log; message bodies and codes never are.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from bot.i18n import N_
from bot.outbox import enqueue
from bot.storage.models import (
    ChannelIdentity,
    OutboxMessage,
    Person,
    StaffPassword,
    StaffSession,
    StaffSignin,
)
from bot.supervision.enrollment import CODE_ALPHABET, bump, window_start
from bot.supervision.people import ANONYMOUS_CHANNELS, Invalid, NotFound, audit, person
from vietnamese.clock import utcnow

STAFF_ROLES = ("mentor", "officer", "admin")
SESSION_COOKIE = "loive_staff"
PENDING_COOKIE = "loive_staff_pending"
PRE_COOKIE = "loive_staff_pre"   # CSRF before sign-in (double submit)
SIGNIN_VALID = dt.timedelta(minutes=10)
SESSION_MAX = dt.timedelta(hours=12)
SESSION_IDLE = dt.timedelta(hours=2)
MAX_CODE_FAILURES = 5
CODE_LENGTH = 6
# Per clock hour.
REQUESTS_PER_SOURCE = 20
REQUESTS_PER_PERSON = 5
CODES_PER_SOURCE = 30
PASSWORDS_PER_SOURCE = 20
MIN_PASSWORD = 12

_hasher = PasswordHasher()


def _digest(secret: bytes, purpose: str, value: str) -> str:
    return hmac.new(secret, f"loive:staff:{purpose}:".encode() + value.encode(), hashlib.sha256).hexdigest()


def normalize_code(code: str) -> str:
    return "".join(ch for ch in code.upper() if ch.isalnum())[:32]


def csrf_token(secret: bytes, token: str) -> str:
    return _digest(secret, "csrf", token)[:40]


def csrf_ok(secret: bytes, token: str | None, sent: str | None) -> bool:
    return bool(token and sent) and hmac.compare_digest(csrf_token(secret, token), sent or "")


def new_token() -> str:
    return secrets.token_urlsafe(32)


# --- limits ----------------------------------------------------------------------------


def over_limit(s: Session, secret: bytes, scope: str, value: str, limit: int, now: dt.datetime) -> bool:
    """Count one more against ``scope:value`` this clock hour; True once over ``limit``."""
    return bump(s, f"staff:{scope}:" + _digest(secret, "rate", value)[:32], window_start(now), 1) > limit


# --- who is asking ------------------------------------------------------------------------


def find_staff(s: Session, name: str) -> Person | None:
    """The one staff member with this display name (any case, spaces trimmed) or id;
    None when nobody or several match (then the id is needed)."""
    name = " ".join(name.split())
    if not name or len(name) > 200:
        return None
    staff = select(Person).where(Person.erased_at.is_(None), Person.role.in_(STAFF_ROLES))
    by_id = s.scalar(staff.where(Person.id == name.lower()))
    if by_id is not None:
        return by_id
    found = [p for p in s.scalars(staff) if p.display_name.casefold() == name.casefold()]
    return found[0] if len(found) == 1 else None


def has_chat(s: Session, person_id: str) -> bool:
    return s.scalar(select(func.count()).select_from(ChannelIdentity).where(
        ChannelIdentity.person_id == person_id, ChannelIdentity.unreachable_at.is_(None),
        ChannelIdentity.channel.notin_(ANONYMOUS_CHANNELS))) > 0


@dataclass(frozen=True)
class Requested:
    pending: str          # the browser's pending cookie value
    limited: bool = False


def request_signin(s: Session, secret: bytes, name: str, source: str, link_base: str,
                   now: dt.datetime | None = None) -> Requested:
    """Queue a sign-in code for the staff member called ``name``. Always returns
    a pending token (the same answer for a known and an unknown name)."""
    now = now or utcnow()
    pending = new_token()
    if over_limit(s, secret, "request-src", source, REQUESTS_PER_SOURCE, now):
        return Requested(pending, limited=True)
    staff = find_staff(s, name)
    if staff is None or not has_chat(s, staff.id):
        return Requested(pending)
    if over_limit(s, secret, "request-person", staff.id, REQUESTS_PER_PERSON, now):
        audit(s, f"person:{staff.id}", "console_signin_limited", staff.id)
        return Requested(pending, limited=True)
    # Earlier codes of this person stop working, and their texts leave the outbox.
    s.execute(update(StaffSignin).where(StaffSignin.person_id == staff.id, StaffSignin.used_at.is_(None),
                                        StaffSignin.expires_at > now).values(expires_at=now))
    # Sent or expired codes are useless: their texts leave the outbox (anyone's, once expired).
    s.execute(update(OutboxMessage).where(
        OutboxMessage.kind == "staff_signin", OutboxMessage.body.is_not(None),
        (OutboxMessage.person_id == staff.id) | (OutboxMessage.due_at < now - SIGNIN_VALID),
        OutboxMessage.status.in_(("sent", "failed", "cancelled")) | (OutboxMessage.due_at < now - SIGNIN_VALID))
        .values(body=None))
    code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
    link = new_token()
    expires = now + SIGNIN_VALID
    row = StaffSignin(person_id=staff.id, pending_hash=_digest(secret, "pending", pending),
                      code_hash=_digest(secret, "code", code), link_hash=_digest(secret, "link", link),
                      created_at=now, expires_at=expires)
    s.add(row)
    s.flush()
    enqueue(s, f"staff_signin:{row.id}", "staff_signin", staff.id, now, critical=True,
            body=json.dumps({"code": code, "link": f"{link_base}/staff/login/link?t={link}",
                             "expires": expires.isoformat()}))
    audit(s, f"person:{staff.id}", "console_signin_sent", staff.id)
    return Requested(pending)


def _open_session(s: Session, secret: bytes, staff_id: str, method: str, now: dt.datetime) -> str:
    token = new_token()
    s.add(StaffSession(id=_digest(secret, "session", token), person_id=staff_id, method=method,
                       created_at=now, last_seen_at=now, expires_at=now + SESSION_MAX))
    audit(s, f"person:{staff_id}", "console_signin", staff_id, method=method)
    return token


def redeem_code(s: Session, secret: bytes, pending: str | None, code: str, source: str,
                now: dt.datetime | None = None) -> str | None:
    """A new session token when ``code`` is right for this browser's pending sign-in."""
    now = now or utcnow()
    if not pending or over_limit(s, secret, "code-src", source, CODES_PER_SOURCE, now):
        return None
    row = s.scalar(select(StaffSignin).where(StaffSignin.pending_hash == _digest(secret, "pending", pending))
                   .with_for_update())
    if row is None or row.used_at is not None or row.expires_at <= now or row.failures >= MAX_CODE_FAILURES:
        return None
    if not hmac.compare_digest(row.code_hash, _digest(secret, "code", normalize_code(code))):
        row.failures += 1
        audit(s, f"person:{row.person_id}", "console_signin_refused", row.person_id, failures=row.failures)
        return None
    return _use(s, secret, row, "code", now)


def _use(s: Session, secret: bytes, row: StaffSignin, method: str, now: dt.datetime) -> str | None:
    staff = s.get(Person, row.person_id)
    if staff is None or staff.erased_at is not None or staff.role not in STAFF_ROLES:
        return None
    row.used_at = now
    return _open_session(s, secret, staff.id, method, now)


def link_is_live(s: Session, secret: bytes, link: str, now: dt.datetime | None = None) -> bool:
    now = now or utcnow()
    row = s.scalar(select(StaffSignin).where(StaffSignin.link_hash == _digest(secret, "link", link)))
    return row is not None and row.used_at is None and row.expires_at > now


def redeem_link(s: Session, secret: bytes, link: str, now: dt.datetime | None = None) -> str | None:
    now = now or utcnow()
    if not link or len(link) > 100:
        return None
    row = s.scalar(select(StaffSignin).where(StaffSignin.link_hash == _digest(secret, "link", link))
                   .with_for_update())
    if row is None or row.used_at is not None or row.expires_at <= now:
        return None
    return _use(s, secret, row, "link", now)


def sign_in_password(s: Session, secret: bytes, name: str, password: str, source: str,
                     now: dt.datetime | None = None) -> str | None:
    """Admins only, with a password they set (``set_password``)."""
    now = now or utcnow()
    if over_limit(s, secret, "password-src", source, PASSWORDS_PER_SOURCE, now):
        return None
    staff = find_staff(s, name)
    stored = s.get(StaffPassword, staff.id) if staff is not None and staff.role == "admin" else None
    if stored is None or not password or len(password) > 1000:
        return None
    try:
        _hasher.verify(stored.hash, password)
    except (VerificationError, InvalidHashError):
        audit(s, f"person:{staff.id}", "console_signin_refused", staff.id, method="password")
        return None
    if _hasher.check_needs_rehash(stored.hash):
        stored.hash, stored.updated_at = _hasher.hash(password), now
    return _open_session(s, secret, staff.id, "password", now)


def set_password(s: Session, admin_id: str, password: str, actor: str) -> None:
    admin = person(s, admin_id)
    if admin.role != "admin":
        raise Invalid(N_("only an administrator can have a password"))
    if len(password) < MIN_PASSWORD:
        raise Invalid(N_("a password needs at least {n} characters"), n=MIN_PASSWORD)
    row = s.get(StaffPassword, admin.id)
    if row is None:
        s.add(StaffPassword(person_id=admin.id, hash=_hasher.hash(password), updated_at=utcnow()))
    else:
        row.hash, row.updated_at = _hasher.hash(password), utcnow()
    audit(s, actor, "set_password", admin.id)


# --- sessions -----------------------------------------------------------------------------


def session_person(s: Session, secret: bytes, token: str | None, now: dt.datetime | None = None) -> Person | None:
    """The staff member of a live session (and mark it used), or None."""
    now = now or utcnow()
    if not token or len(token) > 100:
        return None
    row = s.get(StaffSession, _digest(secret, "session", token))
    if (row is None or row.revoked_at is not None or row.expires_at <= now
            or row.last_seen_at + SESSION_IDLE <= now):
        return None
    staff = s.get(Person, row.person_id)
    if staff is None or staff.erased_at is not None or staff.role not in STAFF_ROLES:
        return None
    row.last_seen_at = now
    return staff


def sign_out(s: Session, secret: bytes, token: str | None) -> None:
    if not token:
        return
    row = s.get(StaffSession, _digest(secret, "session", token))
    if row is not None and row.revoked_at is None:
        row.revoked_at = utcnow()
        audit(s, f"person:{row.person_id}", "console_signout", row.person_id)


def revoke_sessions(s: Session, staff_id: str, actor: str) -> int:
    """End every live session of a staff member (an admin's action; audited)."""
    if person(s, staff_id).role not in STAFF_ROLES:
        raise NotFound(N_("not found"))
    n = s.execute(update(StaffSession).where(StaffSession.person_id == staff_id,
                                             StaffSession.revoked_at.is_(None))
                  .values(revoked_at=utcnow())).rowcount
    audit(s, actor, "console_revoke_sessions", staff_id, sessions=n)
    return n
