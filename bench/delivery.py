"""Reminder delivery numbers: how fast the outbox drains through a rate-limited
channel, whether anything is lost or sent twice, and how fast rows are claimed.

    .venv/bin/python bench/delivery.py                      # 10 000 reminders, SQLite and PostgreSQL
    .venv/bin/python bench/delivery.py --n 2000 --db sqlite
    .venv/bin/python bench/delivery.py --db postgresql --kill    # SIGKILL the dispatcher midway, restart it
    .venv/bin/python bench/delivery.py --workers 2               # two dispatcher processes, 15 msg/s each

For each database (a throwaway PostgreSQL database created and dropped at
``--pg-url``, a temporary SQLite file): N supervisees, each with a monthly
check-in window and one chat on a local fake platform (real HTTP on loopback,
``harness/fakes/channel.py``) that accepts 30 messages/s (token bucket, 429 with
``retry_after`` beyond). ``bot.supervision.reminders`` generates their reminders with the
clock pinned at 10:00 on the eve of the window, so N are due at once. The real
``Dispatcher`` then delivers them, in ``--workers`` separate processes
(``harness/fakes/dispatch_worker.py``), each paced at its share of 30 msg/s.

Reported: time to drain (from "go" to the last first arrival at the
platform), the achieved rate as a fraction of the 30 msg/s allowed, 429s,
duplicates and lost messages counted on the platform's side and checked
against the database; then the claim throughput with no rate limit
(``outbox.claim`` + ``outbox.mark_sent`` in batches; 1 and 4 claimers; and
with a commit per row and phase, as the dispatcher does). The last line is
always ``drain_s=… rate_fraction=… duplicates=… lost=…`` (the worst of the
databases run: longest drain, lowest fraction, all duplicates and losses).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
from sqlalchemy import insert, select
from sqlalchemy.engine import make_url

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bot import PROJECT_ROOT, outbox  # noqa: E402

from bot.supervision import reminders  # noqa: E402
from vietnamese.clock import VIETNAM_TZ  # noqa: E402
from bot.storage.db import make_engine, make_sessionmaker  # noqa: E402
from bot.storage.migrate import upgrade  # noqa: E402
from bot.storage.models import OutboxMessage  # noqa: E402
from harness.fakes.channel import PLATFORM_RATE, FakeChannel  # noqa: E402
from harness.fakes.population import WallClock, add_people, statuses  # noqa: E402

# Monday 30/11/2026, 10:00 in Vietnam: the eve of December's reporting window.
BENCH_NOW = dt.datetime(2026, 11, 30, 10, 0, tzinfo=VIETNAM_TZ).astimezone(dt.timezone.utc)
DEFAULT_PG = os.environ.get("LOIVE_BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") \
    or "postgresql://root@127.0.0.1:5432/test"


@contextlib.contextmanager
def throwaway_db(kind: str, pg_url: str) -> Iterator[str]:
    if kind == "sqlite":
        with tempfile.TemporaryDirectory(prefix="loive-bench-") as tmp:
            yield f"sqlite:///{tmp}/bench.db"
        return
    name = f"loive_bench_{uuid.uuid4().hex[:10]}"
    admin = make_url(pg_url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield make_url(pg_url).set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def populate(url: str, n: int) -> list[str]:
    """N supervisees with a fake-platform chat; their due reminders' keys."""
    engine = make_engine(url)
    upgrade(engine)
    sessions = make_sessionmaker(engine)
    with sessions.begin() as s:
        add_people(s, n, "fake", schedule_created=BENCH_NOW - dt.timedelta(days=60))
    with sessions.begin() as s:
        reminders.checkin_reminders(s, BENCH_NOW)
    with sessions() as s:
        keys = list(s.scalars(select(OutboxMessage.key).where(OutboxMessage.next_attempt_at <= BENCH_NOW,
                                                         OutboxMessage.status == "pending")))
    engine.dispose()
    return keys


# --- dispatcher processes -----------------------------------------------------------


@dataclass
class Worker:
    proc: subprocess.Popen[str]
    lines: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._ready = threading.Event()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))
            if line.strip() == "ready":
                self._ready.set()

    def wait_ready(self, timeout: float = 120.0) -> None:
        if not self._ready.wait(timeout):
            raise RuntimeError(f"dispatcher not ready; exit code {self.proc.poll()}")

    def go(self) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write("go\n")
        self.proc.stdin.flush()

    def stop(self, timeout: float = 60.0) -> dict:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            self.proc.wait(timeout)
        time.sleep(0.1)
        for line in reversed(self.lines):
            if line.startswith("{"):
                return json.loads(line)
        return {}


