"""End-to-end numbers for the README's performance section.

    .venv/bin/python bench/latency.py                 # start the product itself (SQLite)
    .venv/bin/python bench/latency.py --url URL       # attach to a running product

Prints: warm start to ready (run command → /healthz 200, model present),
/api/messages p50/p95 for 1 and for 20 concurrent users, Rasa /model/parse
p50/p95, training time (fresh Rasa cache), and the RSS of each process.
Starts nothing outside this machine; every request loop is bounded.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import PROJECT_ROOT  # noqa: E402
from bot.runtime.rasa_env import DATA_PATHS, rasa_env, rasa_python  # noqa: E402
from harness.helpers import cmdline, descendants, start_product  # noqa: E402

SENTENCES = [
    "xin chào", "toi muon vay von", "xóa án tích bao lâu", "làm cccd ở đâu", "cam on nhe",
    "bạn giúp được gì", "/ask_loan", "giá vàng hôm nay", "asdkj qwe", "báo cáo định kỳ",
]


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def summary(ms: list[float]) -> str:
    return f"p50 {pct(ms, 50):6.1f} ms   p95 {pct(ms, 95):6.1f} ms   (n={len(ms)})"


async def messages_latency(url: str, users: int, per_user: int) -> list[float]:
    async with httpx.AsyncClient(timeout=60, limits=httpx.Limits(max_connections=users)) as http:
        async def user(u: int) -> list[float]:
            out = []
            for i in range(per_user):
                t0 = time.perf_counter()
                r = await http.post(f"{url}/api/messages",
                                    json={"user": f"bench-{users}-{u}", "text": SENTENCES[(u + i) % len(SENTENCES)]})
                r.raise_for_status()
                out.append((time.perf_counter() - t0) * 1000)
            return out

        results = await asyncio.gather(*(user(u) for u in range(users)))
    return [x for r in results for x in r]


def parse_latency(rasa_url: str, token: str, n: int) -> list[float]:
    out = []
    with httpx.Client(timeout=30) as http:
        for i in range(n + 5):
            t0 = time.perf_counter()
            http.post(f"{rasa_url}/model/parse", params={"token": token},
                      json={"text": SENTENCES[i % len(SENTENCES)]}).raise_for_status()
            if i >= 5:
                out.append((time.perf_counter() - t0) * 1000)
    return out


def training_seconds() -> float:
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [str(rasa_python()), "-m", "rasa", "train", "--config", "config.yml", "--domain", "domain.yml",
               "--data", *DATA_PATHS, "--out", tmp, "--fixed-model-name", "bench"]
        t0 = time.perf_counter()
        subprocess.run(cmd, cwd=PROJECT_ROOT, env=rasa_env({"RASA_CACHE_DIRECTORY": f"{tmp}/cache"}),
                       check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return time.perf_counter() - t0


def rss_mb(pid: int) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def rss_by_part(root: int) -> dict[str, float]:
    parts: dict[str, float] = {"supervisor": rss_mb(root)}
    for pid in descendants(root):
        cmd = cmdline(pid)
        name = ("rasa" if ".venv-rasa" in cmd else "actions" if "rasa_sdk" in cmd
                else "gateway" if "bot gateway" in cmd else None)
        if name is None:  # worker processes: count them with the nearest named ancestor
            ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
            name = "actions" if "rasa_sdk" in cmdline(ppid) else "other"
        parts[name] = parts.get(name, 0.0) + rss_mb(pid)
    return parts


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--url", help="attach to a running product instead of starting one")
    ap.add_argument("--requests", type=int, default=200, help="requests per scenario")
    ap.add_argument("--no-train", action="store_true", help="skip the training-time measurement")
    args = ap.parse_args()

    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    product = None
    if args.url:
        url = args.url.rstrip("/")
    else:
        tmp = Path(tempfile.mkdtemp(prefix="loive-bench-"))
        product = start_product(tmp, f"sqlite:///{tmp / 'var' / 'loive.db'}")
        ready = product.wait_ready()
        url = product.url
        print(f"warm start to ready (run command → /healthz 200): {ready:.1f} s")
    try:
        asyncio.run(messages_latency(url, 1, 10))  # warm-up
        print("/api/messages, 1 user:   " + summary(asyncio.run(messages_latency(url, 1, args.requests))))
        print("/api/messages, 20 users: " + summary(asyncio.run(messages_latency(url, 20, max(1, args.requests // 20)))))
        if product:
            rasa_url = f"http://127.0.0.1:{product.env['LOIVE_RASA_PORT']}"
            token = product.env["LOIVE_RASA_TOKEN"]
            print("Rasa /model/parse:       " + summary(parse_latency(rasa_url, token, args.requests)))
            parts = rss_by_part(product.proc.pid)
            print("RSS: " + ", ".join(f"{k} {v:.0f} MB" for k, v in sorted(parts.items()))
                  + f"; total {sum(parts.values()):.0f} MB")
    finally:
        if product:
            product.stop()
    if not args.no_train:
        print(f"training time (fresh cache): {training_seconds():.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
