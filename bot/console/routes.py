"""The staff console under ``/staff``: server-rendered pages (Jinja2 with the
Babel catalogs, Vietnamese first, ``?lang=en`` for English), plain forms, no
JavaScript, every asset served from here.

Fixed contract: ``/staff/login`` is the sign-in page; every other ``/staff``
page redirects there (302) without a session, and every form posted without
one answers 401. Every POST needs the session's CSRF token and a same-site
request. What a staff member may see is exactly what the chat and the CLI let
them see (``people.visible_people``); another commune's person answers 404,
by URL and by form alike. Malformed input answers 4xx, never 500.

Relayed conversations (issue 15) go through ``bot.supervision.conversations``
only: the caseload shows who has one open, the person page reads it
(``conversations.read``, audited) and opens it (``conversations.staff_open``,
the same role scope as the chat's "Nhắn cho anh/chị …" button); the staff
member then continues in their own chat with the bot. The charts show handoff
response times, the admin page open and unanswered requests, counts only.
"""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path
from typing import Any

import anyio
import segno
from jinja2 import Environment, FileSystemLoader, select_autoescape
from markupsafe import Markup
from sqlalchemy import func, select
from sqlalchemy.orm import Session
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import Route

from bot.channels import web_session
from bot.console import auth, charts, labels, queries
from bot.i18n import N_, format_date, gettext, normalize_locale, translations
from bot.storage.models import (
    COMMUNITY_SENTENCES,
    LEGAL_STATUSES,
    OUTBOX_STATUSES,
    ROLES,
    SCHEDULE_KINDS,
    Alert,
    Commune,
    OfficerCommune,
    OutboxMessage,
    Person,
    StaffSession,
)
from bot.supervision import conversations, enrollment, people, privacy, reminders
from bot.supervision.alerts import ALERT_TYPES, REASON_CODES, WORRYING_REASONS, act_on_alert
from bot.supervision.people import Invalid, NotFound, audit
from vietnamese.clock import VIETNAM_TZ, utcnow, vietnam_date

TEMPLATES = Path(__file__).with_name("templates")
STATIC = Path(__file__).with_name("static")
LANG_COOKIE = "loive_lang"
MAX_FORM_BYTES = 32 * 1024
MAX_FIELD = 2000


# --- templates ------------------------------------------------------------------------------


@lru_cache(maxsize=None)
def environment(locale: str) -> Environment:
    env = Environment(loader=FileSystemLoader(str(TEMPLATES)), autoescape=select_autoescape(["html"]),
                      extensions=["jinja2.ext.i18n"], trim_blocks=True, lstrip_blocks=True)
    env.install_gettext_translations(translations(locale), newstyle=True)  # type: ignore[attr-defined]
    tr = lambda text: gettext(text, locale)  # noqa: E731
    env.globals.update(labels=labels, tr=tr, ALERT_TYPES=ALERT_TYPES, WORRYING_REASONS=WORRYING_REASONS,
                       REASON_CODES=REASON_CODES, LEGAL_STATUSES=LEGAL_STATUSES, SCHEDULE_KINDS=SCHEDULE_KINDS,
                       COMMUNITY_SENTENCES=COMMUNITY_SENTENCES)
    env.filters["tr_channel"] = lambda c: tr(labels.CHANNELS.get(c, c))
    env.filters["date"] = lambda d: format_date(d, locale) if d else "—"
    env.filters["when"] = lambda t: (t.astimezone(VIETNAM_TZ).strftime("%H:%M ") + format_date(
        t.astimezone(VIETNAM_TZ).date(), locale)) if t else "—"
    return env


def locale_of(request: Request) -> str:
    asked = request.query_params.get("lang")
    if asked in ("vi", "en"):
        return asked
    return normalize_locale(request.cookies.get(LANG_COOKIE))


@dataclass
class Ctx:
    request: Request
    s: Session
    secret: bytes
    locale: str
    viewer: Person | None = None
    token: str | None = None
    form: dict[str, str] = field(default_factory=dict)
    now: dt.datetime = field(default_factory=utcnow)
    cookies: list[tuple[str, str | None, int]] = field(default_factory=list)

    def _(self, text: str) -> str:
        return gettext(text, self.locale)

    def page(self, name: str, status: int = 200, **context: Any) -> HTMLResponse:
        csrf = auth.csrf_token(self.secret, self.token) if self.token else None
        html = environment(self.locale).get_template(name).render(
            viewer=self.viewer, csrf=csrf, locale=self.locale, path=self.request.url.path,
            query=self.request.url.query, **context)
        return HTMLResponse(html, status_code=status, headers=NO_STORE)


