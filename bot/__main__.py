"""``python -m bot <command>``: the product's command line.

  run         start everything (Rasa, action server, gateway) and supervise it
  gateway     only the gateway ASGI app (for running several replicas)
  train       train the Rasa model if its inputs changed (--force: always)
  db upgrade  apply database migrations
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import sys

from bot.config import load_settings


def _logging(level: str) -> None:
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # httpx logs every request URL at INFO, including Rasa's auth token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start and supervise Rasa, the action server and the gateway")
    run.add_argument("--port", type=int, help="gateway port (default LOIVE_PORT or 8000)")
    sub.add_parser("gateway", help="run only the gateway (uvicorn)")
    train = sub.add_parser("train", help="train the Rasa model if missing or stale")
    train.add_argument("--force", action="store_true", help="retrain even if nothing changed")
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade"])
    args = parser.parse_args(argv)

    settings = load_settings()
    _logging(settings.log_level)

    if args.command == "run":
        from bot.supervisor import Supervisor

        if args.port:
            settings = dataclasses.replace(settings, port=args.port)
        return asyncio.run(Supervisor(settings).run())

    if args.command == "gateway":
        import uvicorn

        from bot.gateway.app import create_app

        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level.lower(),
            access_log=False,  # the core logs each turn without message bodies
            timeout_graceful_shutdown=5,
        )
        return 0

    if args.command == "train":
        from bot.rasa_env import ensure_model

        print(ensure_model(settings, force=args.force))
        return 0

    if args.command == "db":
        from bot.storage.db import make_engine
        from bot.storage.migrate import upgrade

        upgrade(make_engine(settings.effective_database_url))
        print("database is at the latest migration")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
