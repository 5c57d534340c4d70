"""Talk to the Rasa server(s) over HTTP (REST channel and status API); read the
tracker store only to learn whether a turn lost with its replica was applied."""

from __future__ import annotations

import json
import logging
import uuid
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import anyio
import httpx
from sqlalchemy import Engine, text

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

    def __init__(self, reason: str, retryable: bool = False, maybe_applied: bool = False) -> None:
        super().__init__(reason)
        # The request did not reach a working replica (refused, reset, 502–504):
        # another replica may take it. Not after a timeout: Rasa may still be on it.
        self.retryable = retryable
        # The connection broke after the request was sent: the replica may have
        # saved the turn before it died.
        self.maybe_applied = maybe_applied


BOT_PARTS = ("buttons", "image", "custom", "attachment", "elements", "quick_replies")


def applied_turn(trackers: Engine, sender_id: str, turn: str) -> list[dict[str, Any]] | None:
    """If the conversation's last user message in the tracker store is the turn
    ``turn``, the bot messages saved after it, as Rasa's REST channel gives them;
    else None (the turn was not applied: send it to another replica)."""
    with trackers.connect() as conn:
        rows = conn.execute(
            text("SELECT type_name, data FROM events WHERE sender_id = :s AND id >= "
                 "(SELECT max(id) FROM events WHERE sender_id = :s AND type_name = 'user') ORDER BY id"),
            {"s": sender_id},
        ).all()
    if not rows:
        return None
    user = json.loads(rows[0].data)
    if (user.get("metadata") or {}).get("turn") != turn:
        return None
    out: list[dict[str, Any]] = []
    for row in rows[1:]:
        if row.type_name != "bot":
            continue
        event = json.loads(row.data)
        item: dict[str, Any] = {"recipient_id": sender_id}
        if event.get("text"):
            item["text"] = event["text"]
        for part in BOT_PARTS:
            if (event.get("data") or {}).get(part):
                item[part] = event["data"][part]
        out.append(item)
    return out


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
    """One or several Rasa replicas (``base_url`` may be a comma-separated list).

    Each conversation has a home replica (a stable hash of its id), so that with
    the in-memory or file lock store its turns always meet the same lock. When
    the home replica does not take the request (connection refused or reset,
    502/503/504), the turn goes to the next replica: with several replicas the
    deployment must use the Redis lock store and a shared tracker store
    (README "Growing past one machine"), so any replica may answer any turn.
    """

    # Set by the app: the tracker store's engine, to learn whether a turn whose
    # replica died mid-request was applied (then its replies are read back
    # instead of sending the message again to another replica).
    trackers: Callable[[], Engine] | None = None

    def __init__(self, base_url: str | list[str] | tuple[str, ...], timeout_s: float = 30.0, token: str = "") -> None:
        urls = base_url.split(",") if isinstance(base_url, str) else list(base_url)
        self.urls = [u.strip().rstrip("/") for u in urls if u.strip()]
        if not self.urls:
            raise ValueError("no Rasa URL")
        self._token = token
        self._http = httpx.AsyncClient(
            timeout=httpx.Timeout(timeout_s, connect=2.0),
            limits=httpx.Limits(max_connections=100 * len(self.urls), max_keepalive_connections=20 * len(self.urls)),
        )

    async def aclose(self) -> None:
        await self._http.aclose()

    def _order(self, sender_id: str) -> list[str]:
        if len(self.urls) == 1:
            return self.urls
        home = zlib.crc32(sender_id.encode("utf-8")) % len(self.urls)
        return self.urls[home:] + self.urls[:home]

    async def send(self, sender_id: str, text: str, metadata: dict[str, Any]) -> list[Reply]:
        return parse_rest_output(await self.send_raw(sender_id, text, metadata))

    async def send_raw(self, sender_id: str, text: str, metadata: dict[str, Any]) -> Any:
        """One turn; Rasa's REST output as it came (custom messages included)."""
        unavailable: RasaUnavailable | None = None
        if len(self.urls) > 1:
            metadata = {**metadata, "turn": uuid.uuid4().hex}  # kept with the user event in the tracker
        for url in self._order(sender_id):
            try:
                return await self._send_one(url, sender_id, text, metadata)
            except RasaUnavailable as exc:
                unavailable = exc
                if exc.retryable and len(self.urls) > 1:
                    if exc.maybe_applied and self.trackers is not None:
                        applied = await anyio.to_thread.run_sync(applied_turn, self.trackers(), sender_id,
                                                                 metadata["turn"])
                        if applied is not None:
                            log.warning("rasa replica lost after applying the turn (%s): replies read back", exc)
                            return applied
                    log.warning("rasa replica unavailable (%s): trying the next", exc)
                    continue
                raise
        assert unavailable is not None
        raise unavailable

    async def _send_one(self, url: str, sender_id: str, text: str, metadata: dict[str, Any]) -> Any:
        try:
            resp = await self._http.post(
                f"{url}/webhooks/rest/webhook",
                json={"sender": sender_id, "message": text, "metadata": metadata},
            )
        except (httpx.ConnectError, httpx.ConnectTimeout) as exc:
            raise RasaUnavailable(type(exc).__name__, retryable=True) from exc
        except (httpx.RemoteProtocolError, httpx.ReadError) as exc:  # sent; Rasa may have applied it
            raise RasaUnavailable(type(exc).__name__, retryable=True, maybe_applied=True) from exc
        except httpx.TimeoutException as exc:
            raise RasaUnavailable("timeout") from exc
        if resp.status_code in (502, 503, 504):
            raise RasaUnavailable(f"HTTP {resp.status_code}", retryable=True)
        if resp.status_code != 200:
            raise RasaError(f"HTTP {resp.status_code}")
        try:
            return resp.json()
        except ValueError as exc:
            raise RasaError("invalid JSON from Rasa") from exc

    async def status(self) -> dict[str, Any]:
        """Rasa's /status: ready when a model is loaded (on at least one replica)."""
        results = [await self._status_one(url) for url in self.urls]
        ok = [r for r in results if r["ok"]]
        out = dict(ok[0] if ok else results[0])
        if len(self.urls) > 1:
            out["replicas_ready"] = f"{len(ok)}/{len(self.urls)}"
        return out

    async def _status_one(self, url: str) -> dict[str, Any]:
        try:
            params = {"token": self._token} if self._token else None
            resp = await self._http.get(f"{url}/status", params=params, timeout=2.0)
        except httpx.HTTPError as exc:
            return {"ok": False, "error": type(exc).__name__}
        if resp.status_code != 200:
            return {"ok": False, "error": f"HTTP {resp.status_code}"}
        body = resp.json()
        model = body.get("model_file")
        return {"ok": bool(model), "model": model}
