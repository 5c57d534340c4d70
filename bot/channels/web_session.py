"""Who is writing in the web chat: a signed cookie, and same-origin requests only.

``GET /`` gives the browser an HttpOnly, SameSite=Strict cookie ``loive_web``
holding a random identity and its HMAC (``LOIVE_SECRET_KEY``). A request that
carries a valid cookie is that identity, whatever its ``user`` field says; one
without it is anonymous (questions and answers only: its conversation lives
under the channel ``web-anon`` and can never be linked to a person). The
identity is stored only as a keyed digest, so the database alone cannot
rebuild a cookie.

Requests another site makes a browser send are refused: an ``Origin`` other
than this one, or ``Sec-Fetch-Site`` saying ``cross-site``/``same-site``.
Requests without those headers (scripts, tests) pass, and are anonymous unless
they carry the cookie.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from dataclasses import dataclass

from starlette.requests import Request

from bot.config import Settings, is_loopback

COOKIE = "loive_web"
CHANNEL = "web"               # cookie-bound conversations (reminders and alerts reach their inbox)
ANONYMOUS_CHANNEL = "web-anon"  # conversations named by the ``user`` field alone
COOKIE_MAX_AGE_S = 400 * 24 * 3600   # the longest browsers keep a cookie
_ID_BYTES = 24


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def _sign(secret: bytes, ident: str) -> str:
    return _b64(hmac.new(secret, b"loive_web:cookie:" + ident.encode(), hashlib.sha256).digest())


def new_cookie(secret: bytes) -> str:
    ident = _b64(secrets.token_bytes(_ID_BYTES))
    return f"{ident}.{_sign(secret, ident)}"


def verify(secret: bytes, value: str | None) -> str | None:
    """The identity in a cookie value, or None when absent, malformed or forged."""
    if not value or len(value) > 200 or value.count(".") != 1:
        return None
    ident, signature = value.split(".")
    if not ident or not hmac.compare_digest(signature.encode(), _sign(secret, ident).encode()):
        return None
    return ident


def external_id(secret: bytes, ident: str) -> str:
    """What ``channel_identities.external_id`` holds for a cookie identity."""
    return "s:" + hmac.new(secret, b"loive_web:id:" + ident.encode(), hashlib.sha256).hexdigest()[:40]


@dataclass(frozen=True)
class Sender:
    channel: str
    external_id: str

    @property
    def anonymous(self) -> bool:
        return self.channel == ANONYMOUS_CHANNEL


def bound(request: Request, secret: bytes) -> Sender | None:
    """The cookie-bound sender of this request, or None."""
    ident = verify(secret, request.cookies.get(COOKIE))
    return Sender(CHANNEL, external_id(secret, ident)) if ident else None


def anonymous(user: str) -> Sender:
    return Sender(ANONYMOUS_CHANNEL, user)


def _own_origin(request: Request, settings: Settings) -> str | None:
    """This service's origin as a browser names it, or None when the request
    cannot be for it (a Host that is not ours: DNS rebinding)."""
    if settings.public_origin:
        return settings.public_origin
    host = request.headers.get("host", "")
    hostname = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    if not is_loopback(hostname):
        return None   # without LOIVE_PUBLIC_URL the gateway serves loopback only
    return f"{request.url.scheme}://{host}".lower()


def cross_site(request: Request, settings: Settings) -> bool:
    """True when a browser sent this request for another site."""
    fetch_site = request.headers.get("sec-fetch-site", "").strip().lower()
    if fetch_site in ("cross-site", "same-site"):
        return True
    origin = request.headers.get("origin")
    own = _own_origin(request, settings)
    if origin is not None:
        return own is None or origin.strip().lower() != own
    # No Origin: a script, or a browser's same-origin GET. The cookie decides
    # (SameSite=Strict: a browser never sends it on another site's behalf).
    return False


def foreign_host(request: Request, settings: Settings) -> bool:
    """A Host this service does not answer to (DNS rebinding), when no public URL is set."""
    return _own_origin(request, settings) is None


def navigated_from_elsewhere(request: Request) -> bool:
    """A top-level navigation that started on another site (a link elsewhere)."""
    return request.headers.get("sec-fetch-site", "").strip().lower() == "cross-site"


def cookie_header_kwargs(settings: Settings, request: Request) -> dict[str, object]:
    secure = settings.public_origin.startswith("https://") or request.url.scheme == "https"
    return {"max_age": COOKIE_MAX_AGE_S, "httponly": True, "samesite": "strict", "secure": secure, "path": "/"}
