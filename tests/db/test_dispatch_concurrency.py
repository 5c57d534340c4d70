"""The outbox delivery protocol under concurrency, crashes and rate limits, on
SQLite and PostgreSQL, against a local platform over real HTTP
(``harness/fakes/channel.py``: 30 messages/s, 429 beyond, every delivery
recorded) and against the web inbox.

* Two dispatchers on one database deliver every reminder exactly once.
* A dispatcher SIGKILLed mid-batch loses nothing and repeats nothing: its
  interrupted sends come back in doubt after the lease and are resolved by
  asking the channel (``delivered()``), not by sending again.
* A 429 holds the channel and retries the row later; it is not a failure.
* A send whose outcome is unknown (timeout) is asked about before a retry.

Nothing here measures time: tests wait for conditions with generous timeouts.
Rows are due on a pinned day in 2090 (see ``harness.fakes.population``), and
each test looks only at its own rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable

import anyio
import httpx
import pytest
from sqlalchemy import update

from bot import PROJECT_ROOT, outbox
from bot.delivery.dispatcher import Dispatcher
from bot.domain.knowledge import KnowledgeBase
from bot.storage.db import make_engine, make_sessionmaker
from bot.storage.models import OutboxMessage
from harness.fakes.channel import FakeChannel, FakeSender
from harness.fakes.population import TEST_NOW, WallClock, add_people, enqueue_due, rows, statuses, web_inbox_keys

KB = KnowledgeBase.load()
DUE = TEST_NOW - dt.timedelta(hours=1)
NO_WATCHDOG = 1e12   # the scheduler heartbeat is not under test (and the database may be shared)


@pytest.fixture
def sessions(own_sessions):  # these dispatchers need a database of their own
    return own_sessions


def due_rows(sessions, n: int, channel: str) -> list[str]:
    with sessions.begin() as s:
        return enqueue_due(s, add_people(s, n, channel), DUE)


def wait_for(condition: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(0.02)


def all_sent(sessions, keys: list[str]) -> Callable[[], bool]:
    def check() -> bool:
        with sessions() as s:
            return set(statuses(s, keys).values()) == {"sent"}
    return check


def count_status(sessions, keys: list[str], status: str) -> int:
    with sessions() as s:
        return sum(1 for v in statuses(s, keys).values() if v == status)


# --- the fake platform itself -------------------------------------------------------------


def test_the_fake_platform_enforces_30_per_second_and_records_every_delivery():
    now = [0.0]
    fake = FakeChannel(clock=lambda: now[0])    # time stands still until moved
    with fake.serve() as url, httpx.Client(base_url=url) as http:
        answers = [http.post("/send", json={"key": f"k{i}", "chat": "c", "text": "x"}) for i in range(40)]
        assert [r.status_code for r in answers] == [200] * 30 + [429] * 10
        assert answers[-1].json()["retry_after"] == 1.0
        now[0] += 0.5                            # half a second refills 15
        answers = [http.post("/send", json={"key": "k0", "chat": "c", "text": "x"}) for i in range(16)]
        assert [r.status_code for r in answers] == [200] * 15 + [429]
        assert http.get("/delivered", params={"key": "k0"}).json() == {"delivered": True}
        assert http.get("/delivered", params={"key": "k39"}).json() == {"delivered": False}   # refused, not delivered
        assert http.post("/send", json={"key": "k", "chat": ""}).status_code == 400
    assert fake.counts()["k0"] == 16 and len(fake.deliveries()) == 45 and len(fake.rejected()) == 11


# --- two dispatchers ------------------------------------------------------------------


def test_two_dispatchers_deliver_each_reminder_exactly_once(own_db_url, sessions):
    n = 300
    keys = due_rows(sessions, n, "fake")
    fake = FakeChannel()                       # 30 msg/s
    clock = WallClock()
    running: list[tuple[asyncio.AbstractEventLoop, asyncio.Event]] = []
    dispatchers: list[Dispatcher] = []
    errors: list[BaseException] = []

    def dispatcher_thread(i: int, url: str) -> None:
        engine = make_engine(own_db_url)          # its own engine and pool, as a separate replica would have
        sender = FakeSender(url, per_second=15)   # each replica gets half of the platform's limit
        d = Dispatcher(make_sessionmaker(engine), {"fake": sender}, KB, worker=f"two-{i}-{os.urandom(2).hex()}",
                       batch=20, clock=clock)
        dispatchers.append(d)

        async def main() -> None:
            stop = asyncio.Event()
            running.append((asyncio.get_running_loop(), stop))
            try:
                await d.run(stop, idle_s=0.2, watchdog_every_s=NO_WATCHDOG)
            finally:
                await sender.aclose()
        try:
            asyncio.run(main())
        except BaseException as exc:  # noqa: BLE001 (reported below)
            errors.append(exc)
        finally:
            engine.dispose()

    with fake.serve() as url:
        threads = [threading.Thread(target=dispatcher_thread, args=(i, url)) for i in range(2)]
        for t in threads:
            t.start()
        try:
            wait_for(all_sent(sessions, keys), 180, "every row sent")
        finally:
            wait_for(lambda: len(running) == 2 or errors, 30, "both loops")
            for loop, stop in running:
                loop.call_soon_threadsafe(stop.set)
            for t in threads:
                t.join(60)
    assert not errors, errors
    assert fake.counts(keys) == {k: 1 for k in keys}             # none missing, none twice
    with sessions() as s:
        mine = rows(s, keys)
    assert {r.status for r in mine} == {"sent"} and not any(r.in_doubt for r in mine)
    by_worker = Counter(r.claimed_by for r in mine)               # mark_sent keeps the claimant
    assert set(by_worker) == {d.worker for d in dispatchers}, by_worker  # both took part


# --- kill -9 ----------------------------------------------------------------------------


def start_worker(own_db_url: str, channel: str, clock: WallClock, log, *, fake_url: str = "", rate: float = 30,
                 offset_s: float = 0.0) -> subprocess.Popen[str]:
    cmd = [sys.executable, "-m", "harness.fakes.dispatch_worker", "--db", own_db_url, "--channel", channel,
           "--fake-url", fake_url, "--rate", str(rate), "--idle-s", "0.2", "--no-watchdog", *clock.args(offset_s)]
    return subprocess.Popen(cmd, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, stderr=log, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def report(proc: subprocess.Popen[str]) -> dict:
    """Stop a worker as a deployment would (SIGTERM) and read its counters."""
    proc.send_signal(signal.SIGTERM)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode == 0, out
    return json.loads([line for line in out.splitlines() if line.startswith("{")][-1])


@pytest.mark.parametrize("channel", ["fake", "web"])
def test_kill_9_mid_batch_loses_nothing_and_repeats_nothing(own_db_url, sessions, channel, tmp_path):
    n = 300
    keys = due_rows(sessions, n, channel)
    # The platform records a message, then answers 0.3 s later: a worker killed
    # meanwhile leaves messages that arrived but were never confirmed.
    fake = FakeChannel(delay_s=0.3)
    clock = WallClock()
    log = open(tmp_path / "workers.log", "w")

    def arrived() -> int:
        if channel == "fake":
            return fake.delivered_count(keys)
        with sessions() as s:
            return len(set(web_inbox_keys(s, keys)))

    with contextlib.ExitStack() as stack:
        stack.callback(log.close)
        url = stack.enter_context(fake.serve()) if channel == "fake" else ""
        rate = 30 if channel == "fake" else 50   # a few seconds for the whole batch
        first = start_worker(own_db_url, channel, clock, log, fake_url=url, rate=rate)
        stack.callback(lambda: first.poll() is None and first.kill())
        wait_for(lambda: arrived() >= n // 5 and (channel == "web" or count_status(sessions, keys, "sending") > 0),
                 120, "some deliveries, with sends in flight")
        first.send_signal(signal.SIGKILL)
        first.wait(30)
        with sessions() as s:
            at_kill = statuses(s, keys)
        delivered_at_kill = arrived()
        in_doubt = {k for k, v in at_kill.items() if v == "sending"}
        assert 0 < delivered_at_kill < n, delivered_at_kill
        assert set(at_kill.values()) - {"sent"}, "killed after the last send: nothing left to recover"
        if channel == "fake":
            assert in_doubt, "no send was in flight at the kill"

        # A new worker, started after the dead one's lease (its clock is 6 minutes on).
        second = start_worker(own_db_url, channel, clock, log, fake_url=url, rate=rate,
                              offset_s=outbox.LEASE.total_seconds() + 60)
        stack.callback(lambda: second.poll() is None and second.kill())
        wait_for(all_sent(sessions, keys), 180, "every row sent after the restart")
        result = report(second)

    if channel == "fake":
        assert fake.counts(keys) == {k: 1 for k in keys}
    else:
        with sessions() as s:
            assert Counter(web_inbox_keys(s, keys)) == {k: 1 for k in keys}
    with sessions() as s:
        final = rows(s, keys)
    assert {r.status for r in final} == {"sent"} and not any(r.in_doubt for r in final)
    # Exactly the interrupted sends were asked about, and the channel could tell.
    assert set(result["asked"]) & set(keys) == in_doubt
    stats = result["stats"]
    assert stats.get("in_doubt_resent", 0) == 0
    assert stats.get("in_doubt_confirmed", 0) + stats.get("in_doubt_not_arrived", 0) >= len(in_doubt)
    if channel == "fake":
        assert stats.get("in_doubt_confirmed", 0) >= 1   # arrived before the kill: not sent again


# --- rate limits and unknown outcomes ---------------------------------------------------------


async def run_until(d: Dispatcher, done: Callable[[], bool], timeout: float) -> None:
    stop = asyncio.Event()
    task = asyncio.create_task(d.run(stop, idle_s=0.1, watchdog_every_s=NO_WATCHDOG))
    try:
        deadline = time.monotonic() + timeout
        while not await anyio.to_thread.run_sync(done):
            assert time.monotonic() < deadline, "timed out"
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await task
        for sender in d.senders.values():
            await sender.aclose()


def test_a_429_holds_the_channel_and_retries_later_without_counting_a_failure(sessions):
    n = 30
    keys = due_rows(sessions, n, "fake")
    # A platform that takes 10 a second after a burst of 3: even a machine so busy
    # that the dispatcher commits only a few dozen rows a second overruns it.
    fake = FakeChannel(per_second=10, capacity=3)
    with fake.serve() as url:
        sender = FakeSender(url, per_second=300)    # thirty times what the platform accepts
        d = Dispatcher(sessions, {"fake": sender}, KB, clock=WallClock())
        asyncio.run(run_until(d, all_sent(sessions, keys), 120))
    rejected = fake.rejected()
    assert rejected, "the platform never said 429"
    assert d.stats["rate_limited"] == len(rejected)
    assert d.stats["failed_attempts"] == 0
    assert fake.counts(keys) == {k: 1 for k in keys}
    with sessions() as s:
        final = {r.key: r for r in rows(s, keys)}
    assert {r.status for r in final.values()} == {"sent"}
    assert {r.attempts for r in final.values()} == {0}            # a 429 is not an attempt
    for key, _ in rejected:
        assert final[key].next_attempt_at > final[key].due_at   # put back for later
        assert final[key].last_error == "rate limited"


class GatedSender(FakeSender):
    """Lets the first ``let_through`` sends go and holds the others until ``gate`` opens,
    so that a test can stop a dispatcher at a known point whatever the machine's load."""

    def __init__(self, url: str, let_through: int) -> None:
        super().__init__(url)
        self.let_through, self.started, self.held = let_through, 0, 0
        self.gate = asyncio.Event()

    async def send(self, msg) -> None:  # noqa: ANN001
        self.started += 1
        if self.started > self.let_through:
            self.held += 1
            await self.gate.wait()
        await super().send(msg)


