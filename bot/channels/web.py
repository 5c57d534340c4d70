"""The local web channel: a fixed JSON contract other tools rely on, and a chat page.

GET /  the chat page; sets the ``loive_web`` cookie (bot.channels.web_session).

POST /api/messages  {"user": "<1–128 chars>", "text": "<1–4096 chars>"}
  → 200 {"replies": [{"text": "...", "buttons": [{"title": "...", "payload": "..."}]}]}
  → 400 {"error": "..."} for bad input (413 over 64 KiB), 403 from another site,
    503 when Rasa is not ready and 502 when it fails, both with
    {"error", "replies": [the "busy, send again" reply]}.
A button press is sent back as ``text`` = its payload. With the cookie, the
conversation is the cookie's identity and ``user`` is ignored (and optional);
without it, each ``user`` is its own anonymous conversation (questions and
answers only). An optional ``"locale": "vi" | "en"`` picks the reply language.

GET /api/inbox?after=ID → {"messages": [{"id": …, "text": …, "buttons": […]}]}
  reminders and alerts sent to the cookie's identity (401 without the cookie);
  ``after`` acknowledges up to ID. Every read that returns or acknowledges
  messages is audited.

GET /favicon.ico, /favicon.svg, /apple-touch-icon.png  the page's icon.

With LOIVE_WEB_CHAT=0 none of these routes exist (404).
"""

from __future__ import annotations

import html
import json
import logging
from pathlib import Path
from string import Template
from typing import Any

import anyio
from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

from bot.channels import web_inbox, web_session
from bot.conversation.inbound import check_text, parse_json, read_body
from bot.conversation.core import BUSY, Core, Inbound
from bot.conversation.rasa_client import RasaError, RasaUnavailable
from bot.i18n import SUPPORTED_LOCALES, gettext, normalize_locale

log = logging.getLogger(__name__)

CHANNEL = web_session.CHANNEL
MAX_BODY_BYTES = 64 * 1024
MAX_USER_CHARS = 128
MAX_TEXT_CHARS = 4096
MAX_MESSAGE_ID = 2**63 - 1  # a BIGINT: larger ids cannot exist (and overflow the query)
_PAGE = Template((Path(__file__).with_name("web_page.html")).read_text(encoding="utf-8"))


class BadRequest(ValueError):
    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


def parse_message(body: bytes, sender: web_session.Sender | None = None, source: str | None = None) -> Inbound:
    """Validate a /api/messages body; raise BadRequest with a clear English message.
    ``sender`` is the cookie-bound identity (then ``user`` is ignored); without
    it the message is anonymous, named by ``user``."""
    if len(body) > MAX_BODY_BYTES:
        raise BadRequest(f"request body is larger than {MAX_BODY_BYTES} bytes", status=413)
    try:
        data = parse_json(body)
    except ValueError as exc:
        raise BadRequest(f"body must be valid JSON ({exc})") from None
    if not isinstance(data, dict):
        raise BadRequest('body must be a JSON object like {"user": "...", "text": "..."}')
    user, text, locale = data.get("user"), data.get("text"), data.get("locale")
    for name, value, limit in (("user", user, MAX_USER_CHARS), ("text", text, MAX_TEXT_CHARS)):
        if name == "user" and sender is not None and value is None:
            continue  # the cookie says who is writing
        if value is None:
            raise BadRequest(f"'{name}' is required")
        if not isinstance(value, str):
            raise BadRequest(f"'{name}' must be a string")
        if not value.strip():
            raise BadRequest(f"'{name}' must not be empty")
        if len(value) > limit:
            raise BadRequest(f"'{name}' must be at most {limit} characters (got {len(value)})")
        try:
            check_text(value)
        except ValueError as exc:
            raise BadRequest(f"'{name}' must be text ({exc})") from None
    if locale is not None and locale not in SUPPORTED_LOCALES:
        raise BadRequest(f"'locale' must be one of {', '.join(SUPPORTED_LOCALES)}")
    who = sender or web_session.anonymous(user)
    return Inbound(channel=who.channel, external_id=who.external_id, text=text.strip(), locale=locale,
                   source=source)


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def _secret(request: Request) -> bytes:
    state = request.app.state
    if getattr(state, "web_secret", None) is None:
        state.web_secret = state.settings.secret()
    return state.web_secret


def _cross_site(request: Request) -> JSONResponse | None:
    if web_session.cross_site(request, request.app.state.settings):
        return _error(403, "requests from another site are refused")
    return None


