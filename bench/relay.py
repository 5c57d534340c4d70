"""Delay per relayed message, through the running product and the fake platforms.

    .venv/bin/python bench/relay.py [--pairs 3] [--messages 10] [--transcript FILE]

Starts the fake Telegram Bot API (polling, as a mentor's chat would be) and
the fake Zalo Bot API (webhook), then the whole product (its own run command,
SQLite). Each pair is a supervisee on Zalo Bot and their mentor on Telegram
with an open relayed conversation (bot.supervision.conversations; the mentor's
quiet hours are off, so the real hour does not matter). Both sides write in
turn; one sample is the time from a message leaving one fake (the Zalo
webhook POST, the Telegram update being queued for getUpdates) to its arrival
at the other. Prints p50/p95 each way and counts duplicated or missing messages.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot.storage.db import make_engine, make_sessionmaker  # noqa: E402
from bot.storage.models import ChannelIdentity  # noqa: E402
from bot.supervision import conversations, people  # noqa: E402
from harness.fakes.telegram import FakeTelegram  # noqa: E402
from harness.fakes.zalo import FakeZaloBot, bot_update  # noqa: E402
from harness.helpers import serve, start_product  # noqa: E402
from vietnamese.clock import utcnow  # noqa: E402

ZB_TOKEN = "12345:bench-relay-token"
ZB_SECRET = "bench-relay-zalo-secret"


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def wait(predicate, timeout: float = 60.0) -> bool:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.02)
    return False


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--pairs", type=int, default=3)
    ap.add_argument("--messages", type=int, default=10, help="per side and pair")
    ap.add_argument("--transcript", type=Path, default=None)
    args = ap.parse_args()
    tg, zb = FakeTelegram(), FakeZaloBot(ZB_TOKEN)
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory()))
        tg_url = stack.enter_context(serve(tg.app()))
        zb_url = stack.enter_context(zb.serve())
        db = f"sqlite:///{tmp / 'bench.db'}"
        product = start_product(tmp, db, {"TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_BASE": f"{tg_url}/bot",
                                          "ZALO_BOT_TOKEN": ZB_TOKEN, "ZALO_BOT_API_BASE": zb_url,
                                          "ZALO_BOT_WEBHOOK_SECRET": ZB_SECRET})
        stack.callback(product.stop)
        print(f"product ready in {product.wait_ready():.0f} s", flush=True)
        sessions = make_sessionmaker(make_engine(db))
        pairs: list[tuple[str, int]] = []
        with sessions.begin() as s:
            commune = people.add_commune(s, "Xã Bench", "bench")
            for i in range(args.pairs):
                mentor = people.add_person(s, "mentor", f"Người giúp {i}", commune.name, "bench")
                sup = people.add_person(s, "supervisee", f"Người {i}", commune.name, "bench", mentor_id=mentor.id)
                chat, tg_chat = f"zb-bench-{i}-{os.urandom(2).hex()}", 9100 + i
                now = utcnow()
                for channel, ext, pid in (("zalo_bot", chat, sup.id), ("telegram", str(tg_chat), mentor.id)):
                    s.add(ChannelIdentity(channel=channel, external_id=ext, locale="vi", person_id=pid,
                                          created_at=now, last_inbound_at=now))
                s.flush()
                conversations.set_quiet_hours(s, mentor.id, 0, 0, now)
                conversations.request(s, sup, "bench", [], now)
                conversations.staff_open(s, mentor.id, sup.id, now)
                pairs.append((chat, tg_chat))
        # the request and the "joined" notice
        assert wait(lambda: all(tg.sent(c) for _, c in pairs) and all(zb.sends(z) for z, _ in pairs), 60)
        base_tg = {c: len(tg.sent(c)) for _, c in pairs}
        base_zb = {z: len(zb.sends(z)) for z, _ in pairs}
        to_staff: list[float] = []
        to_person: list[float] = []
        transcript: list[str] = []
        for n in range(args.messages):
            for chat, tg_chat in pairs:
                text = f"em nhắn {n}"
                t0 = time.monotonic()
                r = httpx.post(f"{product.url}/webhooks/zalo-bot", json=bot_update(chat, text),
                               headers={"X-Bot-Api-Secret-Token": ZB_SECRET}, timeout=60)
                assert r.status_code == 200, r.text
                assert wait(lambda: len(tg.sent(tg_chat)) > base_tg[tg_chat] + n * 1, 60), "not relayed"
                with tg.lock:
                    arrived = [c.at for c in tg.calls if c.method == "sendMessage"
                               and int(c.params["chat_id"]) == tg_chat][-1]
                to_staff.append(arrived - t0)
                reply = f"chị trả lời {n}"
                t0 = time.monotonic()
                tg.queue_update(tg.message_update(tg_chat, reply))
                assert wait(lambda: len(zb.sends(chat)) > base_zb[chat] + n, 60), "not relayed"
                to_person.append(zb.sends(chat)[-1].at - t0)
                if chat == pairs[0][0]:
                    transcript += [f"[Zalo Bot → Telegram] {tg.sent(tg_chat)[-1]['text']}",
                                   f"[Telegram → Zalo Bot] {zb.sends(chat)[-1].text}"]
        time.sleep(2)
        dup_or_missing = sum(abs(len(tg.sent(c)) - base_tg[c] - args.messages) for _, c in pairs) + \
            sum(abs(len(zb.sends(z)) - base_zb[z] - args.messages) for z, _ in pairs)
        for name, xs in (("Zalo Bot → Telegram", to_staff), ("Telegram → Zalo Bot", to_person)):
            print(f"{name}: n={len(xs)} p50={pct(xs, 50) * 1000:.0f} ms p95={pct(xs, 95) * 1000:.0f} ms "
                  f"max={max(xs) * 1000:.0f} ms")
        print(f"duplicated or missing: {dup_or_missing}")
        if args.transcript:
            args.transcript.write_text("\n".join(transcript) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