def start_worker(url: str, fake_url: str, rate: float, clock: WallClock, args: argparse.Namespace,
                 offset_s: float = 0.0) -> Worker:
    cmd = [sys.executable, "-m", "harness.fakes.dispatch_worker", "--db", url, "--channel", "fake",
           "--fake-url", fake_url, "--rate", repr(rate), "--batch", str(args.batch),
           "--concurrency", str(args.concurrency), "--wait-go", *clock.args(offset_s)]
    proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return Worker(proc)


@dataclass
class Drain:
    drain_s: float
    rate_fraction: float
    duplicates: int
    lost: int
    rejected: int
    not_sent: int
    unexpected: int
    killed_at: int | None
    left_at_kill: dict[str, int]
    stats: dict[str, int]

    def line(self) -> str:
        return (f"drain_s={self.drain_s:.1f} rate_fraction={self.rate_fraction:.3f} "
                f"duplicates={self.duplicates} lost={self.lost}")


def drain(url: str, keys: list[str], args: argparse.Namespace) -> Drain:
    n = len(keys)
    fake = FakeChannel(per_second=PLATFORM_RATE, delay_s=args.latency_ms / 1000)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    share = args.rate / args.workers
    killed_at = None
    left_at_kill: dict[str, int] = {}
    with fake.serve() as fake_url:
        clock = WallClock(BENCH_NOW)
        workers = [start_worker(url, fake_url, share, clock, args) for _ in range(args.workers)]
        finished: list[Worker] = []
        try:
            for w in workers:
                w.wait_ready()
            t0 = time.monotonic()
            for w in workers:
                w.go()
            deadline = t0 + n / args.rate * 3 + 600
            next_db_check = 0.0
            while True:
                time.sleep(0.05)
                now = time.monotonic()
                if now > deadline:
                    raise RuntimeError(f"not drained after {now - t0:.0f} s: "
                                       f"{fake.delivered_count(keys)}/{n} delivered")
                got = fake.delivered_count(keys)
                if args.kill and killed_at is None and got >= n // 2 + args.batch // 3:  # mid-batch
                    for w in workers:
                        w.proc.send_signal(signal.SIGKILL)
                        w.proc.wait()
                    killed_at = got
                    with sessions() as s:
                        at_kill = list(statuses(s, keys).values())
                    left_at_kill = {st: at_kill.count(st) for st in ("claimed", "sending", "pending")}
                    finished += workers
                    # The new process's clock is past the dead one's lease, as if
                    # it were started 6 minutes later: its rows come back at once.
                    offset = outbox.LEASE.total_seconds() + 60
                    workers = [start_worker(url, fake_url, share, clock, args, offset) for _ in range(args.workers)]
                    for w in workers:
                        w.wait_ready()
                        w.go()
                if got == n and now >= next_db_check:
                    next_db_check = now + 1.0
                    with sessions() as s:
                        if all(v == "sent" for v in statuses(s, keys).values()):
                            break
        except BaseException:
            for w in workers + finished:
                if w.proc.poll() is None:
                    w.proc.kill()
            raise
        stats: dict[str, int] = {}
        for w in workers:
            for k, v in w.stop().get("stats", {}).items():
                stats[k] = stats.get(k, 0) + v
        for w in finished:
            w.stop()
        time.sleep(0.2)
        deliveries = fake.deliveries()
    with sessions() as s:
        final = statuses(s, keys)
    engine.dispose()
    wanted = set(keys)
    first: dict[str, float] = {}
    counts: dict[str, int] = {}
    unexpected = 0
    for d in deliveries:
        if d.key not in wanted:
            unexpected += 1
            continue
        counts[d.key] = counts.get(d.key, 0) + 1
        first.setdefault(d.key, d.at)
    drain_s = max(first.values()) - t0 if first else float("nan")
    return Drain(drain_s=drain_s, rate_fraction=n / drain_s / PLATFORM_RATE if first else 0.0,
                 duplicates=sum(c - 1 for c in counts.values()), lost=n - len(counts), rejected=len(fake.rejected()),
                 not_sent=sum(1 for v in final.values() if v != "sent"), unexpected=unexpected, killed_at=killed_at,
                 left_at_kill=left_at_kill, stats=stats)


# --- claim throughput ---------------------------------------------------------------


def add_claimable(url: str, m: int) -> None:
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    tag = uuid.uuid4().hex[:8]
    with sessions.begin() as s:
        person = s.scalar(select(OutboxMessage.person_id).limit(1))
        due = BENCH_NOW - dt.timedelta(minutes=1)
        s.execute(insert(OutboxMessage), [{"key": f"claim:{tag}:{i}", "kind": "streak", "person_id": person,
                                      "due_at": due, "next_attempt_at": due, "critical": False, "status": "pending",
                                      "attempts": 0, "in_doubt": False} for i in range(m)])
    engine.dispose()


