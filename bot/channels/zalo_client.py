"""Thin async clients for Zalo's two bot APIs (see shared knowledge, channels §2).

* ``ZaloOAClient``: Official Account API v3 (consultation messages), OAuth v4
  (token refresh) and ZNS (template messages). Every call sends the header
  ``access_token`` (token calls: ``secret_key``); success means HTTP 200 **and**
  ``"error": 0``: Zalo reports most errors as HTTP 200 with a negative code.
* ``ZaloBotClient``: Zalo Bot Platform, ``POST {base}/bot<TOKEN>/<method>``;
  answers ``{"ok", "result", "description", "error_code"}``.

Every base URL comes from the settings (the tests point them at local fakes).
Errors are typed: ``ZaloError`` (``code`` is Zalo's error code, or the HTTP
status, or 0 for a network failure), with ``ZaloAuthError`` (token rejected:
OA -216 or HTTP 401) and ``ZaloRateLimited`` (OA -32, HTTP 429) as subclasses.
Tokens travel in headers (OA) or in the URL path (Zalo Bot); they never appear
in an error message, and httpx's request logging stays at WARNING.

One ``httpx.AsyncClient`` per event loop, made on first use (a client belongs
to the loop it was made in).
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import httpx

DEFAULT_TIMEOUT_S = 10.0
# Zalo OA error codes (zalo_sdk ZaloOAException, chatwoot; channels §2.1.6).
TOKEN_INVALID = -216
RATE_LIMITED = -32
NOT_FOLLOWING = -213
NO_INTERACTION_7_DAYS = -230
AFTER_48_HOURS = -305
REPLY_QUOTA_USED = -311
WINDOW_CLOSED = (NO_INTERACTION_7_DAYS, AFTER_48_HOURS, REPLY_QUOTA_USED)


class ZaloError(Exception):
    def __init__(self, code: int, message: str = "") -> None:
        super().__init__(f"zalo error {code}: {message[:200]}" if message else f"zalo error {code}")
        self.code = code
        self.description = message[:200]


class ZaloAuthError(ZaloError):
    """The token was refused (OA -216 / HTTP 401; Zalo Bot 401)."""


class ZaloRateLimited(ZaloError):
    """Slow down (OA -32, HTTP 429; Zalo Bot 429 "quota exceeded")."""


class ZaloNetworkError(ZaloError):
    """No answer: connection refused, timeout, broken response."""

    def __init__(self, exc: Exception) -> None:
        super().__init__(0, type(exc).__name__)


class _Http:
    def __init__(self, timeout_s: float) -> None:
        self._timeout = httpx.Timeout(timeout_s, connect=min(5.0, timeout_s))
        self._client: httpx.AsyncClient | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def http(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        if self._client is None or self._loop is not loop:
            self._client = httpx.AsyncClient(timeout=self._timeout,
                                             limits=httpx.Limits(max_connections=50, max_keepalive_connections=10))
            self._loop = loop
        return self._client

    async def _post(self, url: str, **kwargs: Any) -> httpx.Response:
        try:
            return await self.http().post(url, **kwargs)
        except httpx.HTTPError as exc:  # the message may hold the URL (Zalo Bot: the token): drop it
            raise ZaloNetworkError(exc) from None

    async def aclose(self) -> None:
        if self._client is not None and self._loop is asyncio.get_running_loop():
            await self._client.aclose()
        self._client = None


def _json(resp: httpx.Response) -> dict[str, Any]:
    try:
        data = resp.json()
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise ZaloError(resp.status_code if resp.status_code != 200 else -1, "response is not JSON") from None
    if not isinstance(data, dict):
        raise ZaloError(-1, "response is not a JSON object")
    return data


# --- Official Account -------------------------------------------------------------


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str
    expires_in: int  # seconds


def _oa_result(resp: httpx.Response) -> dict[str, Any]:
    if resp.status_code == 429:
        raise ZaloRateLimited(429, "HTTP 429")
    if resp.status_code == 401:
        raise ZaloAuthError(401, "HTTP 401")
    if resp.status_code != 200:
        raise ZaloError(resp.status_code, f"HTTP {resp.status_code}")
    data = _json(resp)
    try:
        code = int(data.get("error", 0))
    except (TypeError, ValueError):
        raise ZaloError(-1, "unexpected error field") from None
    if code == 0:
        return data
    message = str(data.get("message") or data.get("error_description") or data.get("error_name") or "")
    if code == TOKEN_INVALID:
        raise ZaloAuthError(code, message)
    if code == RATE_LIMITED:
        raise ZaloRateLimited(code, message)
    raise ZaloError(code, message)


class ZaloOAClient(_Http):
    def __init__(self, *, api_base: str, oauth_base: str, zns_base: str, app_id: str, app_secret_key: str,
                 timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        super().__init__(timeout_s)
        self.api_base = api_base.rstrip("/")
        self.oauth_base = oauth_base.rstrip("/")
        self.zns_base = zns_base.rstrip("/")
        self.app_id = app_id
        self._app_secret_key = app_secret_key

    async def send_cs(self, access_token: str, user_id: str, message: dict[str, Any]) -> dict[str, Any]:
        """A consultation ("tư vấn") message: ``message`` is ``{"text": …}`` or
        ``{"text": …, "attachment": {…}}``. Returns Zalo's ``data``."""
        resp = await self._post(f"{self.api_base}/v3.0/oa/message/cs", headers={"access_token": access_token},
                                json={"recipient": {"user_id": user_id}, "message": message})
        return _oa_result(resp).get("data") or {}

    async def refresh(self, refresh_token: str) -> TokenPair:
        """OAuth v4 refresh. The refresh token is single use: the caller must
        store the returned pair before anything else can fail."""
        resp = await self._post(f"{self.oauth_base}/v4/oa/access_token",
                                headers={"secret_key": self._app_secret_key},
                                data={"refresh_token": refresh_token, "app_id": self.app_id,
                                      "grant_type": "refresh_token"})
        if resp.status_code != 200:
            raise ZaloAuthError(resp.status_code, f"token refresh: HTTP {resp.status_code}")
        data = _json(resp)
        access, refresh = data.get("access_token"), data.get("refresh_token")
        if not (isinstance(access, str) and access and isinstance(refresh, str) and refresh):
            try:
                code = int(data.get("error") or -1)
            except (TypeError, ValueError):
                code = -1
            raise ZaloAuthError(code, "token refresh: " + str(data.get("error_name") or data.get("message") or
                                                              "no tokens in the answer"))
        try:
            expires_in = int(data.get("expires_in") or 90000)  # 25 h when missing (channels §2.1.2)
        except (TypeError, ValueError):
            expires_in = 90000
        return TokenPair(access, refresh, expires_in)

    async def send_zns(self, access_token: str, phone: str, template_id: str, template_data: dict[str, str],
                       tracking_id: str) -> dict[str, Any]:
        """A ZNS template message. ZNS addresses a phone number ("84…"); Lối Về
        keeps none, so the OA sender does not use this (see zalo_oa)."""
        resp = await self._post(f"{self.zns_base}/message/template", headers={"access_token": access_token},
                                json={"phone": phone, "template_id": template_id, "template_data": template_data,
                                      "tracking_id": tracking_id})
        return _oa_result(resp).get("data") or {}


