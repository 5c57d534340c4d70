"""One dispatcher process, for tests and benches that SIGKILL it mid-batch.

    python -m harness.fakes.dispatch_worker --db URL --channel fake --fake-url URL [--rate 30] ...

The real ``bot.delivery.dispatcher.Dispatcher`` (real claims, rendering, leases,
limiter) delivering to the local fake platform (``--channel fake``) or to the
web inbox (``--channel web``), on a pinned clock that moves with wall time
(``--clock-base``/``--t-ref``/``--offset-s``, see ``harness.fakes.population``).
Prints ``ready`` once set up (then, with ``--wait-go``, waits for a line on
stdin); on SIGTERM/SIGINT it finishes the current batch and prints one JSON
line: the dispatcher's counters and the keys it asked ``delivered()`` about.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import logging
import signal
import sys

from bot.channels.base import RateLimit
from bot.channels.web_inbox import WebInboxSender
from bot.delivery.dispatcher import Dispatcher
from bot.domain.knowledge import KnowledgeBase
from bot.storage.db import make_engine, make_sessionmaker
from harness.fakes.channel import FakeSender
from harness.fakes.population import TEST_NOW, WallClock


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--db", required=True)
    ap.add_argument("--channel", choices=("fake", "web"), default="fake")
    ap.add_argument("--fake-url", default="")
    ap.add_argument("--rate", type=float, default=30.0, help="this process's share of the channel's messages/s")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--clock-base", default=TEST_NOW.isoformat())
    ap.add_argument("--t-ref", type=float, default=None)
    ap.add_argument("--offset-s", type=float, default=0.0)
    ap.add_argument("--idle-s", type=float, default=1.0)
    ap.add_argument("--no-watchdog", action="store_true", help="do not check the scheduler heartbeat")
    ap.add_argument("--wait-go", action="store_true", help="after 'ready', wait for a line on stdin")
    ap.add_argument("--worker", default=None)
    args = ap.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)

    engine = make_engine(args.db)
    sessions = make_sessionmaker(engine)
    if args.channel == "fake":
        sender = FakeSender(args.fake_url, per_second=args.rate)
    else:
        sender = WebInboxSender(sessions)
        sender.rate_limit = RateLimit(per_second=args.rate, per_chat_interval_s=0.0)
    asked: list[str] = []
    ask = sender.delivered

    async def delivered(key: str) -> bool | None:
        asked.append(key)
        return await ask(key)

    sender.delivered = delivered  # type: ignore[method-assign]
    clock = WallClock(dt.datetime.fromisoformat(args.clock_base), args.t_ref, args.offset_s)
    dispatcher = Dispatcher(sessions, {sender.channel: sender}, KnowledgeBase.load(), worker=args.worker,
                            batch=args.batch, concurrency=args.concurrency, clock=clock)
    print("ready", flush=True)
    if args.wait_go:
        sys.stdin.readline()

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await dispatcher.run(stop, idle_s=args.idle_s, watchdog_every_s=1e12 if args.no_watchdog else 60.0)
        finally:
            await sender.aclose()

    asyncio.run(run())
    engine.dispose()
    print(json.dumps({"worker": dispatcher.worker, "stats": dict(dispatcher.stats), "asked": asked}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
