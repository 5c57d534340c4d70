"""How the gateway is served: uvicorn's h11 protocol with request deadlines.

uvicorn bounds only the idle time between requests (keep-alive); a client that
sends its headers or its body a byte at a time holds a connection and a task
forever. Here a request's headers must arrive within HEADER_TIMEOUT_S of its
first byte (or of the connection), and its body within BODY_TIMEOUT_S of the
headers; otherwise the connection is closed (the app, if it was reading the
body, sees the client disconnect)."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol

log = logging.getLogger(__name__)

HEADER_TIMEOUT_S = 10.0
BODY_TIMEOUT_S = 30.0
KEEP_ALIVE_S = 5
MAX_HEADER_BYTES = 16 * 1024
# More open connections than this get 503 at once (file descriptors are finite).
MAX_CONCURRENCY = 500


class DeadlineH11Protocol(H11Protocol):
    header_timeout_s = HEADER_TIMEOUT_S
    body_timeout_s = BODY_TIMEOUT_S

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._phase: str | None = None
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._follow()

    def data_received(self, data: bytes) -> None:
        self._follow()  # a new request starts: its header deadline runs from here
        super().data_received(data)
        self._follow()

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel()
        super().connection_lost(exc)

    def _cancel(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _follow(self) -> None:
        """Arm the deadline of the phase the client is in (headers, body), or none."""
        state = self.conn.their_state
        phase = "headers" if state is h11.IDLE else "body" if state is h11.SEND_BODY else None
        if phase == self._phase:
            return
        self._cancel()
        self._phase = phase
        if phase is not None:
            timeout = self.header_timeout_s if phase == "headers" else self.body_timeout_s
            self._deadline = self.loop.call_later(timeout, self._expired, phase)

    def _expired(self, phase: str) -> None:
        self._deadline = None
        if self._phase == phase and not self.transport.is_closing():
            log.info("closing a connection: request %s not received in time", phase)
            self.transport.close()


def uvicorn_options() -> dict[str, Any]:
    return {"http": DeadlineH11Protocol, "timeout_keep_alive": KEEP_ALIVE_S,
            "h11_max_incomplete_event_size": MAX_HEADER_BYTES, "limit_concurrency": MAX_CONCURRENCY}