NO_STORE = {"Cache-Control": "no-store", "X-Frame-Options": "DENY", "Referrer-Policy": "same-origin",
            "Content-Security-Policy": "default-src 'self'; img-src 'self' data:; style-src 'self'; "
                                       "script-src 'none'; form-action 'self'; frame-ancestors 'none'"}


def _secret(request: Request) -> bytes:
    state = request.app.state
    if getattr(state, "web_secret", None) is None:
        state.web_secret = state.settings.secret()
    return state.web_secret


def _source(request: Request) -> str:
    return request.client.host if request.client else "?"


def _cookie_kwargs(request: Request, max_age: int | None) -> dict[str, Any]:
    secure = request.app.state.settings.public_origin.startswith("https://") or request.url.scheme == "https"
    return {"httponly": True, "samesite": "lax", "secure": secure, "path": "/staff", "max_age": max_age}


async def _read_form(request: Request) -> dict[str, str] | Response:
    if request.headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        return HTMLResponse("unsupported form encoding", status_code=415)
    try:
        length = int(request.headers.get("content-length", "0"))
    except ValueError:
        return HTMLResponse("bad length", status_code=400)
    if length > MAX_FORM_BYTES:
        return HTMLResponse("form too large", status_code=413)
    try:
        form = await request.form(max_files=0, max_fields=60)
    except Exception:  # a body the parser refuses: the client's fault
        return HTMLResponse("malformed form", status_code=400)
    out: dict[str, str] = {}
    for key, value in form.multi_items():
        if not isinstance(value, str) or len(value) > MAX_FIELD or "\x00" in value:
            return HTMLResponse("malformed form field", status_code=400)
        out[key] = value
    return out


def view(*, login: bool = True, roles: tuple[str, ...] = auth.STAFF_ROLES, csrf: bool = True):  # noqa: ANN201
    """Wrap a synchronous page function ``fn(ctx, **path_params)``: same-site
    check, form parsing, the session (302/401 without), the CSRF token on every
    POST, one transaction, and 4xx pages for refusals."""

    def wrap(fn: Callable[..., Response]) -> Callable:
        async def endpoint(request: Request) -> Response:
            settings = request.app.state.settings
            if web_session.foreign_host(request, settings):
                return HTMLResponse("wrong host", status_code=403)
            post = request.method == "POST"
            if post and web_session.cross_site(request, settings):
                return HTMLResponse("requests from another site are refused", status_code=403)
            form: dict[str, str] = {}
            if post:
                got = await _read_form(request)
                if isinstance(got, Response):
                    return got
                form = got
            response = await anyio.to_thread.run_sync(partial(_run, fn, request, form, login, roles, csrf))
            asked = request.query_params.get("lang")
            if asked in ("vi", "en"):
                response.set_cookie(LANG_COOKIE, asked, max_age=400 * 24 * 3600, path="/staff", samesite="lax")
            return response

        return endpoint

    return wrap


def _run(fn: Callable[..., Response], request: Request, form: dict[str, str], login: bool,
         roles: tuple[str, ...], csrf: bool) -> Response:
    secret = _secret(request)
    locale = locale_of(request)
    with request.app.state.sessions() as s:
        ctx = Ctx(request, s, secret, locale, form=form)
        ctx.token = request.cookies.get(auth.SESSION_COOKIE)
        if login:
            ctx.viewer = auth.session_person(s, secret, ctx.token, ctx.now)
            if ctx.viewer is None:
                s.commit()
                if request.method == "POST":
                    return ctx.page("message.html", 401, title=ctx._("Please sign in"),
                                    text=ctx._("Your session has ended. Please sign in again."), link="/staff/login")
                return RedirectResponse("/staff/login", status_code=302)
            if csrf and request.method == "POST" and not auth.csrf_ok(secret, ctx.token, form.get("csrf")):
                s.rollback()
                return ctx.page("message.html", 403, title=ctx._("Form expired"),
                                text=ctx._("This form is no longer valid. Go back, reload the page and try again."))
            if ctx.viewer.role not in roles:
                s.rollback()
                return ctx.page("message.html", 403, title=ctx._("Not allowed"),
                                text=ctx._("Your role does not allow this page."))
        try:
            response = fn(ctx, **request.path_params)
        except NotFound:
            s.rollback()
            return ctx.page("message.html", 404, title=ctx._("Not found"),
                            text=ctx._("There is nobody or nothing here that you may see."))
        except (Invalid, BadInput) as exc:
            s.rollback()
            text = exc.text(ctx.locale) if isinstance(exc, Invalid) else str(exc)
            return ctx.page("message.html", 400, title=ctx._("Please check the form"), text=text)
        s.commit()
        return response