def claim_rate(url: str, m: int, batch: int, claimers: int, per_row_commits: bool) -> float:
    """Rows claimed and marked sent per second until ``m`` new rows are done."""
    add_claimable(url, m)
    engine = make_engine(url)
    sessions = make_sessionmaker(engine)
    done = [0] * claimers
    errors: list[BaseException] = []

    def work(i: int) -> None:
        me = f"bench-claimer-{i}"
        try:
            while True:
                now = BENCH_NOW
                with sessions.begin() as s:
                    ids = outbox.claim(s, me, now, limit=batch)
                    if not per_row_commits:
                        for rid in ids:
                            outbox.mark_sent(s, rid, me, now)
                if per_row_commits:
                    for rid in ids:
                        with sessions.begin() as s:
                            outbox.mark_sending(s, rid, me, now, "x")
                        with sessions.begin() as s:
                            outbox.mark_sent(s, rid, me, now)
                if not ids:
                    return
                done[i] += len(ids)
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(claimers)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    elapsed = time.perf_counter() - t0
    engine.dispose()
    if errors:
        raise errors[0]
    if sum(done) != m:
        raise RuntimeError(f"claimed {sum(done)} rows, expected {m}")
    return m / elapsed


# --- main ---------------------------------------------------------------------------


def run_db(kind: str, args: argparse.Namespace) -> Drain:
    label = f"[{kind}]"
    with throwaway_db(kind, args.pg_url) as url:
        t = time.perf_counter()
        keys = populate(url, args.n)
        print(f"{label} {args.n} supervisees, {len(keys)} reminders due at once "
              f"(setup {time.perf_counter() - t:.1f} s); platform limit {PLATFORM_RATE:g} msg/s, "
              f"{args.workers} dispatcher process(es) at {args.rate / args.workers:g} msg/s each; "
              f"platform answers after {args.latency_ms:g} ms"
              + ("; SIGKILL at half-way, then a restart" if args.kill else ""), flush=True)
        result = drain(url, keys, args)
        s = result.stats
        print(f"{label} drained in {result.drain_s:.1f} s = {len(keys) / result.drain_s:.2f} msg/s; "
              f"429s {result.rejected}; rows not sent {result.not_sent}; other keys delivered {result.unexpected}",
              flush=True)
        if args.kill:
            left = result.left_at_kill
            print(f"{label} killed after {result.killed_at} deliveries, leaving {left.get('sending', 0)} rows "
                  f"mid-send, {left.get('claimed', 0)} claimed, {left.get('pending', 0)} pending; "
                  f"the restarted dispatcher found "
                  f"{s.get('in_doubt_confirmed', 0)} in doubt that had arrived (not resent), "
                  f"{s.get('in_doubt_not_arrived', 0)} in doubt that had not (sent), "
                  f"{s.get('in_doubt_resent', 0)} unknown (resent)", flush=True)
        print(f"{label} dispatcher counters: {json.dumps(s, sort_keys=True)}", flush=True)
        print(f"{label} {result.line()}", flush=True)
        m = args.claim_n or args.n
        rates = [f"{claimers} claimer{'s' if claimers > 1 else ''} {claim_rate(url, m, args.batch, claimers, False):,.0f}/s"
                 for claimers in (1, 4)]
        per_row = claim_rate(url, m, args.batch, 1, True)
        print(f"{label} claim throughput, no rate limit ({m} rows, batches of {args.batch}, claim + mark_sent "
              f"in one transaction): {'; '.join(rates)}; with a commit per row and phase (as the dispatcher): "
              f"{per_row:,.0f}/s", flush=True)
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000, help="reminders due at once")
    ap.add_argument("--db", choices=("sqlite", "postgresql", "both"), default="both")
    ap.add_argument("--pg-url", default=DEFAULT_PG, help="PostgreSQL server for the throwaway database")
    ap.add_argument("--workers", type=int, default=1, help="dispatcher processes")
    ap.add_argument("--kill", action="store_true", help="SIGKILL the dispatcher(s) half-way, then restart")
    ap.add_argument("--rate", type=float, default=PLATFORM_RATE, help="total pacing of the dispatchers, msg/s")
    ap.add_argument("--latency-ms", type=float, default=0.0,
                    help="the platform answers this late (after recording the message)")
    ap.add_argument("--batch", type=int, default=100)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--claim-n", type=int, default=0, help="rows for the claim throughput (default: --n)")
    args = ap.parse_args()
    print(f"machine: {os.cpu_count()} CPUs, Python {sys.version.split()[0]}", flush=True)
    kinds = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    results = [run_db(kind, args) for kind in kinds]
    worst = Drain(drain_s=max(r.drain_s for r in results), rate_fraction=min(r.rate_fraction for r in results),
                  duplicates=sum(r.duplicates for r in results), lost=sum(r.lost for r in results), rejected=0,
                  not_sent=0, unexpected=0, killed_at=None, left_at_kill={}, stats={})
    print(worst.line(), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