async def post_message(request: Request) -> JSONResponse:
    core: Core = request.app.state.core
    if (refused := _cross_site(request)) is not None:
        return refused
    sender = web_session.bound(request, _secret(request))
    body = await read_body(request, MAX_BODY_BYTES)
    if body is None:  # refused before more than the limit was read; the rest is not waited for
        return JSONResponse({"error": f"request body is larger than {MAX_BODY_BYTES} bytes"}, status_code=413,
                            headers={"Connection": "close"})
    try:
        msg = parse_message(body, sender, source=request.client.host if request.client else None)
    except BadRequest as exc:
        return _error(exc.status, str(exc))
    try:
        replies = await core.handle(msg)
    except RasaUnavailable as exc:
        return _busy(503, "the assistant is starting or unavailable; try again in a moment", exc)
    except RasaError as exc:
        log.warning("rasa error on web turn: %s", exc)
        return _busy(502, "the assistant could not answer; try again", exc)
    return JSONResponse({"replies": [r.as_dict() for r in replies]})


def _busy(status: int, message: str, exc: Exception) -> JSONResponse:
    """A 5xx that still carries the short "busy, send again" reply for the person."""
    replies = getattr(exc, "replies", [])
    return JSONResponse({"error": message, "replies": [r.as_dict() for r in replies]}, status_code=status)


def _page_strings(locale: str) -> dict[str, Any]:
    strings = {
        "title": gettext("Lối Về: try the assistant", locale),
        "intro": gettext(
            "This is the local web chat for trying Lối Về. Do not enter real "
            "personal or criminal-record details here.",
            locale,
        ),
        "placeholder": gettext("Type your question…", locale),
        "send": gettext("Send", locale),
        "error": gettext("Could not send. Please try again in a moment.", locale),
        "starting": gettext(BUSY, locale),
        "reset": gettext("New conversation", locale),
        "typing": gettext("Lối Về is writing an answer…", locale),
    }
    return {
        "lang": locale,
        **{k: html.escape(strings[k]) for k in ("title", "intro", "placeholder", "send", "reset", "typing")},
        "strings_json": json.dumps(strings, ensure_ascii=False).replace("</", "<\\/"),
    }


async def chat_page(request: Request) -> Response:
    """The page, and the cookie that proves who is writing from it: the same
    identity again when the browser has a valid one, else a new random one."""
    if web_session.foreign_host(request, request.app.state.settings):
        return _error(403, "this page is served at its own address only")
    if web_session.navigated_from_elsewhere(request):
        # A link on another site: the browser withholds the SameSite=Strict
        # cookie, so this request cannot tell a returning browser from a new
        # one. Reload from here (same-site) instead of handing out a new
        # identity that would replace the browser's own.
        return HTMLResponse(_RELOAD, headers={"Cache-Control": "no-store"})
    locale = normalize_locale(request.query_params.get("lang"))
    response = HTMLResponse(_PAGE.substitute(_page_strings(locale)), headers={"Cache-Control": "no-store"})
    secret = _secret(request)
    value = request.cookies.get(web_session.COOKIE)
    if web_session.verify(secret, value) is None:
        value = web_session.new_cookie(secret)
    response.set_cookie(web_session.COOKIE, value,
                        **web_session.cookie_header_kwargs(request.app.state.settings, request))  # type: ignore[arg-type]
    return response


_RELOAD = ('<!doctype html><meta charset="utf-8"><title>Lối Về</title>'
           '<script>location.replace(location.href)</script><a href="/">Lối Về</a>')
MAX_ID_DIGITS = len(str(MAX_MESSAGE_ID))  # no need to parse a longer number


async def get_inbox(request: Request) -> JSONResponse:
    """Messages the product sent first (reminders, alerts) to this cookie's identity."""
    if (refused := _cross_site(request)) is not None:
        return refused
    sender = web_session.bound(request, _secret(request))
    if sender is None:
        return _error(401, "the inbox needs the web chat's cookie: open the chat page (GET /) first")
    after_raw = request.query_params.get("after", "0")
    if not after_raw.isdigit() or len(after_raw) > MAX_ID_DIGITS or int(after_raw) > MAX_MESSAGE_ID:
        return _error(400, "'after' must be a message id (a non-negative integer)")
    messages = await anyio.to_thread.run_sync(web_inbox.fetch, request.app.state.sessions, sender.external_id,
                                              int(after_raw))
    return JSONResponse({"messages": messages}, headers={"Cache-Control": "no-store"})


# The page's icons (bot/channels/favicon.svg; the .ico and .png are it rendered at 16-48 and 180 px).
_ICONS = {f"/{name}": (Path(__file__).with_name(name).read_bytes(), media)
          for name, media in (("favicon.ico", "image/x-icon"), ("favicon.svg", "image/svg+xml"),
                              ("apple-touch-icon.png", "image/png"))}


async def icon(request: Request) -> Response:
    body, media = _ICONS[request.url.path]
    return Response(body, media_type=media, headers={"Cache-Control": "public, max-age=86400"})


routes = [
    Route("/", chat_page, methods=["GET"]),
    *(Route(path, icon, methods=["GET"]) for path in _ICONS),
    Route("/api/messages", post_message, methods=["POST"]),
    Route("/api/inbox", get_inbox, methods=["GET"]),
]
