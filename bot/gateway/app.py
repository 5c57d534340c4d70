"""The gateway ASGI app: ``uvicorn --factory bot.gateway.app:create_app``.

On start it migrates the database (Alembic), then serves every channel's
routes. ``GET /healthz`` reports readiness of Rasa, the action server and the
database (200 when all are ready, 503 otherwise).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

import anyio
import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from bot.channels import web
from bot.config import Settings, load_settings
from bot.gateway.core import Core
from bot.gateway.rasa_client import RasaClient
from bot.i18n import translations
from bot.storage.db import make_engine, make_sessionmaker, ping
from bot.storage.migrate import upgrade

log = logging.getLogger(__name__)


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


async def healthz(request: Request) -> JSONResponse:
    state = request.app.state
    rasa, actions, database = await asyncio.gather(
        state.rasa.status(),
        _check_actions(state.http, state.settings.actions_url),
        _check_database(request),
    )
    checks = {"rasa": rasa, "actions": actions, "database": database}
    ready = all(c["ok"] for c in checks.values())
    return JSONResponse(
        {"status": "ready" if ready else "not ready", "checks": checks},
        status_code=200 if ready else 503,
    )


async def not_found(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": "not found"}, status_code=404)


async def method_not_allowed(request: Request, exc: Exception) -> JSONResponse:
    return JSONResponse({"error": "method not allowed"}, status_code=405)


async def server_error(request: Request, exc: Exception) -> JSONResponse:
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return JSONResponse({"error": "internal error"}, status_code=500)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or load_settings()

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
        app.state.core = Core(make_sessionmaker(engine), rasa)
        try:
            yield
        finally:
            await rasa.aclose()
            await http.aclose()
            engine.dispose()

    return Starlette(
        routes=[Route("/healthz", healthz, methods=["GET"]), *web.routes],
        lifespan=lifespan,
        exception_handlers={404: not_found, 405: method_not_allowed, 500: server_error},
    )
