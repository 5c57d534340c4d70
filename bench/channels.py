"""Webhook in → reply out, through each channel, against local fake platforms.

    .venv/bin/python bench/channels.py [--turns 5] [--users 1,50]

Starts the fake Telegram Bot API, Zalo OA and Zalo Bot servers on loopback,
then the whole product (its own run command, SQLite) with all three channels
configured in webhook mode. Each simulated user posts a signed webhook and
waits until the fake platform has received the reply; the time from the POST
to the reply's arrival is one sample. Users think 1.2 s between turns (Telegram
paces a chat at 1 message/s). Prints p50/p95 per channel at each concurrency,
and how many replies were duplicated or missing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from harness.fakes.telegram import FakeTelegram  # noqa: E402
from harness.fakes.zalo import FakeZaloBot, FakeZaloOA, bot_update, oa_event, signed  # noqa: E402
from harness.helpers import serve, start_product  # noqa: E402

TG_SECRET = "bench-secret-" + "x" * 20
ZB_SECRET = "bench-zalo-bot-secret"
OA = {"app_id": "bench-app", "oa_secret": "bench-oa-secret", "app_secret": "bench-app-secret",
      "access": "bench-access", "refresh": "bench-refresh"}
TEXT = "cảm ơn"          # one short reply
THINK_S = 1.2
RATES = {"telegram": 30.0, "zalo-oa": 10.0, "zalo-bot": 10.0}   # the product's defaults


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


class Channel:
    def __init__(self, name: str, post: Callable, count: Callable[[str], int],  # noqa: ANN001
                 sends: Callable[[], list[tuple[str, float]]], rate: float, per_chat_s: float) -> None:
        self.name, self.post, self.count, self.sends = name, post, count, sends
        self.rate, self.per_chat_s = rate, per_chat_s


def pacing(sends: list[tuple[str, float]]) -> tuple[int, float]:
    """(most messages in any 1-second window, smallest gap between two messages to one chat)."""
    times = sorted(t for _, t in sends)
    most, j = 0, 0
    for i, t in enumerate(times):
        while times[j] <= t - 1.0:
            j += 1
        most = max(most, i - j + 1)
    last: dict[str, float] = {}
    gap = float("inf")
    for chat, t in sorted(sends, key=lambda x: x[1]):
        if chat in last:
            gap = min(gap, t - last[chat])
        last[chat] = t
    return most, gap


async def wait_count(count: Callable[[str], int], user: str, n: int, timeout: float = 60.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if count(user) >= n:
            return True
        await asyncio.sleep(0.005)
    return False


async def run_users(ch: Channel, http: httpx.AsyncClient, users: int, turns: int, tag: str) -> tuple[list[float], int]:
    async def one(u: int) -> tuple[list[float], int]:
        user = f"{tag}{u}"
        samples, missing = [], 0
        for t in range(turns):
            before = ch.count(user)
            t0 = time.perf_counter()
            r = await ch.post(http, user, t)
            r.raise_for_status()
            if await wait_count(ch.count, user, before + 1):
                samples.append((time.perf_counter() - t0) * 1000)
            else:
                missing += 1
            await asyncio.sleep(THINK_S)
        return samples, missing

    results = await asyncio.gather(*(one(u) for u in range(users)))
    return [x for s, _ in results for x in s], sum(m for _, m in results)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--turns", type=int, default=5, help="messages per user")
    ap.add_argument("--users", default="1,50", help="concurrency levels, comma separated")
    args = ap.parse_args()

    tg = FakeTelegram()
    zoa = FakeZaloOA(app_id=OA["app_id"], app_secret_key=OA["app_secret"], access_token=OA["access"],
                     refresh_token=OA["refresh"])
    zbot = FakeZaloBot(token="777:bench")
    with ExitStack() as stack:
        tg_url = stack.enter_context(serve(tg.app()))
        zoa_url = stack.enter_context(zoa.serve())
        zbot_url = stack.enter_context(zbot.serve())
        tmp = Path(tempfile.mkdtemp(prefix="loive-bench-channels-"))
        product = start_product(tmp, f"sqlite:///{tmp / 'app.db'}", {
            "TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_BASE": f"{tg_url}/bot",
            "TELEGRAM_WEBHOOK_URL": "https://bench.invalid/webhooks/telegram", "TELEGRAM_WEBHOOK_SECRET": TG_SECRET,
            "ZALO_OA_APP_ID": OA["app_id"], "ZALO_OA_SECRET_KEY": OA["oa_secret"],
            "ZALO_APP_SECRET_KEY": OA["app_secret"], "ZALO_OA_ACCESS_TOKEN": OA["access"],
            "ZALO_OA_REFRESH_TOKEN": OA["refresh"], "ZALO_OA_API_BASE": zoa_url, "ZALO_OAUTH_BASE": zoa_url,
            "ZALO_ZNS_BASE": zoa_url, "ZALO_BOT_TOKEN": zbot.token, "ZALO_BOT_WEBHOOK_SECRET": ZB_SECRET,
            "ZALO_BOT_API_BASE": zbot_url, "LOG_LEVEL": "WARNING"})
        stack.callback(product.stop)
        print(f"product ready in {product.wait_ready():.1f} s; channels: "
              f"{httpx.get(f'{product.url}/healthz', timeout=10).json()['channels']}")
        base = product.url

        def tg_post(http: httpx.AsyncClient, user: str, t: int):  # noqa: ANN202
            chat = 10_000_000 + abs(hash(user)) % 10_000_000
            tg_chats[user] = chat
            update = tg.message_update(chat, TEXT)
            return http.post(f"{base}/webhooks/telegram", content=json.dumps(update),
                             headers={"X-Telegram-Bot-Api-Secret-Token": TG_SECRET,
                                      "Content-Type": "application/json"})

        tg_chats: dict[str, int] = {}

        def zoa_post(http: httpx.AsyncClient, user: str, t: int):  # noqa: ANN202
            body, headers = signed(oa_event(OA["app_id"], "user_send_text", user, text=TEXT), OA["app_id"],
                                   OA["oa_secret"])
            return http.post(f"{base}/webhooks/zalo-oa", content=body, headers=headers)

        def zbot_post(http: httpx.AsyncClient, user: str, t: int):  # noqa: ANN202
            return http.post(f"{base}/webhooks/zalo-bot", json=bot_update(user, TEXT),
                             headers={"X-Bot-Api-Secret-Token": ZB_SECRET})

        channels = [
            Channel("telegram", tg_post, lambda u: len(tg.sent(tg_chats[u])) if u in tg_chats else 0,
                    lambda: [(c.params["chat_id"], c.at) for c in tg.calls
                             if c.method == "sendMessage" and c.status == 200], RATES["telegram"], 1.0),
            Channel("zalo-oa", zoa_post, lambda u: len(zoa.sends(u)),
                    lambda: [(x.user_id, x.at) for x in zoa.sends()], RATES["zalo-oa"], 1.0),
            Channel("zalo-bot", zbot_post, lambda u: len(zbot.sends(u)),
                    lambda: [(x.chat_id, x.at) for x in zbot.sends()], RATES["zalo-bot"], 1.0),
        ]

        async def bench() -> None:
            async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=200)) as http:
                for ch in channels:  # warm-up: one turn each
                    await run_users(ch, http, 1, 1, f"warm-{ch.name}-")
                for users in (int(x) for x in args.users.split(",")):
                    for ch in channels:
                        ms, missing = await run_users(ch, http, users, args.turns, f"u{users}-{ch.name}-")
                        print(f"{ch.name:9s} {users:3d} users: p50 {pct(ms, 50):7.1f} ms   p95 {pct(ms, 95):7.1f} ms"
                              f"   (n={len(ms)}, missing={missing})")

        asyncio.run(bench())
        # Exactly one reply per turn: nothing processed twice, nothing lost.
        sent = {"telegram": len(tg.sent()), "zalo-oa": len(zoa.sends()), "zalo-bot": len(zbot.sends())}
        expected = 1 + sum(int(x) for x in args.users.split(",")) * args.turns
        print("replies per channel: " + ", ".join(f"{k}={v}" for k, v in sent.items())
              + f" (expected {expected} each)")
        for ch in channels:
            most, gap = pacing(ch.sends())
            print(f"{ch.name:9s} pacing: at most {most} messages in any second (limit {ch.rate:g}/s), "
                  f"smallest gap in one chat {gap:.2f} s (limit {ch.per_chat_s:g} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