def test_stopping_gives_back_the_rows_not_yet_started(sessions):
    keys = due_rows(sessions, 60, "fake")
    fake = FakeChannel()
    with fake.serve() as url:
        # Batches of 10, ten sends at a time. The first 15 sends go through; the next ten are
        # held: five of the second batch and five of the third, which then fill every slot,
        # so the third batch's other five rows wait, claimed, and the loop waits for the
        # second batch. That is when the stop comes (a fixed point, not a moment in time).
        sender = GatedSender(url, let_through=15)
        d = Dispatcher(sessions, {"fake": sender}, KB, clock=WallClock(), batch=10, concurrency=10)

        async def stop_while_rows_wait() -> None:
            stop = asyncio.Event()
            task = asyncio.create_task(d.run(stop, idle_s=0.1, watchdog_every_s=NO_WATCHDOG))
            deadline = time.monotonic() + 60
            while not (sender.held == 10
                       and await anyio.to_thread.run_sync(count_status, sessions, keys, "claimed") == 5):
                assert time.monotonic() < deadline and not task.done(), "timed out"
                await asyncio.sleep(0.05)
            assert fake.delivered_count(keys) == 15
            stop.set()
            sender.gate.set()      # the sends under way finish
            await task
            await sender.aclose()

        asyncio.run(stop_while_rows_wait())
        with sessions() as s:
            left = Counter(statuses(s, keys).values())
        assert left == {"sent": 25, "pending": 35}, left   # nothing stays claimed until its lease runs out
        assert d.stats["released"] == 5                     # the five that waited were given back
        d2 = Dispatcher(sessions, {"fake": FakeSender(url)}, KB, clock=WallClock())
        asyncio.run(run_until(d2, all_sent(sessions, keys), 60))
    assert fake.counts(keys) == {k: 1 for k in keys}