class BadInput(ValueError):
    pass


def _choice(ctx: Ctx, name: str, allowed: Any, required: bool = True) -> str | None:
    value = ctx.form.get(name, "").strip()
    if not value and not required:
        return None
    if value not in allowed:
        raise BadInput(ctx._("Please choose a valid value for: {field}").format(field=name))
    return value


def _int(ctx: Ctx, name: str, low: int, high: int, required: bool = True) -> int | None:
    value = ctx.form.get(name, "").strip()
    if not value and not required:
        return None
    if not value.isdigit() or not low <= int(value) <= high:
        raise BadInput(ctx._("Please enter a number from {low} to {high} for: {field}").format(
            low=low, high=high, field=name))
    return int(value)


def _reason(ctx: Ctx) -> str:
    reason = " ".join(ctx.form.get("reason", "").split())
    if not reason:
        raise BadInput(ctx._("Please write the reason for this change."))
    return reason[:200]


def _may(ctx: Ctx, *roles: str) -> None:
    if ctx.viewer is None or ctx.viewer.role not in roles:
        raise NotFound(N_("not found"))


def _origin(request: Request) -> str:
    settings = request.app.state.settings
    return settings.public_origin or f"{request.url.scheme}://{request.headers.get('host', '127.0.0.1')}"


# --- sign-in -----------------------------------------------------------------------------------


def _pre_token(ctx: Ctx) -> str:
    token = ctx.request.cookies.get(auth.PRE_COOKIE)
    if not token or len(token) > 100:
        token = auth.new_token()
    return token


def _login_page(ctx: Ctx, status: int = 200, **extra: Any) -> Response:
    pre = _pre_token(ctx)
    response = ctx.page("login.html", status, pre_csrf=auth.csrf_token(ctx.secret, pre), **extra)
    response.set_cookie(auth.PRE_COOKIE, pre, **_cookie_kwargs(ctx.request, 3600))
    return response


def _pre_ok(ctx: Ctx) -> bool:
    return auth.csrf_ok(ctx.secret, ctx.request.cookies.get(auth.PRE_COOKIE), ctx.form.get("csrf"))


def _signed_in(ctx: Ctx, token: str) -> Response:
    response = RedirectResponse("/staff/caseload", status_code=303)
    response.set_cookie(auth.SESSION_COOKIE, token, **_cookie_kwargs(ctx.request, int(auth.SESSION_MAX.total_seconds())))
    response.delete_cookie(auth.PENDING_COOKIE, path="/staff")
    return response


@view(login=False)
def login(ctx: Ctx) -> Response:
    if auth.session_person(ctx.s, ctx.secret, ctx.request.cookies.get(auth.SESSION_COOKIE), ctx.now):
        return RedirectResponse("/staff/caseload", status_code=302)
    return _login_page(ctx)


@view(login=False)
def login_post(ctx: Ctx) -> Response:
    if not _pre_ok(ctx):
        return _login_page(ctx, 403, error=ctx._("This form is no longer valid. Please try again."))
    name = ctx.form.get("name", "")
    if not name.strip():
        return _login_page(ctx, 400, error=ctx._("Please enter your name."))
    if ctx.form.get("password"):
        token = auth.sign_in_password(ctx.s, ctx.secret, name, ctx.form["password"], _source(ctx.request), ctx.now)
        if token is None:
            return _login_page(ctx, 401, error=ctx._("Name or password is not right."))
        return _signed_in(ctx, token)
    got = auth.request_signin(ctx.s, ctx.secret, name, _source(ctx.request), _origin(ctx.request), ctx.now)
    if got.limited:
        return _login_page(ctx, 429, error=ctx._("Too many attempts. Please wait an hour and try again."))
    ctx.request.app.state.console_wake()
    response = RedirectResponse("/staff/login/code", status_code=303)
    response.set_cookie(auth.PENDING_COOKIE, got.pending,
                        **_cookie_kwargs(ctx.request, int(auth.SIGNIN_VALID.total_seconds())))
    return response


