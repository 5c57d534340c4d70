"""A Rasa lock store for several Rasa worker processes on one machine.

Runs in Rasa's environment (``.venv-rasa``); the endpoints file names it
(``lock_store: {type: bot.runtime.rasa_locks.FileLockStore, path: …}``) when
Rasa runs more than one Sanic worker without Redis (bot/runtime/rasa_env.py).

Rasa refuses more than one worker with its in-memory lock store, which only
serialises the turns of one conversation inside one process. This one
serialises them across the processes of one machine with ``flock(2)`` on one of
``stripes`` lock files chosen by a hash of the conversation id (two conversations
on one stripe just wait for each other; a lock held by a killed worker is released
by the kernel). Inside a process an ``asyncio.Lock`` per stripe comes first (flock
locks belong to the open file, which the process's coroutines share). Waiting
never blocks the event loop: a non-blocking attempt, then short sleeps.

Several machines need the Redis lock store (``REDIS_URL``) instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import os
from collections.abc import AsyncGenerator
from pathlib import Path
from typing import Any

from rasa.core.lock import TicketLock
from rasa.core.lock_store import LOCK_LIFETIME, LockError, LockStore

DEFAULT_STRIPES = 1024
POLL_S = (0.002, 0.005, 0.01, 0.02, 0.05)  # back-off while another process holds the stripe


class FileLockStore(LockStore):
    def __init__(self, endpoint_config: Any = None, path: str | None = None, stripes: int | None = None) -> None:
        kwargs = dict(getattr(endpoint_config, "kwargs", None) or {})
        self.path = Path(path or kwargs.get("path") or "var/rasa-locks")
        self.stripes = int(stripes or kwargs.get("stripes") or DEFAULT_STRIPES)
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        self._fds: dict[int, int] = {}
        self._local: dict[int, asyncio.Lock] = {}
        super().__init__()

    def _stripe(self, conversation_id: str) -> int:
        digest = hashlib.blake2b(conversation_id.encode("utf-8"), digest_size=8).digest()
        return int.from_bytes(digest, "big") % self.stripes

    def _fd(self, stripe: int) -> int:
        fd = self._fds.get(stripe)
        if fd is None:
            fd = os.open(self.path / f"{stripe:04d}.lock", os.O_RDWR | os.O_CREAT, 0o600)
            self._fds[stripe] = fd
        return fd

    @contextlib.asynccontextmanager
    async def lock(
        self,
        conversation_id: str,
        lock_lifetime: float = LOCK_LIFETIME,
        wait_time_in_seconds: float = 1,
    ) -> AsyncGenerator[TicketLock, None]:
        stripe = self._stripe(conversation_id)
        local = self._local.setdefault(stripe, asyncio.Lock())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + lock_lifetime
        async with local:
            fd = self._fd(stripe)
            attempt = 0
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if loop.time() > deadline:
                        raise LockError(f"Could not acquire lock for conversation '{conversation_id}'.")
                    await asyncio.sleep(POLL_S[min(attempt, len(POLL_S) - 1)])
                    attempt += 1
            try:
                yield TicketLock(conversation_id)
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    # The ticket interface of LockStore is not used by lock() above; keep it consistent anyway.
    def get_lock(self, conversation_id: str) -> TicketLock | None:
        return None

    def delete_lock(self, conversation_id: str) -> None:
        return None

    def save_lock(self, lock: TicketLock) -> None:
        return None
