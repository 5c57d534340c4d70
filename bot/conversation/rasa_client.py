"""Talk to the Rasa server over HTTP (REST channel and status API) only."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import httpx

from bot.outbox import Button  # what a reply carries is what the outbox carries

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Reply:
    text: str
    buttons: tuple[Button, ...] = field(default_factory=tuple)

    def as_dict(self) -> dict[str, Any]:
        return {
            "text": self.text,
            "buttons": [{"title": b.title, "payload": b.payload} for b in self.buttons],
        }


class RasaUnavailable(Exception):
    """Rasa is not (yet) answering: starting, restarting or down."""


class RasaError(Exception):
    """Rasa answered, but not with a usable reply."""


def parse_rest_output(items: Any) -> list[Reply]:
    """Rasa REST channel output → replies. Unknown parts (images, custom) are skipped."""
    if not isinstance(items, list):
        raise RasaError("unexpected Rasa output (not a list)")
    replies: list[Reply] = []
    for item in items:
        if not isinstance(item, dict):
            continue
        text = item.get("text") if isinstance(item.get("text"), str) else ""
        buttons = tuple(
            Button(title=str(b["title"]), payload=str(b["payload"]))
            for b in item.get("buttons") or []
            if isinstance(b, dict) and b.get("title") and b.get("payload")
        )
        if text or buttons:
            replies.append(Reply(text=text, buttons=buttons))
    return replies


class RasaClient:
    def __init__(self, base_url: str, timeout_s: float = 30.0, token: str = "") -> None:
        self._token = token
        self._http = httpx.AsyncClient(
            base_url=base_url,
            timeout=httpx.Timeout(timeout_s, connect=2.0),
            limits=httpx.Limits(max_connections=100, max_keepalive_connections=20),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    async def send(self, sender_id: str, text: str, metadata: dict[str, Any]) -> list[Reply]:
        return parse_rest_output(await self.send_raw(sender_id, text, metadata))

    async def send_raw(self, sender_id: str, text: str, metadata: dict[str, Any]) -> Any:
        """One turn; Rasa's REST output as it came (custom messages included)."""
        try:
            resp = await self._http.post(
                "/webhooks/rest/webhook",
                json={"sender": sender_id, "message": text, "metadata": metadata},
            )
        except (httpx.ConnectError, httpx.ConnectTimeout, httpx.RemoteProtocolError) as exc:
            raise RasaUnavailable(type(exc).__name__) from exc
        except httpx.TimeoutException as exc:
            raise RasaUnavailable("timeout") from exc
        if resp.status_code in (502, 503, 504):
            raise RasaUnavailable(f"HTTP {resp.status_code}")
        if resp.status_code != 200:
            raise RasaError(f"HTTP {resp.status_code}")
        try:
            return resp.json()
        except ValueError as exc:
            raise RasaError("invalid JSON from Rasa") from exc

    async def status(self) -> dict[str, Any]:
        """Rasa's /status: ready when a model is loaded."""
        try:
            params = {"token": self._token} if self._token else None
            resp = await self._http.get("/status", params=params, timeout=2.0)
        except httpx.HTTPError as exc:
            return {"ok": False, "error": type(exc).__name__}
        if resp.status_code != 200:
            return {"ok": False, "error": f"HTTP {resp.status_code}"}
        body = resp.json()
        model = body.get("model_file")
        return {"ok": bool(model), "model": model}