@view(login=False)
def code_page(ctx: Ctx) -> Response:
    pre = _pre_token(ctx)
    response = ctx.page("code.html", pre_csrf=auth.csrf_token(ctx.secret, pre),
                        minutes=int(auth.SIGNIN_VALID.total_seconds() // 60))
    response.set_cookie(auth.PRE_COOKIE, pre, **_cookie_kwargs(ctx.request, 3600))
    return response


@view(login=False)
def code_post(ctx: Ctx) -> Response:
    pre = _pre_token(ctx)
    if not _pre_ok(ctx):
        return ctx.page("code.html", 403, pre_csrf=auth.csrf_token(ctx.secret, pre),
                        minutes=int(auth.SIGNIN_VALID.total_seconds() // 60),
                        error=ctx._("This form is no longer valid. Please try again."))
    token = auth.redeem_code(ctx.s, ctx.secret, ctx.request.cookies.get(auth.PENDING_COOKIE),
                             ctx.form.get("code", ""), _source(ctx.request), ctx.now)
    if token is None:
        return ctx.page("code.html", 401, pre_csrf=auth.csrf_token(ctx.secret, pre),
                        minutes=int(auth.SIGNIN_VALID.total_seconds() // 60),
                        error=ctx._("The code is wrong, used or expired. Check the message or ask for a new code."))
    return _signed_in(ctx, token)


@view(login=False)
def link_page(ctx: Ctx) -> Response:
    link = ctx.request.query_params.get("t", "")
    live = len(link) <= 100 and auth.link_is_live(ctx.s, ctx.secret, link, ctx.now)
    pre = _pre_token(ctx)
    response = ctx.page("link.html", 200 if live else 410, live=live, link=link,
                        pre_csrf=auth.csrf_token(ctx.secret, pre))
    response.set_cookie(auth.PRE_COOKIE, pre, **_cookie_kwargs(ctx.request, 3600))
    return response


@view(login=False)
def link_post(ctx: Ctx) -> Response:
    if not _pre_ok(ctx):
        return ctx.page("message.html", 403, title=ctx._("Form expired"),
                        text=ctx._("This form is no longer valid. Please try again."), link="/staff/login")
    token = auth.redeem_link(ctx.s, ctx.secret, ctx.form.get("t", ""), ctx.now)
    if token is None:
        return ctx.page("link.html", 410, live=False, link="", pre_csrf="")
    return _signed_in(ctx, token)


@view()
def logout(ctx: Ctx) -> Response:
    auth.sign_out(ctx.s, ctx.secret, ctx.token)
    response = RedirectResponse("/staff/login", status_code=303)
    response.delete_cookie(auth.SESSION_COOKIE, path="/staff")
    return response


# --- caseload, person, alerts ------------------------------------------------------------------


@view()
def home(ctx: Ctx) -> Response:
    return RedirectResponse("/staff/caseload", status_code=302)


@view()
def caseload(ctx: Ctx) -> Response:
    params = ctx.request.query_params
    only = params.get("list") if params.get("list") in queries.LISTS else None
    sort = params.get("sort") if params.get("sort") in queries.SORTS else "name"
    q = params.get("q", "")[:100]
    rows = queries.caseload(ctx.s, ctx.viewer, ctx.now, q=q, sort=sort)
    counts = queries.list_counts(rows)
    shown = [r for r in rows if only in r.lists] if only else rows
    return ctx.page("caseload.html", rows=shown, counts=counts, only=only, sort=sort, q=q, total=len(rows),
                    today=vietnam_date(ctx.now))


def _wellbeing_chart(ctx: Ctx, d: queries.Detail) -> Markup:
    points = list(reversed([c for c in d.checkins if c.wellbeing is not None][:12]))
    return charts.lines(ctx._("Wellbeing at each check-in (1–5)"),
                        [format_date(vietnam_date(c.at), ctx.locale)[:5] for c in points],
                        {"wellbeing": [c.wellbeing for c in points]}, top=5)


@view()
def person_page(ctx: Ctx, pid: str) -> Response:
    d = queries.detail(ctx.s, ctx.viewer, pid, ctx.now)
    return ctx.page("person.html", d=d, chart=_wellbeing_chart(ctx, d),
                    wellbeing_rows=list(reversed([c for c in d.checkins if c.wellbeing is not None][:12])),
                    today=vietnam_date(ctx.now), my_chats=queries.my_chats(ctx.s, ctx.viewer),
                    done=ctx.request.query_params.get("done"))


@view()
def person_conversation(ctx: Ctx, pid: str) -> Response:
    """Open (or join) the person's relayed conversation; the staff member goes
    on in their own chat with the bot, where the person's replies arrive."""
    p = queries.subject(ctx.s, ctx.viewer, pid, "console_relay_open")
    if p.role != "supervisee":
        raise NotFound(N_("not found"))
    if not queries.my_chats(ctx.s, ctx.viewer):
        raise BadInput(ctx._("You have no chat with Lối Về that can be reached, so you could not read the replies. "
                             "Link one first (ask an officer for an enrollment code), then try again."))
    try:
        conversations.staff_open(ctx.s, ctx.viewer.id, p.id, ctx.now)
    except conversations.NotAllowed:
        raise NotFound(N_("not found")) from None
    return _back(p.id, "conversation")


def _back(pid: str, note: str = "") -> Response:
    return RedirectResponse(f"/staff/people/{pid}" + (f"?done={note}" if note else ""), status_code=303)


@view(roles=("officer", "admin"))
def person_schedule(ctx: Ctx, pid: str) -> Response:
    p = queries.subject(ctx.s, ctx.viewer, pid, "console_edit")
    reason = _reason(ctx)
    kind = _choice(ctx, "kind", SCHEDULE_KINDS)
    people.set_schedule(ctx.s, p.id, kind, queries.actor(ctx.viewer),
                        weekday=_int(ctx, "weekday", 0, 6, required=kind == "weekly"),
                        day_of_month=_int(ctx, "day", 1, 28, required=kind == "monthly"),
                        window_days=_int(ctx, "window_days", 1, 28, required=False) or 1,
                        grace_hours=_int(ctx, "grace_hours", 0, 336, required=False) or 24)
    audit(ctx.s, queries.actor(ctx.viewer), "console_reason", p.id, change="schedule", reason=reason)
    return _back(p.id, "schedule")


@view(roles=("officer", "admin"))
def person_status(ctx: Ctx, pid: str) -> Response:
    p = queries.subject(ctx.s, ctx.viewer, pid, "console_edit")
    reason = _reason(ctx)
    status = _choice(ctx, "status", LEGAL_STATUSES)
    until_raw = ctx.form.get("until", "").strip()
    try:
        until = dt.date.fromisoformat(until_raw) if until_raw else None
    except ValueError:
        raise BadInput(ctx._("Please enter the date as YYYY-MM-DD.")) from None
    people.set_legal_status(ctx.s, p.id, status, until, queries.actor(ctx.viewer))
    audit(ctx.s, queries.actor(ctx.viewer), "console_reason", p.id, change="legal_status", reason=reason)
    return _back(p.id, "status")


@view(roles=("officer", "admin"))
def person_mentor(ctx: Ctx, pid: str) -> Response:
    p = queries.subject(ctx.s, ctx.viewer, pid, "console_edit")
    reason = _reason(ctx)
    mentor_id = ctx.form.get("mentor", "")
    allowed = {m.id for m, _ in queries.mentors_for(ctx.s, ctx.viewer)}
    if mentor_id not in allowed:
        raise NotFound(N_("not found"))
    people.assign_mentor(ctx.s, p.id, mentor_id, queries.actor(ctx.viewer),
                         visit_every_days=_int(ctx, "visit_days", 1, 366, required=False) or 30)
    audit(ctx.s, queries.actor(ctx.viewer), "console_reason", p.id, change="mentor", reason=reason)
    return _back(p.id, "mentor")


@view(roles=("officer", "admin"))
def person_export(ctx: Ctx, pid: str) -> Response:
    p = queries.subject(ctx.s, ctx.viewer, pid, "console_export")
    data = privacy.export_person(ctx.s, p.id, queries.actor(ctx.viewer))
    return Response(json.dumps(data, ensure_ascii=False, indent=1), media_type="application/json",
                    headers={**NO_STORE, "Content-Disposition": f'attachment; filename="loive-{p.id}.json"'})


@view(roles=("admin",))
def person_erase_page(ctx: Ctx, pid: str) -> Response:
    p = queries.subject(ctx.s, ctx.viewer, pid)
    return ctx.page("erase.html", p=p)


@view(roles=("admin",))
def person_erase(ctx: Ctx, pid: str) -> Response:
    p = queries.subject(ctx.s, ctx.viewer, pid, "console_edit")
    if ctx.form.get("confirm_name", "").strip().casefold() != p.display_name.casefold():
        raise BadInput(ctx._("To erase, type the person's name exactly as shown."))
    counts = privacy.erase_person(ctx.s, p.id, queries.actor(ctx.viewer))
    return ctx.page("message.html", title=ctx._("Erased"),
                    text=ctx._("Erased: {checkins} check-ins, {channels} chat links. Kept: the access log.").format(
                        **counts), link="/staff/caseload")


@view(roles=("officer", "admin"))
def person_code(ctx: Ctx, pid: str) -> Response:
    p = queries.subject(ctx.s, ctx.viewer, pid, "console_edit")
    settings = ctx.request.app.state.settings
    issued = enrollment.issue_enrollment_code(ctx.s, p.id, settings.secret(), settings.enroll_code_days,
                                              queries.actor(ctx.viewer), now=ctx.now)
    link = (f"https://t.me/{settings.telegram_bot_username}?start={issued.code}"
            if settings.telegram_bot_username else None)
    qr = Markup(segno.make(link or issued.code, error="m").svg_inline(scale=8, title=ctx._("QR code")))
    return ctx.page("enroll_code.html", p=p, code=issued.code, link=link, qr=qr,
                    expires=vietnam_date(issued.expires_at), web_url=_origin(ctx.request) + "/",
                    commune=(ctx.s.get(Commune, p.commune_id) or Commune(name="")).name)


@view()
def alerts_page(ctx: Ctx) -> Response:
    handled = ctx.request.query_params.get("handled") == "1"
    return ctx.page("alerts.html", items=queries.alerts_queue(ctx.s, ctx.viewer, handled), handled=handled)


@view()
def alert_act(ctx: Ctx, aid: str) -> Response:
    if not aid.isdigit() or len(aid) > 12:
        raise NotFound(N_("not found"))
    status = _choice(ctx, "status", ("acknowledged", "excused", "resolved"))
    reason = _choice(ctx, "reason", REASON_CODES)
    act_on_alert(ctx.s, int(aid), status, reason, ctx.viewer.id, now=ctx.now)
    back = ctx.form.get("back", "")
    target = back if back.startswith("/staff/") and "//" not in back and len(back) < 200 else "/staff/alerts"
    return RedirectResponse(target, status_code=303)


# --- enrollment ----------------------------------------------------------------------------------


def _enroll_roles(viewer: Person) -> tuple[str, ...]:
    return ROLES if viewer.role == "admin" else ("supervisee", "mentor")


@view(roles=("officer", "admin"))
def enroll_page(ctx: Ctx) -> Response:
    return ctx.page("enroll.html", communes=queries.communes_for(ctx.s, ctx.viewer),
                    mentors=queries.mentors_for(ctx.s, ctx.viewer), roles=_enroll_roles(ctx.viewer))


@view(roles=("officer", "admin"))
def enroll_post(ctx: Ctx) -> Response:
    role = _choice(ctx, "role", _enroll_roles(ctx.viewer))
    name = " ".join(ctx.form.get("name", "").split())
    if not name or len(name) > 200:
        raise BadInput(ctx._("Please enter the person's name."))
    communes = {str(c.id): c for c in queries.communes_for(ctx.s, ctx.viewer)}
    commune = communes.get(ctx.form.get("commune", ""))
    if commune is None:
        raise NotFound(N_("not found"))
    mentor_id = ctx.form.get("mentor") or None
    if mentor_id is not None:
        if role != "supervisee" or mentor_id not in {m.id for m, _ in queries.mentors_for(ctx.s, ctx.viewer)}:
            raise NotFound(N_("not found"))
    status = _choice(ctx, "legal_status", LEGAL_STATUSES, required=False) if role == "supervisee" else None
    until_raw = ctx.form.get("until", "").strip()
    try:
        until = dt.date.fromisoformat(until_raw) if until_raw and role == "supervisee" else None
    except ValueError:
        raise BadInput(ctx._("Please enter the date as YYYY-MM-DD.")) from None
    p = people.add_person(ctx.s, role, name, commune.name, queries.actor(ctx.viewer), mentor_id=mentor_id,
                          legal_status=status if status != "unconfirmed" else None, legal_duty_until=until)
    return RedirectResponse(f"/staff/people/{p.id}?done=added", status_code=303) if role == "supervisee" \
        else RedirectResponse("/staff/admin" if ctx.viewer.role == "admin" else "/staff/caseload", status_code=303)


# --- charts -----------------------------------------------------------------------------------------


@view()
def charts_page(ctx: Ctx) -> Response:
    params = ctx.request.query_params
    communes = queries.communes_for(ctx.s, ctx.viewer) if ctx.viewer.role in ("officer", "admin") else []
    mentors = queries.mentors_for(ctx.s, ctx.viewer) if ctx.viewer.role in ("officer", "admin") else []
    commune_id = mentor_id = None
    scope = ctx._("everyone on your caseload")
    if params.get("commune"):
        chosen = {str(c.id): c for c in communes}.get(params["commune"])
        if chosen is None:
            raise NotFound(N_("not found"))
        commune_id, scope = chosen.id, ctx._("supervisees of {commune}").format(commune=chosen.name)
    elif params.get("mentor"):
        allowed = {m.id: m for m, _ in mentors}
        if ctx.viewer.role == "mentor":
            allowed[ctx.viewer.id] = ctx.viewer
        chosen_m = allowed.get(params["mentor"])
        if chosen_m is None:
            raise NotFound(N_("not found"))
        mentor_id, scope = chosen_m.id, ctx._("supervisees helped by {mentor}").format(mentor=chosen_m.display_name)
    elif ctx.viewer.role == "mentor":
        mentor_id = ctx.viewer.id
    within = ctx.request.app.state.settings.relay_answer_within_minutes
    data = queries.chart_data(ctx.s, ctx.viewer, ctx.now, commune_id=commune_id, mentor_id=mentor_id,
                              answer_within=dt.timedelta(minutes=within))
    weeks = [format_date(w, ctx.locale)[:5] for w in data.weeks]
    completion = [round(100 * g / d) if d else None for g, d in data.completion]
    confirm = [round(100 * c / n) if n else None for c, n in data.reminders]
    need_names = sorted(data.needs)
    return ctx.page(
        "charts.html", data=data, weeks=weeks, scope=scope, communes=communes, mentors=mentors,
        completion=completion, confirm=confirm, need_names=need_names,
        completion_svg=charts.bars(ctx._("Check-ins received by week, in percent of those due"), weeks,
                                   [v or 0 for v in completion], top=100),
        confirm_svg=charts.bars(ctx._("Reminders confirmed by week, in percent of those sent"), weeks,
                                [v or 0 for v in confirm], top=100),
        types_svg=charts.bars(ctx._("Alerts by type"), [ctx._(labels.ALERT_TYPES_SHORT.get(t, t))[:8]
                                                         for t, _ in data.alert_types],
                              [n for _, n in data.alert_types]),
        needs_svg=charts.lines(ctx._("Needs reported by week"), weeks,
                               {n: data.needs[n] for n in need_names}) if need_names else None,
        within=within,
        handoff_svg=charts.lines(ctx._("Median minutes from a request to the first staff reply, by week"), weeks,
                                 {"median": [m for _, m, _ in data.handoff]}),
        late_svg=charts.bars(ctx._("Requests not answered in time, by week"), weeks,
                             [late for _, _, late in data.handoff]))


# --- admin -------------------------------------------------------------------------------------------


@view(roles=("admin",))
def admin_page(ctx: Ctx) -> Response:
    s = ctx.s
    at = reminders.last_beat(s)
    age = None if at is None else int((ctx.now - at).total_seconds())
    outbox = dict(s.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    state = ctx.request.app.state
    channels = [*(["web"] if state.settings.web_chat else []), *sorted(state.channels)]
    staff = list(s.scalars(select(Person).where(Person.role.in_(auth.STAFF_ROLES), Person.erased_at.is_(None))
                           .order_by(Person.role, Person.display_name)))
    live = dict(s.execute(select(StaffSession.person_id, func.count()).where(
        StaffSession.revoked_at.is_(None), StaffSession.expires_at > ctx.now).group_by(StaffSession.person_id)).all())
    communes = list(s.scalars(select(Commune).order_by(Commune.name)))
    counts = dict(s.execute(select(Person.commune_id, func.count()).where(
        Person.erased_at.is_(None), Person.role == "supervisee").group_by(Person.commune_id)).all())
    officers = dict(s.execute(select(OfficerCommune.commune_id, func.count()).group_by(
        OfficerCommune.commune_id)).all())
    names = dict(s.execute(select(Commune.id, Commune.name)).all())
    within = state.settings.relay_answer_within_minutes
    relay = queries.relay_health(s, ctx.now, dt.timedelta(minutes=within))
    audit(s, queries.actor(ctx.viewer), "console_admin", None, staff=len(staff))
    return ctx.page("admin.html", age=age, stalled=age is None or age >= reminders.STALLED_AFTER.total_seconds(),
                    outbox=[(k, outbox.get(k, 0)) for k in OUTBOX_STATUSES], channels=channels,
                    running_here=state.reminders.ticking, staff=staff, live=live, communes=communes,
                    counts=counts, officers=officers, names=names, relay=relay, within=within)


@view(roles=("admin",))
def admin_commune(ctx: Ctx) -> Response:
    people.add_commune(ctx.s, ctx.form.get("name", "")[:200], queries.actor(ctx.viewer))
    return RedirectResponse("/staff/admin#communes", status_code=303)


def _staff_member(ctx: Ctx, pid: str) -> Person:
    p = ctx.s.get(Person, pid) if len(pid) == 32 else None
    if p is None or p.erased_at is not None or p.role not in auth.STAFF_ROLES:
        raise NotFound(N_("not found"))
    return p


@view(roles=("admin",))
def admin_duty(ctx: Ctx, pid: str) -> Response:
    p = _staff_member(ctx, pid)
    people.set_on_duty(ctx.s, p.id, ctx.form.get("on") == "1", queries.actor(ctx.viewer))
    return RedirectResponse("/staff/admin#staff", status_code=303)


@view(roles=("admin",))
def admin_revoke(ctx: Ctx, pid: str) -> Response:
    p = _staff_member(ctx, pid)
    auth.revoke_sessions(ctx.s, p.id, queries.actor(ctx.viewer))
    return RedirectResponse("/staff/admin#staff", status_code=303)


# --- static ----------------------------------------------------------------------------------------

_CSS = (STATIC / "console.css").read_bytes()


async def stylesheet(request: Request) -> Response:
    return Response(_CSS, media_type="text/css", headers={"Cache-Control": "public, max-age=3600"})


P = "{pid:str}"
routes = [
    Route("/staff", home, methods=["GET"]),
    Route("/staff/", home, methods=["GET"]),
    Route("/staff/static/console.css", stylesheet, methods=["GET"]),
    Route("/staff/login", login, methods=["GET"]),
    Route("/staff/login", login_post, methods=["POST"]),
    Route("/staff/login/code", code_page, methods=["GET"]),
    Route("/staff/login/code", code_post, methods=["POST"]),
    Route("/staff/login/link", link_page, methods=["GET"]),
    Route("/staff/login/link", link_post, methods=["POST"]),
    Route("/staff/logout", logout, methods=["POST"]),
    Route("/staff/caseload", caseload, methods=["GET"]),
    Route(f"/staff/people/{P}", person_page, methods=["GET"]),
    Route(f"/staff/people/{P}/schedule", person_schedule, methods=["POST"]),
    Route(f"/staff/people/{P}/status", person_status, methods=["POST"]),
    Route(f"/staff/people/{P}/mentor", person_mentor, methods=["POST"]),
    Route(f"/staff/people/{P}/code", person_code, methods=["POST"]),
    Route(f"/staff/people/{P}/conversation", person_conversation, methods=["POST"]),
    Route(f"/staff/people/{P}/export", person_export, methods=["GET"]),
    Route(f"/staff/people/{P}/erase", person_erase_page, methods=["GET"]),
    Route(f"/staff/people/{P}/erase", person_erase, methods=["POST"]),
    Route("/staff/alerts", alerts_page, methods=["GET"]),
    Route("/staff/alerts/{aid:str}", alert_act, methods=["POST"]),
    Route("/staff/enroll", enroll_page, methods=["GET"]),
    Route("/staff/enroll", enroll_post, methods=["POST"]),
    Route("/staff/charts", charts_page, methods=["GET"]),
    Route("/staff/admin", admin_page, methods=["GET"]),
    Route("/staff/admin/communes", admin_commune, methods=["POST"]),
    Route(f"/staff/admin/staff/{P}/duty", admin_duty, methods=["POST"]),
    Route(f"/staff/admin/staff/{P}/revoke", admin_revoke, methods=["POST"]),
]
