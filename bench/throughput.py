"""Throughput of the running product: N concurrent people in realistic conversations.

    .venv/bin/python bench/throughput.py                    # this tree: 1, 20, 50 users
    .venv/bin/python bench/throughput.py --compare main     # also REV, same run, ratio printed
    .venv/bin/python bench/throughput.py --users 20 --rounds 2
    .venv/bin/python bench/throughput.py --scale            # replicas behind nginx (bench/scale.py)

Each simulated person goes through conversations back to back, without think time:
questions (the anonymous web contract), a calculation form (criminal-record
expungement, loan pre-check) and, for every fourth person, a check-in made by an
enrolled supervisee in the cookie-bound web chat. Printed per level: turns/s,
p50/p95/p99 of one turn (request → replies), errors (HTTP ≠ 200, or a
conversation that did not end where it should), and the CPU time of the
product's processes per turn (``/proc/PID/stat``: stable on a shared machine,
wall-clock figures are not). Then the time of turns 1–10 vs 191–200 of one
200-turn conversation.

``--compare REV`` checks REV out with ``git worktree`` into a temporary
directory (sharing this tree's virtual environments), gives it a trained model
(copied when the model inputs are the same, else trained), measures it and this
tree alternately in the same run, and prints the ratios.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import PROJECT_ROOT  # noqa: E402
from harness.helpers import TODAY, descendants, free_port  # noqa: E402

QUESTIONS = ["xin chào", "xóa án tích bao lâu", "làm cccd ở đâu", "toi muon vay von",
             "bạn giúp được gì", "giá vàng hôm nay", "cam on nhe"]
# The calculators answer first (issue 14): the story, then a correction of one assumption
# (the form asks it; the answer is typed), then the details button.
EXPUNGEMENT = ["toi bi tu 3 nam, chap hanh xong ngay 01/06/2023, da nop du tien boi thuong, khi nao duoc xoa an tich?",
               '/calc_expungement{"recheck": "exp_age_group"}', "luc do e 25t", "/show_details"]
LOAN = ["Tôi ra tù tháng 3 năm 2024, muốn vay 50 triệu mở tiệm sửa xe", "/show_details"]
CHECKIN = ["báo cáo", '/inform{"choice": "same"}', "dang tim viec", "4", '/inform{"choice": "nothing"}', "/deny",
           "/affirm"]
# The same conversations as the flows were before answer-first (issue 14): for --compare with
# a revision from before it (--legacy-flows), so that each tree is driven through flows it
# understands (buttons it never offered would make cheap fallback turns of the old tree's).
LEGACY = {"expungement": ["toi bi tu 3 nam, chap hanh xong ngay 01/06/2023, da nop du tien boi thuong, "
                          "khi nao duoc xoa an tich?", "tren 18", "khong", "ko", "khong co"],
          "loan": ["Tôi ra tù tháng 3 năm 2024, muốn vay 50 triệu mở tiệm sửa xe", "/affirm"],
          "checkin": ["báo cáo", '/inform{"choice": "none"}', "dang tim viec", "4", '/inform{"choice": "none"}',
                      "/deny", "/affirm"]}
# What the last reply of each conversation must contain (else it counts as an error).
EXPECT = {"expungement": "02/06/2025", "loan": "Giấy tờ cần chuẩn bị", "checkin": "đã được ghi nhận"}


def pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


def cpu_ticks(root: int) -> int:
    """utime+stime (+ waited-for children) of a process tree, in clock ticks."""
    total = 0
    for pid in {root, *descendants(root)}:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += sum(int(x) for x in fields[11:15])
    return total


TICK_S = 1.0 / os.sysconf("SC_CLK_TCK")


# --- a product to measure ------------------------------------------------------


@dataclass
class Running:
    label: str
    root: Path
    url: str
    proc: subprocess.Popen[bytes]
    env: dict[str, str]
    log: Path
    enrolled: list[httpx.AsyncClient] = field(default_factory=list)
    cookies: list[dict[str, str]] = field(default_factory=list)
    legacy: bool = False   # driven through the flows from before answer-first (LEGACY)

    def admin(self, *args: str) -> str:
        out = subprocess.run([sys.executable, "-m", "bot", "admin", *args], cwd=self.root, env=self.env,
                             capture_output=True, text=True, check=True)
        return out.stdout.strip().splitlines()[-1]

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                self.proc.wait(90)
            except subprocess.TimeoutExpired:
                self.proc.kill()


def launch(label: str, root: Path, tmp: Path, extra_env: dict[str, str] | None = None) -> Running:
    """``python -m bot run`` of the tree at ``root`` (SQLite, loopback, free ports)."""
    port = free_port()
    var = tmp / "var"
    env = {**os.environ,
           "LOIVE_PORT": str(port), "LOIVE_RASA_PORT": str(free_port()), "LOIVE_ACTIONS_PORT": str(free_port()),
           "LOIVE_VAR_DIR": str(var), "LOIVE_RASA_TOKEN": "bench-" + os.urandom(8).hex(),
           "LOIVE_TODAY": TODAY, "DATABASE_URL": f"sqlite:///{var / 'loive.db'}", "PYTHONUNBUFFERED": "1",
           "PYTHONPATH": str(root)}
    for k in ("RASA_TRACKER_URL", "REDIS_URL", "VIRTUAL_ENV"):
        env.pop(k, None)
    env.update(extra_env or {})
    log = tmp / "run.log"
    proc = subprocess.Popen([sys.executable, "-m", "bot", "run"], cwd=root, env=env,
                            stdout=open(log, "wb"), stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    return Running(label, root, f"http://127.0.0.1:{port}", proc, env, log)


def wait_ready(p: Running, timeout: float = 900.0) -> float:
    t0 = time.monotonic()
    while time.monotonic() - t0 < timeout:
        if p.proc.poll() is not None:
            raise SystemExit(f"{p.label}: run command exited:\n{p.log.read_text(errors='replace')[-3000:]}")
        try:
            if httpx.get(f"{p.url}/healthz", timeout=3).status_code == 200:
                return time.monotonic() - t0
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"{p.label}: not ready after {timeout:.0f} s")


def enroll(p: Running, n: int) -> None:
    """``n`` enrolled supervisees, each with a browser cookie (for check-ins)."""
    tag = os.urandom(3).hex()
    commune = f"Xã bench {tag}"
    p.admin("add-commune", commune)
    mentor = p.admin("add-person", "--role", "mentor", "--name", "Chị Lan", "--commune", commune)
    with httpx.Client(base_url=p.url, timeout=60, headers={"Origin": p.url}) as http:
        for i in range(n):
            pid = p.admin("add-person", "--role", "supervisee", "--name", f"Anh Bình {i}", "--commune", commune,
                          "--mentor", mentor)
            http.cookies.clear()
            http.get("/").raise_for_status()
            code = p.admin("enroll-code", pid)
            http.post("/api/messages", json={"text": code}).raise_for_status()
            r = http.post("/api/messages", json={"text": "/affirm"})
            r.raise_for_status()
            if "đã được đăng ký" not in r.json()["replies"][0]["text"]:
                raise SystemExit(f"{p.label}: enrollment failed")
            p.cookies.append(dict(http.cookies))


# --- load ------------------------------------------------------------------------


@dataclass
class Level:
    users: int
    turns: int = 0
    errors: int = 0
    unexpected: dict[str, int] = field(default_factory=dict)  # conversations that did not end as they should
    wall_s: float = 0.0
    cpu_s: float = 0.0
    ms: list[float] = field(default_factory=list)

    @property
    def tps(self) -> float:
        return self.turns / self.wall_s if self.wall_s else 0.0

    def row(self) -> str:
        return (f"{self.users:>5} | {self.tps:7.1f} | {pct(self.ms, 50):7.0f} | {pct(self.ms, 95):7.0f} | "
                f"{pct(self.ms, 99):7.0f} | {self.errors:>6} | {1000 * self.cpu_s / max(1, self.turns):7.1f}"
                + (f"   (unexpected endings: {self.unexpected})" if self.unexpected else ""))


HEADER = "users | turns/s | p50 ms  | p95 ms  | p99 ms  | errors | CPU ms/turn"


# Issue 17's own workload: each person asks realistic questions back to back, every one
# answered from the knowledge base by a custom action (--workload questions).
ASKED = ["xóa án tích bao lâu", "làm căn cước ở đâu", "vay vốn lãi suất bao nhiêu một năm",
         "phiếu lý lịch tư pháp làm ở đâu", "án treo có phải báo cáo hằng tháng không",
         "ra tù có được hỗ trợ học nghề không", "đăng ký tạm trú thế nào", "hồ sơ vay vốn gồm những gì"]
WORKLOAD = "mixed"


def scripts_for(u: int, legacy: bool = False) -> list[tuple[str, list[str]]]:
    """The conversations person ``u`` goes through, in order."""
    if WORKLOAD == "questions":
        k = u % len(ASKED)
        return [("questions", ASKED[k:] + ASKED[:k])]
    flows = LEGACY if legacy else {"expungement": EXPUNGEMENT, "loan": LOAN, "checkin": CHECKIN}
    convs = [("questions", QUESTIONS), ("expungement", flows["expungement"]), ("questions", QUESTIONS[2:]),
             ("loan", flows["loan"])]
    if u % 4 == 0:
        convs.insert(1, ("checkin", flows["checkin"]))
    k = u % len(convs)
    return convs[k:] + convs[:k]


async def run_level(p: Running, users: int, turns_per_user: int, tag: str) -> Level:
    lvl = Level(users)
    limits = httpx.Limits(max_connections=users + 10, max_keepalive_connections=users + 10)
    async with httpx.AsyncClient(base_url=p.url, timeout=120, limits=limits) as anon:
        async def person(u: int) -> None:
            cookie_chat = None
            if u % 4 == 0 and p.cookies:
                cookie_chat = httpx.AsyncClient(base_url=p.url, timeout=120, headers={"Origin": p.url},
                                                cookies=p.cookies[(u // 4) % len(p.cookies)])
            done, conv = 0, 0
            try:
                while done < turns_per_user:
                    for kind, script in scripts_for(u, p.legacy):
                        conv += 1
                        user = f"tp-{tag}-{u}-{conv}"
                        last: list[dict] = []
                        for text in script:
                            if done >= turns_per_user:
                                break
                            http, body = ((cookie_chat, {"text": text}) if kind == "checkin" and cookie_chat
                                          else (anon, {"user": user, "text": text}))
                            if kind == "checkin" and cookie_chat is None:
                                continue
                            t0 = time.perf_counter()
                            try:
                                r = await http.post("/api/messages", json=body)
                                ok = r.status_code == 200
                                last = r.json().get("replies", []) if ok else []
                            except (httpx.HTTPError, ValueError):
                                ok = False
                            lvl.ms.append((time.perf_counter() - t0) * 1000)
                            lvl.turns += 1
                            done += 1
                            lvl.errors += 0 if ok else 1
                        else:
                            want = EXPECT.get(kind)
                            if want and not any(want in (x.get("text") or "") for x in last):
                                lvl.unexpected[kind] = lvl.unexpected.get(kind, 0) + 1
                        if done >= turns_per_user:
                            break
            finally:
                if cookie_chat:
                    await cookie_chat.aclose()

        c0, t0 = cpu_ticks(p.proc.pid), time.perf_counter()
        await asyncio.gather(*(person(u) for u in range(users)))
        lvl.wall_s = time.perf_counter() - t0
        lvl.cpu_s = (cpu_ticks(p.proc.pid) - c0) * TICK_S
    return lvl


async def long_conversation(p: Running, turns: int) -> tuple[list[float], list[float]]:
    """Per-turn time (ms) and CPU per turn of one conversation, turn by turn."""
    ms, cpu = [], []
    async with httpx.AsyncClient(base_url=p.url, timeout=120) as http:
        user = f"long-{os.urandom(3).hex()}"
        for i in range(turns):
            c0, t0 = cpu_ticks(p.proc.pid), time.perf_counter()
            r = await http.post("/api/messages", json={"user": user, "text": QUESTIONS[i % len(QUESTIONS)]})
            r.raise_for_status()
            ms.append((time.perf_counter() - t0) * 1000)
            cpu.append((cpu_ticks(p.proc.pid) - c0) * TICK_S * 1000)
    return ms, cpu


def mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else float("nan")


# --- another revision ------------------------------------------------------------


def checkout(rev: str, tmp: Path) -> Path:
    """REV in a temporary worktree that shares this tree's venvs and (when it fits) its model."""
    root = tmp / "tree"
    subprocess.run(["git", "worktree", "add", "--detach", str(root), rev], cwd=PROJECT_ROOT, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for venv in (".venv", ".venv-rasa"):
        (root / venv).symlink_to(PROJECT_ROOT / venv)
    subprocess.run([str(PROJECT_ROOT / ".venv/bin/pybabel"), "compile", "--use-fuzzy", "-d", "bot/locale",
                    "-D", "messages"], cwd=root, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Same model inputs → the same model: copy it, else `run` trains one (minutes of CPU).
    env = {**os.environ, "PYTHONPATH": str(root)}
    code = ("from bot.runtime.rasa_env import inputs_digest; from vietnamese import augment; "
            "augment.write_if_changed(); print(inputs_digest())")
    theirs = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True,
                            check=True).stdout.strip()
    digest = PROJECT_ROOT / "models" / "loive.inputs.sha256"
    if digest.exists() and digest.read_text().strip() == theirs:
        shutil.copytree(PROJECT_ROOT / "models", root / "models", dirs_exist_ok=True)
    return root


def remove_checkout(root: Path) -> None:
    subprocess.run(["git", "worktree", "remove", "--force", str(root)], cwd=PROJECT_ROOT,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


# --- main ------------------------------------------------------------------------


def measure(p: Running, levels: list[int], turns: dict[int, int], long_turns: int) -> dict:
    asyncio.run(run_level(p, 2, 10, "warm"))
    out: dict = {"levels": {}}
    for n in levels:
        lvl = asyncio.run(run_level(p, n, max(1, turns[n] // n), f"{n}-{os.urandom(2).hex()}"))
        out["levels"][n] = lvl
        print(f"  [{p.label}] {lvl.row()}", flush=True)
    if long_turns:
        ms, cpu = asyncio.run(long_conversation(p, long_turns))
        k = min(10, long_turns // 2)
        out["long"] = (mean(ms[:k]), mean(ms[-k:]), mean(cpu[:k]), mean(cpu[-k:]))
        print(f"  [{p.label}] one conversation, turns 1–{k} vs {long_turns - k + 1}–{long_turns}: "
              f"{out['long'][0]:.0f} ms vs {out['long'][1]:.0f} ms; CPU {out['long'][2]:.0f} vs "
              f"{out['long'][3]:.0f} ms/turn", flush=True)
    return out


def report(label: str, res: dict) -> None:
    print(f"\n{label}\n{HEADER}")
    for lvl in res["levels"].values():
        print(lvl.row())
    if "long" in res:
        a, b, ca, cb = res["long"]
        print(f"one conversation: turns 1–10 {a:.0f} ms, turns 191–200 {b:.0f} ms (×{b / a:.2f}); "
              f"CPU {ca:.0f} → {cb:.0f} ms/turn")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--compare", metavar="REV", help="also measure REV (git revision) in the same run")
    ap.add_argument("--workload", choices=["mixed", "questions"], default="mixed",
                    help="mixed: questions, calculations and check-ins; questions: issue 17's realistic "
                         "questions only, each answered by a custom action")
    ap.add_argument("--legacy-flows", action="store_true",
                    help="drive REV through the flows from before answer-first (its own buttons and questions)")
    ap.add_argument("--users", type=int, action="append", help="levels (default 1, 20, 50)")
    ap.add_argument("--turns", type=int, default=0, help="turns per level (default: 60/300/400 for 1/20/50 users)")
    ap.add_argument("--long", type=int, default=200, help="turns of the one long conversation (0: skip)")
    ap.add_argument("--enrolled", type=int, default=0,
                    help="enrolled people making check-ins (every fourth simulated person checks in as one of "
                         "them; default: one each, so no two simulated people share a chat)")
    ap.add_argument("--scale", action="store_true", help="scale-out run: see bench/scale.py")
    ap.add_argument("--json", help="write the numbers here")
    args = ap.parse_args()
    if args.scale:
        from bench.scale import main as scale_main  # noqa: PLC0415

        return scale_main(sys.argv[1:])

    levels = args.users or [1, 20, 50]
    global WORKLOAD
    WORKLOAD = args.workload
    args.enrolled = args.enrolled or max(levels) // 4 + 1
    turns = {n: args.turns or max(60, min(400, 15 * n)) for n in levels}
    print(f"machine: {os.cpu_count()} CPUs; load average {os.getloadavg()[0]:.1f}", flush=True)
    tmp = Path(tempfile.mkdtemp(prefix="loive-tp-"))
    trees = [("this tree", PROJECT_ROOT)]
    if args.compare:
        print(f"checking out {args.compare} …", flush=True)
        trees.insert(0, (args.compare, checkout(args.compare, tmp / "rev")))
    results: dict[str, dict] = {}
    try:
        for label, root in trees:
            (tmp / label.replace(" ", "_")).mkdir(parents=True, exist_ok=True)
            p = launch(label, root, tmp / label.replace(" ", "_"))
            p.legacy = args.legacy_flows and label == args.compare
            try:
                print(f"[{label}] ready in {wait_ready(p):.0f} s; enrolling {args.enrolled} people …", flush=True)
                enroll(p, args.enrolled)
                results[label] = measure(p, levels, turns, args.long)
            finally:
                p.stop()
    finally:
        if args.compare:
            remove_checkout(tmp / "rev" / "tree")
        shutil.rmtree(tmp, ignore_errors=True)
    for label, res in results.items():
        report(label, res)
    if args.compare and len(results) == 2:
        old, new = results[args.compare], results["this tree"]
        print(f"\nratio this tree / {args.compare}")
        for n in levels:
            a, b = old["levels"][n], new["levels"][n]
            print(f"{n:>5} users: turns/s ×{b.tps / a.tps:.2f}; p95 {pct(a.ms, 95):.0f} → {pct(b.ms, 95):.0f} ms; "
                  f"CPU/turn {1000 * a.cpu_s / a.turns:.0f} → {1000 * b.cpu_s / b.turns:.0f} ms")
    if args.json:
        Path(args.json).write_text(json.dumps({label: {
            "levels": {n: {"turns_s": lv.tps, "p50": pct(lv.ms, 50), "p95": pct(lv.ms, 95), "p99": pct(lv.ms, 99),
                           "errors": lv.errors, "unexpected": lv.unexpected, "cpu_ms_per_turn": 1000 * lv.cpu_s / max(1, lv.turns)}
                       for n, lv in res["levels"].items()},
            "long": res.get("long")} for label, res in results.items()}, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
