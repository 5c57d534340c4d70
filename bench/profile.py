"""Where a turn's CPU goes: the running product under the throughput benchmark's
load, sampled with py-spy, printed as shares of Rasa's busy samples per part.

    .venv/bin/python bench/profile.py [--users 20] [--turns 300] [--long 200]

Starts this tree's product (``python -m bot run``, SQLite), enrolls people for the
check-ins, warms up, then samples every Rasa worker with ``py-spy record`` while
``--users`` simulated people go through ``--turns`` turns each (bench/throughput.py's
conversations); with ``--long N`` it then samples one conversation's turns N/2..N.
py-spy is a profiler, not a dependency of the product: put it on PATH
(``uv tool install py-spy`` or ``pip install py-spy``); the script says so if it is missing.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import throughput as tp  # noqa: E402
from bot import PROJECT_ROOT  # noqa: E402
from harness.helpers import descendants  # noqa: E402

# Parts of a Rasa turn, by a frame that marks them (first match wins, in this order).
PARTS = [
    ("action-result validation (jsonschema)", "_validate_action_result"),
    ("tracker store: retrieve", "_retrieve"),
    ("tracker store: save", "save (bot/runtime/rasa_server.py"),
    ("custom actions: HTTP round trip", "RemoteAction.run"),
    ("NLU graph (parse)", "parse_message"),
    ("policies (prediction)", "_predict_next_with_tracker"),
    ("forms: validate_slots", "validate_slots"),
]
IDLE = re.compile(r"select|epoll|poll \(|_run_once \(|wait \(threading|sleep")


def py_spy() -> str:
    found = shutil.which("py-spy") or next((str(p) for p in (Path(sys.executable).parent / "py-spy",) if p.exists()),
                                           None)
    if not found:
        raise SystemExit("bench/profile.py needs py-spy on PATH (uv tool install py-spy, or pip install py-spy)")
    return found


def rasa_workers(p: tp.Running) -> list[int]:
    out = []
    for pid in descendants(p.proc.pid):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if "rasa_server" in cmd:
            out.append(pid)
    return out


def record(spy: str, pids: list[int], out: Path) -> list[subprocess.Popen]:
    return [subprocess.Popen([spy, "record", "-f", "raw", "-r", "100", "-o", str(out / f"rasa-{pid}.txt"), "-p", str(pid)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for pid in pids]


def stop(spies: list[subprocess.Popen]) -> None:
    for s in spies:
        s.send_signal(2)
    for s in spies:
        s.wait(120)


def shares(files: list[Path]) -> tuple[int, dict[str, float]]:
    busy, parts = 0, collections.Counter()
    for f in files:
        if not f.exists():
            continue
        for line in f.read_text(errors="replace").splitlines():
            stack, _, n = line.rpartition(" ")
            if not n.isdigit() or IDLE.search(stack.rsplit(";", 1)[-1]):
                continue
            busy += int(n)
            for name, marker in PARTS:
                if marker in stack:
                    parts[name] += int(n)
                    break
    return busy, {name: 100 * parts[name] / max(1, busy) for name, _ in PARTS}


def show(title: str, busy: int, table: dict[str, float]) -> None:
    print(f"== {title}: {busy} busy samples of the Rasa workers")
    for name, share in table.items():
        print(f"   {share:5.1f}%  {name}")
    print(f"   {100 - sum(table.values()):5.1f}%  the rest (HTTP, Sanic, logging, lock store, …)")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--users", type=int, default=20)
    ap.add_argument("--turns", type=int, default=300, help="turns per simulated person")
    ap.add_argument("--long", type=int, default=200, help="turns of the one long conversation (0: skip)")
    args = ap.parse_args()
    spy = py_spy()
    tmp = Path(tempfile.mkdtemp(prefix="loive-profile-"))
    p = tp.launch("this tree", PROJECT_ROOT, tmp)
    try:
        print(f"ready in {tp.wait_ready(p):.0f} s; load average {os.getloadavg()[0]:.1f}", flush=True)
        tp.enroll(p, args.users // 4 + 1)
        asyncio.run(tp.run_level(p, 5, 10, "warm"))
        spies = record(spy, rasa_workers(p), tmp)
        time.sleep(1)
        level = asyncio.run(tp.run_level(p, args.users, args.turns, "profile"))
        stop(spies)
        print(tp.HEADER)
        print(level.row())
        show(f"{args.users} users", *shares(list(tmp.glob("rasa-*.txt"))))
        if args.long:
            user = f"long-{os.urandom(3).hex()}"
            with httpx.Client(base_url=p.url, timeout=120) as http:
                for i in range(args.long):
                    if i == args.long // 2:
                        long_dir = tmp / "long"
                        long_dir.mkdir()
                        spies = record(spy, rasa_workers(p), long_dir)
                        time.sleep(1)
                    http.post("/api/messages", json={"user": user, "text": tp.QUESTIONS[i % len(tp.QUESTIONS)]})
            stop(spies)
            show(f"one conversation, turns {args.long // 2}–{args.long}", *shares(list(long_dir.glob("rasa-*.txt"))))
    finally:
        p.stop()
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
