"""Scale-out on one machine: PostgreSQL trackers, the Redis lock store, several
Rasa replicas and two gateways behind nginx (``deploy/nginx.conf``).

    .venv/bin/python bench/throughput.py --scale [--users 20] [--turns 400] [--replicas 2]

Every part runs alone, as a deployment would place it (``python -m bot rasa``,
``… actions``, ``… gateway``, ``… dispatcher`` is not needed for chat turns).
N simulated people talk through nginx; a third of the way through, one Rasa
replica is killed (SIGKILL). Afterwards each conversation's user messages are
read back from the tracker store (PostgreSQL ``events``) and compared with what
was sent: a turn is *lost* if it was not answered (HTTP ≠ 200 or no reply) or is
missing from the tracker, *out of order* if the tracker holds the conversation's
messages in another order, *duplicated* if it was applied twice (a retry after
a replica died between saving the turn and answering). Printed: turns/s,
p50/p95/p99, CPU per turn of all parts, and the three counts.

Needs: PostgreSQL (LOIVE_TEST_DATABASE_URL, default postgresql://root@127.0.0.1:5432/test;
a private database is created and dropped), Redis (REDIS_URL, default
redis://127.0.0.1:6379/7), nginx (Debian package), a trained model.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import PROJECT_ROOT  # noqa: E402
from bot.conversation.core import as_rasa_text  # noqa: E402
from harness.helpers import TODAY, free_port, private_database  # noqa: E402

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
CONVERSATIONS = [
    ["xin chào", "xóa án tích bao lâu", "làm cccd ở đâu", "toi muon vay von", "bạn giúp được gì", "cam on nhe"],
    ["toi bi tu 3 nam, chap hanh xong ngay 01/06/2023, da nop du tien boi thuong, khi nao duoc xoa an tich?",
     "tren 18", "khong", "ko", "khong co"],
    ["Tôi ra tù tháng 3 năm 2024, muốn vay 50 triệu mở tiệm sửa xe", "/affirm", "cảm ơn"],
]


@dataclass
class Part:
    name: str
    proc: subprocess.Popen[bytes]
    log: Path
    port: int


@dataclass
class Stack:
    tmp: Path
    db_url: str
    env: dict[str, str]
    url: str = ""
    parts: list[Part] = field(default_factory=list)
    cpu_of_killed: float = 0.0

    def part(self, name: str) -> Part:
        return next(p for p in self.parts if p.name == name)

    def start(self, name: str, argv: list[str], port: int, env: dict[str, str]) -> Part:
        log = self.tmp / f"{name}.log"
        proc = subprocess.Popen(argv, cwd=PROJECT_ROOT, env={**self.env, **env}, stdout=open(log, "wb"),
                                stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True)
        part = Part(name, proc, log, port)
        self.parts.append(part)
        return part

    def kill(self, name: str) -> None:
        from bench.throughput import TICK_S, cpu_ticks

        part = self.part(name)
        self.cpu_of_killed += cpu_ticks(part.proc.pid) * TICK_S  # what it used until now still counts
        try:
            os.killpg(part.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        part.proc.wait(10)

    def cpu_s(self) -> float:
        from bench.throughput import TICK_S, cpu_ticks

        return self.cpu_of_killed + sum(cpu_ticks(p.proc.pid) for p in self.parts if p.proc.poll() is None) * TICK_S

    def stop(self) -> None:
        for part in reversed(self.parts):
            if part.proc.poll() is None:
                try:
                    os.killpg(part.proc.pid, signal.SIGINT if part.name != "nginx" else signal.SIGTERM)
                except ProcessLookupError:
                    continue
        deadline = time.monotonic() + 20
        for part in self.parts:
            try:
                part.proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(part.proc.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                part.proc.wait(10)

    def problems(self) -> str:
        """Warnings, errors and tracebacks of every part (for a failing check)."""
        lines = []
        for p in self.parts:
            for line in p.log.read_text(errors="replace").splitlines():
                if (any(w in line for w in ("WARNING", "ERROR", "Error", "Traceback", "error]"))
                        and "Deprecat" not in line and "trying the next" not in line):
                    lines.append(f"{p.name}: {line[:300]}")
        return "\n".join(lines[-60:])

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.log.read_text(errors='replace')[-2000:]}" for p in self.parts)


def nginx_config(prefix: Path, port: int, gateway_ports: list[int]) -> Path:
    conf = (PROJECT_ROOT / "deploy" / "nginx.conf").read_text(encoding="utf-8")
    conf = (conf.replace("@PREFIX@", str(prefix)).replace("@PORT@", str(port))
            .replace("@GATEWAYS@", "\n".join(f"        server 127.0.0.1:{p};" for p in gateway_ports)))
    out = prefix / "nginx.conf"
    out.write_text(conf, encoding="utf-8")
    return out


def _wait(url: str, stack: Stack, what: str, timeout: float, params: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        dead = [p.name for p in stack.parts if p.proc.poll() is not None]
        if dead:
            raise RuntimeError(f"{', '.join(dead)} exited while waiting for {what}:\n{stack.logs()}")
        try:
            if httpx.get(url, params=params, timeout=3).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{what} not ready after {timeout:.0f} s:\n{stack.logs()}")


def start_stack(tmp: Path, db_url: str, redis_url: str, replicas: int = 2, gateways: int = 2,
                timeout: float = 600.0) -> Stack:
    token = "scale-" + secrets.token_hex(8)
    env = {**os.environ, "DATABASE_URL": db_url, "REDIS_URL": redis_url, "LOIVE_RASA_TOKEN": token,
           "LOIVE_SECRET_KEY": secrets.token_hex(32), "LOIVE_TODAY": TODAY, "PYTHONUNBUFFERED": "1",
           "PYTHONPATH": str(PROJECT_ROOT), "LOIVE_RASA_WORKERS": "1",
           # A replica killed while holding a conversation's lock: the next turn of that
           # conversation waits this long on another replica (Rasa's default is 60 s).
           "TICKET_LOCK_LIFETIME": "10",
           # The turn retried on another replica may wait that long for the lock:
           # the gateway must wait longer than that for Rasa (default 30 s).
           "LOIVE_RASA_TIMEOUT": "75"}
    for k in ("RASA_TRACKER_URL", "VIRTUAL_ENV", "LOIVE_RASA_URLS"):
        env.pop(k, None)
    stack = Stack(tmp, db_url, env)
    subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], cwd=PROJECT_ROOT, env=env, check=True,
                   stdout=subprocess.DEVNULL)
    actions_port = free_port()
    stack.start("actions", [sys.executable, "-m", "bot", "actions"], actions_port,
                {"LOIVE_ACTIONS_PORT": str(actions_port), "LOIVE_VAR_DIR": str(tmp / "actions")})
    rasa_ports = [free_port() for _ in range(replicas)]
    for i, port in enumerate(rasa_ports):
        stack.start(f"rasa{i + 1}", [sys.executable, "-m", "bot", "rasa"], port,
                    {"LOIVE_RASA_PORT": str(port), "LOIVE_ACTIONS_PORT": str(actions_port),
                     "LOIVE_VAR_DIR": str(tmp / f"rasa{i + 1}")})
    rasa_urls = ",".join(f"http://127.0.0.1:{p}" for p in rasa_ports)
    gw_ports = [free_port() for _ in range(gateways)]
    for j, port in enumerate(gw_ports):
        stack.start(f"gateway{j + 1}", [sys.executable, "-m", "bot", "gateway"], port,
                    {"LOIVE_PORT": str(port), "LOIVE_RASA_URLS": rasa_urls, "LOIVE_ACTIONS_PORT": str(actions_port),
                     "LOIVE_VAR_DIR": str(tmp / f"gateway{j + 1}")})
    prefix = tmp / "nginx"
    prefix.mkdir(parents=True, exist_ok=True)
    nginx_port = free_port()
    conf = nginx_config(prefix, nginx_port, gw_ports)
    stack.start("nginx", [NGINX, "-p", str(prefix), "-c", str(conf), "-g", "daemon off;"], nginx_port, {})
    stack.url = f"http://127.0.0.1:{nginx_port}"
    try:
        for port in rasa_ports:
            _wait(f"http://127.0.0.1:{port}/status", stack, f"Rasa on {port}", timeout, {"token": token})
        _wait(f"{stack.url}/healthz", stack, "the gateways behind nginx", timeout)
        for port in gw_ports:
            _wait(f"http://127.0.0.1:{port}/healthz", stack, f"gateway on {port}", timeout)
    except BaseException:  # not ready, or interrupted: leave nothing running
        stack.stop()
        raise
    return stack


# --- load and check ----------------------------------------------------------------


@dataclass
class Result:
    sent: dict[str, list[str]] = field(default_factory=dict)      # user → texts, in order
    failed: dict[str, list[str]] = field(default_factory=dict)    # user → texts not answered
    ms: list[float] = field(default_factory=list)
    wall_s: float = 0.0
    cpu_s: float = 0.0
    killed_at: float | None = None

    @property
    def turns(self) -> int:
        return sum(len(v) for v in self.sent.values())


async def run_load(stack: Stack, users: int, turns_per_user: int, kill: str | None = None,
                   kill_after: float = 0.33) -> Result:
    res = Result()
    total = users * turns_per_user
    done = 0
    tag = secrets.token_hex(3)
    limits = httpx.Limits(max_connections=users + 10, max_keepalive_connections=users + 10)
    async with httpx.AsyncClient(base_url=stack.url, timeout=120, limits=limits) as http:
        async def person(u: int) -> None:
            nonlocal done
            n, conv = 0, 0
            while n < turns_per_user:
                script = CONVERSATIONS[(u + conv) % len(CONVERSATIONS)]
                user = f"scale-{tag}-{u}-{conv}"
                conv += 1
                res.sent[user] = []
                for text in script[: turns_per_user - n]:
                    res.sent[user].append(text)
                    t0 = time.perf_counter()
                    try:
                        r = await http.post("/api/messages", json={"user": user, "text": text})
                        ok = r.status_code == 200 and bool(r.json().get("replies"))
                    except (httpx.HTTPError, ValueError):
                        ok = False
                    res.ms.append((time.perf_counter() - t0) * 1000)
                    if not ok:
                        res.failed.setdefault(user, []).append(text)
                    n += 1
                    done += 1
                    if kill and res.killed_at is None and done >= total * kill_after:
                        res.killed_at = time.perf_counter() - t_start
                        stack.kill(kill)

        c0 = stack.cpu_s()
        t_start = time.perf_counter()
        await asyncio.gather(*(person(u) for u in range(users)))
        res.wall_s = time.perf_counter() - t_start
        res.cpu_s = stack.cpu_s() - c0  # the killed replica's share is not counted
    return res


def check(db_url: str, res: Result) -> dict[str, int]:
    """Lost, out-of-order and duplicated turns, from the tracker store."""
    import psycopg

    from sqlalchemy.engine import make_url

    url = make_url(db_url).set(drivername="postgresql").render_as_string(hide_password=False)
    lost = out_of_order = duplicated = 0
    with psycopg.connect(url) as conn:
        for user, sent in res.sent.items():
            row = conn.execute("SELECT id FROM channel_identities WHERE channel = 'web-anon' AND external_id = %s",
                               (user,)).fetchone()
            stored: list[str] = []
            if row:
                stored = [json.loads(d).get("text") for (d,) in conn.execute(
                    "SELECT data FROM events WHERE sender_id = %s AND type_name = 'user' ORDER BY id", (row[0],))]
            want = [as_rasa_text(t) for t in sent]
            have, need = Counter(stored), Counter(want)
            # not answered, or never applied (whichever is more)
            lost += max(len(res.failed.get(user, [])), sum((need - have).values()))
            duplicated += sum((have - need).values())    # applied more often than sent
            # Keep each text as often as it was sent (first occurrences), then compare orders.
            seen: Counter[str] = Counter()
            kept = []
            for t in stored:
                seen[t] += 1
                if seen[t] <= need[t]:
                    kept.append(t)
            if kept != [t for t in want if t in have]:
                out_of_order += 1
    return {"lost": lost, "out_of_order": out_of_order, "duplicated": duplicated}


def pct(values: list[float], p: float) -> float:
    from bench.throughput import pct as _pct

    return _pct(values, p)


def line(label: str, res: Result) -> str:
    return (f"{label:<34} {res.turns / res.wall_s:7.1f} turns/s   p50 {pct(res.ms, 50):5.0f}  p95 {pct(res.ms, 95):5.0f}"
            f"  p99 {pct(res.ms, 99):5.0f} ms   CPU {1000 * res.cpu_s / max(1, res.turns):5.1f} ms/turn"
            f"   (n={res.turns})")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", action="store_true")
    ap.add_argument("--users", type=int, action="append")
    ap.add_argument("--turns", type=int, default=400, help="turns per run")
    ap.add_argument("--replicas", type=int, default=2)
    ap.add_argument("--compare", help=argparse.SUPPRESS)
    ap.add_argument("--long", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--enrolled", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--json", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    users = (args.users or [20])[0]
    pg = os.environ.get("LOIVE_TEST_DATABASE_URL", "postgresql://root@127.0.0.1:5432/test")
    redis_url = os.environ.get("REDIS_URL", "redis://127.0.0.1:6379/7")
    tmp = Path(tempfile.mkdtemp(prefix="loive-scale-"))
    per_user = max(1, args.turns // users)
    try:
        with private_database(pg) as db_url:
            stack = start_stack(tmp, db_url, redis_url, replicas=args.replicas)
            try:
                print(f"{args.replicas} Rasa replicas (PostgreSQL trackers, Redis locks), 2 gateways, nginx; "
                      f"{users} users", flush=True)
                asyncio.run(run_load(stack, 2, 5))  # warm-up
                steady = asyncio.run(run_load(stack, users, per_user))
                print(line("steady", steady), flush=True)
                print("  check:", check(db_url, steady), flush=True)
                killed = asyncio.run(run_load(stack, users, per_user, kill="rasa1"))
                print(line(f"rasa1 killed at {killed.killed_at:.1f} s", killed), flush=True)
                counts = check(db_url, killed)
                print("  check:", counts, flush=True)
                if any(counts.values()):
                    print(f"  not answered: {killed.failed}\n{stack.problems()}", flush=True)
            finally:
                stack.stop()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
