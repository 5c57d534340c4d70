"""The gateway ASGI app: ``uvicorn --factory bot.app:create_app``.

On start it migrates the database (Alembic), then serves every channel's
routes. ``GET /healthz`` reports readiness of Rasa, the action server and the
database (200 when all are ready, 503 otherwise).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import AsyncIterator
from pathlib import Path

import anyio
import httpx
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from bot.supervision import reminders
from bot.channels import telegram, web, web_inbox, zalo_bot, zalo_oa
from bot.console import routes as console
from bot.config import Settings, load_settings
from bot.conversation.core import Core
from bot.conversation.rasa_client import RasaClient
from bot.i18n import translations
from bot.runtime.rasa_env import tracker_store_config
from bot.delivery.scheduler import ReminderService
from bot.storage.db import make_engine, make_sessionmaker, ping
from bot.storage.migrate import upgrade
from vietnamese.clock import utcnow

log = logging.getLogger(__name__)

# Each returns a ChannelRuntime when its settings are present, else None.
CHANNEL_SETUPS = [telegram.setup, zalo_oa.setup, zalo_bot.setup]


async def _check_actions(http: httpx.AsyncClient, url: str) -> dict[str, object]:
    try:
        resp = await http.get(f"{url}/health", timeout=2.0)
    except httpx.HTTPError as exc:
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": resp.status_code == 200}


async def _check_database(request: Request) -> dict[str, object]:
    try:
        await anyio.to_thread.run_sync(ping, request.app.state.engine)
    except Exception as exc:  # any driver error means "not ready"
        return {"ok": False, "error": type(exc).__name__}
    return {"ok": True, "dialect": request.app.state.engine.dialect.name}


def _scheduler_age(sessions: sessionmaker[Session]) -> float | None:
    with sessions() as s:
        at = reminders.last_beat(s)
    return None if at is None else (utcnow() - at).total_seconds()


async def _check_scheduler(request: Request) -> dict[str, object]:
    age = await anyio.to_thread.run_sync(_scheduler_age, request.app.state.sessions)
    return {"ok": age is not None and age < reminders.STALLED_AFTER.total_seconds(),
            "last_tick_age_s": None if age is None else round(age, 1),
            "running_here": request.app.state.reminders.ticking}


def _children(settings: Settings) -> dict[str, object] | None:
    """What the run command's supervisor reports about its children (restarts,
    last exit, ``restarting`` while one waits out its back-off); None when the
    gateway runs on its own."""
    try:
        status = json.loads((settings.var_dir / "children.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return status.get("children") if isinstance(status, dict) else None


async def healthz(request: Request) -> JSONResponse:
    state = request.app.state
    rasa, actions, database = await asyncio.gather(
        state.rasa.status(),
        _check_actions(state.http, state.settings.actions_url),
        _check_database(request),
    )
    checks = {"rasa": rasa, "actions": actions, "database": database}
    ready = all(c["ok"] for c in checks.values())
    # Reported, not part of readiness: a stalled scheduler must not take the chat down.
    scheduler = await _check_scheduler(request) if database["ok"] else {"ok": False}
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks, "scheduler": scheduler,
         "channels": [*(["web"] if state.settings.web_chat else []), *sorted(request.app.state.channels)],
         "children": _children(state.settings)},
        status_code=200 if ready else 503,
    )


async def webhook(request: Request) -> Response:
    """``POST /webhooks/{telegram,zalo-oa,zalo-bot}``: 404 unless configured; the
    channel verifies the request (403 and nothing processed when it fails)."""
    runtime = request.app.state.channels.get(request.path_params["name"])
    if runtime is None or runtime.webhook is None:
        return JSONResponse({"error": "channel not configured"}, status_code=404)
    return await runtime.webhook(request)


async def not_found(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": "not found"}, status_code=404)


async def method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": "method not allowed"}, status_code=405)


async def client_gone(request: Request, exc: Exception) -> Response:
    """The client went away (or was cut off: bot.runtime.http deadlines) while
    its body was read: nobody is left to answer."""
    return Response(status_code=400)


async def server_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"error": "internal error"}, status_code=500)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or load_settings()
    settings.check_exposure()

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        for locale in ("vi", "en"):
            translations(locale)  # fail at start, not on the first message
        engine = make_engine(settings.effective_database_url)
        await anyio.to_thread.run_sync(upgrade, engine)
        rasa = RasaClient(settings.rasa_url, settings.rasa_timeout_s, settings.rasa_token)
        http = httpx.AsyncClient()
        app.state.settings = settings
        app.state.engine = engine
        app.state.rasa = rasa
        app.state.http = http
        sessions = make_sessionmaker(engine)
        core = Core(sessions, rasa, settings)
        rasa.trackers = core.trackers  # a replica lost mid-turn: was the turn applied? (rasa_client)
        app.state.sessions = sessions
        app.state.core = core

        def wake() -> None:
            app.state.reminders.dispatcher.wake()

        app.state.console_wake = wake   # a staff sign-in code goes out at once
        runtimes = [rt for setup in CHANNEL_SETUPS if (rt := setup(settings, core, wake)) is not None]
        app.state.channels = {rt.route: rt for rt in runtimes}
        # Web-chat identities get reminders and alerts only while the web chat is on.
        senders = {**({web_inbox.CHANNEL: web_inbox.WebInboxSender(sessions)} if settings.web_chat else {}),
                   **{rt.sender.channel: rt.sender for rt in runtimes}}
        def trackers() -> Engine | None:  # for the retention purge; a SQLite file only once Rasa made it
            cfg = tracker_store_config(settings)
            return None if cfg["dialect"] == "sqlite" and not Path(cfg["db"]).exists() else core.trackers()

        app.state.reminders = ReminderService(sessions, senders, settings, trackers=trackers)
        for rt in runtimes:
            if rt.start is not None:
                await rt.start()
        await app.state.reminders.start(tick=settings.scheduler)
        log.info("channels on: %s", ", ".join([*(["web"] if settings.web_chat else []),
                                               *(f"{rt.route} ({rt.mode})" for rt in runtimes)]) or "none")
        try:
            yield
        finally:
            for rt in runtimes:
                if rt.stop is not None:
                    await rt.stop()
            await app.state.reminders.stop()
            for sender in senders.values():
                await sender.aclose()
            await rasa.aclose()
            await http.aclose()
            engine.dispose()

    return Starlette(
        routes=[Route("/healthz", healthz, methods=["GET"]), *(web.routes if settings.web_chat else []),
                Route("/webhooks/{name}", webhook, methods=["POST"]), *console.routes],
        lifespan=lifespan,
        exception_handlers={404: not_found, 405: method_not_allowed, ClientDisconnect: client_gone,
                            500: server_error},
    )


async def run_dispatcher(settings: Settings) -> int:
    """``python -m bot dispatcher``: the gateway's background work without its
    HTTP server (scheduler tick and outbox dispatcher), until SIGINT/SIGTERM."""
    import signal

    app = create_app(settings)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    async with app.router.lifespan_context(app):
        await stop.wait()
    return 0
