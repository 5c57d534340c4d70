"""``python -m bot <command>``: the product's command line.

  run         start everything (Rasa, action server, gateway) and supervise it
  gateway     only the gateway ASGI app (for running several replicas)
  rasa        only a Rasa server (a replica: LOIVE_RASA_TOKEN, tracker store, REDIS_URL)
  actions     only the action server
  dispatcher  only the scheduler tick and the outbox dispatcher (no HTTP)
  train       train the Rasa model if its inputs changed (--force: always)
  db upgrade  apply database migrations (db revision -m MSG: new migration)
  admin …     communes, people, enrollment codes, alerts, export, erase
              (python -m bot admin --help)
  telegram …  set-webhook | delete-webhook | info: Telegram's webhook
  zalo-bot …  set-webhook | delete-webhook | info: Zalo Bot's webhook
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import logging
import os
import sys

from bot.config import load_settings


def _logging(level: str) -> None:
    from bot.logsafe import install

    install()  # no message texts, values or ids in any record, ours or a library's
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    # httpx logs every request URL at INFO, including Rasa's auth token.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("httpcore").setLevel(logging.WARNING)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    os.umask(0o077)  # databases, var/ and everything the children write: the owner's only
    if argv[:1] == ["admin"]:
        from bot.admin import main as admin_main

        logging.basicConfig(level=logging.WARNING)
        return admin_main(argv[1:])
    parser = argparse.ArgumentParser(prog="python -m bot", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="start and supervise Rasa, the action server and the gateway")
    run.add_argument("--port", type=int, help="gateway port (default LOIVE_PORT or 8000)")
    sub.add_parser("gateway", help="run only the gateway (uvicorn)")
    sub.add_parser("rasa", help="run only a Rasa server (one replica)")
    sub.add_parser("actions", help="run only the action server")
    sub.add_parser("dispatcher", help="run only the scheduler tick and the outbox dispatcher")
    train = sub.add_parser("train", help="train the Rasa model if missing or stale")
    train.add_argument("--force", action="store_true", help="retrain even if nothing changed")
    db = sub.add_parser("db", help="database maintenance")
    db.add_argument("action", choices=["upgrade", "revision"])
    db.add_argument("-m", "--message", help="revision: what the new migration does")
    sub.add_parser("admin", help="administration (python -m bot admin --help)")
    tg = sub.add_parser("telegram", help="Telegram webhook: set it (with the secret), delete it, or show it")
    tg.add_argument("action", choices=["set-webhook", "delete-webhook", "info"])
    zb = sub.add_parser("zalo-bot", help="Zalo Bot webhook: set it (with the secret), delete it, or show it")
    zb.add_argument("action", choices=["set-webhook", "delete-webhook", "info"])
    args = parser.parse_args(argv)

    settings = load_settings()
    _logging(settings.log_level)

    if args.command in ("run", "gateway"):
        settings.check_exposure()  # a clear refusal before anything starts

    if args.command == "run":
        from bot.runtime.supervisor import Supervisor

        if args.port:
            settings = dataclasses.replace(settings, port=args.port)
        return asyncio.run(Supervisor(settings).run())

    if args.command in ("rasa", "actions"):
        from bot.runtime.supervisor import run_part

        return run_part(settings, args.command)

    if args.command == "dispatcher":
        from bot.app import run_dispatcher

        return asyncio.run(run_dispatcher(settings))

    if args.command == "gateway":
        import uvicorn

        from bot.app import create_app
        from bot.runtime.http import uvicorn_options

        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            log_level=settings.log_level.lower(),
            access_log=False,  # the core logs each turn without message bodies
            timeout_graceful_shutdown=5,
            **uvicorn_options(),  # header/body deadlines for slow clients
        )
        return 0

    if args.command == "telegram":
        from bot.channels.telegram import manage_webhook

        print(asyncio.run(manage_webhook(settings, args.action)))
        return 0

    if args.command == "zalo-bot":
        from bot.channels.zalo_bot import manage_webhook as manage_zalo_bot

        print(asyncio.run(manage_zalo_bot(settings, args.action)))
        return 0

    if args.command == "train":
        from bot.runtime.rasa_env import ensure_model

        print(ensure_model(settings, force=args.force))
        return 0

    if args.command == "db":
        from bot.storage.db import make_engine
        from bot.storage.migrate import revision, upgrade

        engine = make_engine(settings.effective_database_url)
        upgrade(engine)
        if args.action == "revision":
            if not args.message:
                parser.error("db revision needs -m MESSAGE")
            revision(engine, args.message)  # autogenerated from the models: review it
            return 0
        print("database is at the latest migration")
        return 0
    return 2


if __name__ == "__main__":
    sys.exit(main())
