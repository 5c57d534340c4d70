"""Past one machine, on one machine: two Rasa replicas (PostgreSQL trackers, the
Redis lock store) and two gateways behind nginx with deploy/nginx.conf, each part
started alone (`python -m bot rasa|actions|gateway`). One replica is killed in
the middle of the conversations: no turn is lost, none applied out of order or
twice (read back from the tracker store). Nothing here is timed."""

from __future__ import annotations

import asyncio
import shutil
import socket

import pytest

from bench.scale import NGINX, check, run_load, start_stack
from harness.helpers import private_database

pytestmark = [pytest.mark.stack, pytest.mark.postgres]
REDIS = ("127.0.0.1", 6379)


def _redis_up() -> bool:
    try:
        with socket.create_connection(REDIS, timeout=2) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


def test_a_killed_rasa_replica_loses_no_turn_and_keeps_the_order(trained_model, pg_url, tmp_path):
    assert shutil.which("nginx") or shutil.os.path.exists(NGINX), "nginx missing: `make browser` installs it"
    if not _redis_up():
        pytest.skip(f"Redis not reachable at {REDIS[0]}:{REDIS[1]}")
    with private_database(pg_url) as db_url:
        stack = start_stack(tmp_path, db_url, f"redis://{REDIS[0]}:{REDIS[1]}/7", replicas=2, gateways=2)
        try:
            res = asyncio.run(run_load(stack, users=6, turns_per_user=8, kill="rasa1", kill_after=0.3))
            assert res.killed_at is not None and stack.part("rasa1").proc.poll() is not None
            counts = check(db_url, res)
            assert res.turns == 48
            assert counts == {"lost": 0, "out_of_order": 0, "duplicated": 0}, (counts, res.failed, stack.problems())
            # The other replica answers everything from now on.
            assert "rasa replica unavailable" in "".join(
                p.log.read_text(errors="replace") for p in stack.parts if p.name.startswith("gateway"))
        finally:
            stack.stop()