def test_a_send_that_timed_out_is_asked_about_before_a_retry(sessions):
    [key] = due_rows(sessions, 1, "fake")
    fake = FakeChannel(delay_s=3.0)             # delivers, but answers after the sender gave up
    clock = WallClock()
    with fake.serve() as url:
        d = Dispatcher(sessions, {"fake": FakeSender(url, timeout_s=0.5)}, KB, clock=clock)
        asyncio.run(d.run_once())
        assert d.stats["failed_attempts"] == 1
        with sessions() as s:
            [row] = rows(s, [key])
        assert (row.status, row.attempts, row.in_doubt) == ("pending", 1, True)
        fake.delay_s = 0.0
        clock.advance(120)                      # past the first back-off
        asyncio.run(d.run_once())
    assert fake.counts([key]) == {key: 1}
    assert d.stats["in_doubt_confirmed"] == 1
    with sessions() as s:
        [row] = rows(s, [key])
    assert (row.status, row.in_doubt) == ("sent", False)


def test_a_failing_delivered_query_backs_off_that_row_only(sessions):
    keys = due_rows(sessions, 3, "fake")
    fake = FakeChannel(delivered_failures=1)    # the platform's lookup fails once
    clock = WallClock()
    with fake.serve() as url:
        httpx.post(f"{url}/send", json={"key": keys[0], "chat": "earlier", "text": "x"}).raise_for_status()
        with sessions.begin() as s:             # an interrupted send, back from its lease
            s.execute(update(OutboxMessage).where(OutboxMessage.key == keys[0]).values(in_doubt=True))
        d = Dispatcher(sessions, {"fake": FakeSender(url)}, KB, clock=clock)
        asyncio.run(d.run_once())               # the other rows of the batch go out
        with sessions() as s:
            assert statuses(s, keys) == {keys[0]: "pending", keys[1]: "sent", keys[2]: "sent"}
            [row] = rows(s, keys[:1])
        assert (row.attempts, row.in_doubt) == (1, True)
        clock.advance(120)
        asyncio.run(d.run_once())
    assert fake.counts(keys) == {k: 1 for k in keys}
    assert d.stats["in_doubt_confirmed"] == 1
