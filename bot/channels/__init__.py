"""Channels: each turns its platform's messages into ``bot.conversation.core.Inbound``
and renders replies in its own way.

A configured channel is a ``ChannelRuntime``: its webhook handler (mounted at
the fixed route ``POST /webhooks/<route>``), its ``Sender`` for the outbox
dispatcher, and optional start/stop hooks (polling loops, HTTP clients).
A channel that is not configured is absent, and its webhook answers 404.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from starlette.requests import Request
from starlette.responses import Response

from bot.channels.base import Sender


@dataclass
class ChannelRuntime:
    channel: str                                # the one id in code and data: "telegram", "zalo_oa", "zalo_bot"
    sender: Sender
    webhook: Callable[[Request], Awaitable[Response]] | None = None
    start: Callable[[], Awaitable[None]] | None = None
    stop: Callable[[], Awaitable[None]] | None = None
    mode: str = "webhook"                       # what the run command reports: webhook | polling

    @property
    def route(self) -> str:
        """The fixed public name of its webhook, ``POST /webhooks/<route>``
        (``zalo-oa``, ``zalo-bot``: URLs registered on the platforms keep their dash)."""
        return self.channel.replace("_", "-")