# --- Zalo Bot Platform ------------------------------------------------------------


class ZaloBotClient(_Http):
    def __init__(self, token: str, api_base: str, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        super().__init__(timeout_s)
        self._url = f"{api_base.rstrip('/')}/bot{token}"

    async def call(self, method: str, **params: Any) -> Any:
        resp = await self._post(f"{self._url}/{method}", json=params)
        try:
            data = _json(resp)
        except ZaloError:
            data = {}
        ok = resp.status_code == 200 and data.get("ok") is True
        if ok:
            return data.get("result")
        try:
            code = int(data.get("error_code") or resp.status_code)
        except (TypeError, ValueError):
            code = resp.status_code
        description = str(data.get("description") or f"HTTP {resp.status_code}")
        if code == 429 or resp.status_code == 429:
            raise ZaloRateLimited(429, description)
        if code == 401 or resp.status_code == 401:
            raise ZaloAuthError(401, description)
        raise ZaloError(code, description)

    async def send_message(self, chat_id: str, text: str) -> Any:
        return await self.call("sendMessage", chat_id=chat_id, text=text)

    async def set_webhook(self, url: str, secret_token: str) -> Any:
        return await self.call("setWebhook", url=url, secret_token=secret_token)

    async def delete_webhook(self) -> Any:
        return await self.call("deleteWebhook")

    async def get_webhook_info(self) -> Any:
        return await self.call("getWebhookInfo")
