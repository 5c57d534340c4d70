"""What every channel's sender offers the outbox dispatcher.

A message the product sends first (a reminder, an alert) is an ``Outgoing``
carrying the outbox row's key. Senders raise ``RetryLater`` (rate limited:
429 with ``retry_after``), ``Unreachable`` (the user blocked the bot or never
started it: retrying cannot help) or any other exception (a transient failure,
retried with back-off).

``delivered(key)`` answers the question a crash leaves open: did a message whose
send started actually arrive? Channels that can tell (the web inbox is our own
table) answer True/False, so the dispatcher neither loses nor repeats it;
platforms that cannot tell answer None and the message is sent again (a
repeated reminder is the lesser harm than a missing one).
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field

from bot.i18n import N_
from bot.outbox import Button

# What a chat platform's non-text message (sticker, photo, voice) gets back.
ONLY_TEXT = N_("I can read text messages only. Please type your question.")


@dataclass(frozen=True)
class Outgoing:
    key: str              # the outbox row's idempotency key
    identity_id: str      # our opaque conversation id
    external_id: str      # the platform's user id (never logged)
    text: str
    buttons: tuple[Button, ...] = field(default_factory=tuple)
    locale: str = "vi"
    kind: str = ""        # the outbox row's kind ("reply", "checkin_open", ...): Zalo OA's window rules differ


class RetryLater(Exception):
    def __init__(self, retry_after: float, message: str = "rate limited") -> None:
        super().__init__(message)
        self.retry_after = retry_after


class Unreachable(Exception):
    """The platform will not deliver to this user until they write again."""


@dataclass(frozen=True)
class RateLimit:
    per_second: float          # whole channel, this process
    per_chat_interval_s: float  # minimum gap between two messages to one chat


class Sender(abc.ABC):
    channel: str
    rate_limit: RateLimit

    @abc.abstractmethod
    async def send(self, msg: Outgoing) -> None: ...

    async def delivered(self, key: str) -> bool | None:
        """True/False if the platform can tell whether ``key`` arrived, else None."""
        return None

    async def aclose(self) -> None:
        return None
