"""Issue 11, points 4–6, through the running product (its own instance, on
SQLite or, in the PostgreSQL pass, a PostgreSQL database of its own holding
app data and Rasa's trackers):

- every log line of every child (Rasa, action server, gateway, supervisor)
  after a full calculation, a crisis, an enrollment, a check-in and failing
  actions (a payload an action chokes on; the action server killed at the
  check-in's confirmation) holds none of the texts, values, codes or ids sent;
- a failing action or a killed action server gives the "busy, send again"
  reply, never an empty turn, and the unfinished check-in is confirmed after;
- /healthz shows the restart; malformed input is 4xx; an oversized body is
  refused with the gateway's memory flat; a slow client is cut off;
- files are the owner's only; the retention purge empties Rasa's tracker store.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import os
import signal
import socket
import stat
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, text

from bot import PROJECT_ROOT

from bot.delivery import scheduler
from bot.config import load_settings
from bot.conversation.core import tracker_engine
from bot.storage.db import make_engine, make_sessionmaker
from bot.storage.models import ChannelIdentity, Checkin
from tests.conftest import PG_URL
from harness.helpers import cmdline, descendants, private_database, start_product

pytestmark = pytest.mark.stack

BUSY = "Hệ thống đang bận, anh/chị vui lòng gửi lại sau ít phút."
TAG = os.urandom(3).hex()
NAME = f"Nguyễn Văn Bình {TAG}"
NOTE = f"nhà sắp hết gạo ở xóm Đồng Bèo {TAG}"
CRISIS = f"tôi muốn tự tử vì nợ anh Tư {TAG}"


@pytest.fixture(scope="module")
def prod(trained_model, tmp_path_factory, request):
    """A product of this module's own: its log holds only these conversations,
    and its action server is killed here."""
    tmp = tmp_path_factory.mktemp("faults")
    db = (private_database(request.getfixturevalue("pg_url")) if PG_URL
          else contextlib.nullcontext(f"sqlite:///{tmp / 'var' / 'loive.db'}"))
    with db as url:
        p = start_product(tmp, url)
        try:
            p.wait_ready()
            yield p
        finally:
            p.stop()


@pytest.fixture(scope="module")
def sent(prod) -> dict[str, list[str]]:
    """The conversations; returns what was sent, for the log checks."""
    env = dict(prod.env)

    def admin(*args: str) -> str:
        return subprocess.run([sys.executable, "-m", "bot", "admin", *args], cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]

    users = {k: f"{k}-{TAG}-uid" for k in ("calc", "choke", "crisis", "checkin")}
    texts: list[str] = []
    replies: dict[str, list] = {}

    def say(who: str, message: str) -> list[dict]:
        texts.append(message)
        out = prod.chat(users[who]).say(message)     # a browser with the page's cookie
        assert out, f"an empty turn for {message!r}"
        replies.setdefault(who, []).append(out)
        return out

    # A full calculation, with button payloads (Rasa used to log every slot for each).
    # Answer first (issue 14): the date once the sentence and its end are known, then an assumption corrected.
    for message in ("/calc_expungement", '/inform{"penalty_type": "prison"}', "tù 3 năm", "ra tù ngày 01/06/2023"):
        out = say("calc", message)
    assert any("Căn cứ" in r["text"] for r in out), out
    for message in ('/calc_expungement{"recheck": "exp_age_group"}', '/inform{"age_group": "adult"}'):
        out = say("calc", message)
    assert any("Căn cứ" in r["text"] for r in out), out
    # An action that chokes on a payload (a date that does not exist): busy, not silence.
    # (Another browser: after a result, "/calc_expungement" recomputes from the facts kept.)
    for message in ("/calc_expungement", '/inform{"penalty_type": "prison"}', "tù 3 năm"):
        say("choke", message)
    assert [r["text"] for r in say("choke", '/inform{"date": "2023-02-30"}')] != []

    # A crisis.
    assert "115" in say("crisis", CRISIS)[0]["text"]

    # Enrollment and a check-in, with the action server killed at the confirmation.
    commune = f"Xã Faults {TAG}"
    admin("add-commune", commune)
    mentor = admin("add-person", "--role", "mentor", "--name", f"Chị Lan {TAG}", "--commune", commune)
    sup = admin("add-person", "--role", "supervisee", "--name", NAME, "--commune", commune, "--mentor", mentor)
    code = admin("enroll-code", sup)
    say("checkin", code)
    say("checkin", "/affirm")
    for message in ("báo cáo", '/inform{"choice": "same"}', "dang tim viec"):
        say("checkin", message)
    for bad in ('/inform{"choice": "99"}', '/inform{"choice": "-3"}', '/inform{"choice": "1e30"}'):
        assert any("từ 1 đến 5" in r["text"] for r in say("checkin", bad)), bad
    say("checkin", "2")
    say("checkin", '/inform{"choice": "job"}')
    summary = say("checkin", NOTE)
    assert "Báo cáo của anh/chị" in summary[0]["text"] and "2/5" in summary[0]["text"]

    [actions] = [p for p in descendants(prod.proc.pid) if "rasa_sdk" in cmdline(p)]
    os.killpg(os.getpgid(actions), signal.SIGKILL)   # the server and its workers, at once
    assert [r["text"] for r in say("checkin", "/affirm")] == [BUSY]
    prod.wait_ready(timeout=120)
    done = say("checkin", "/affirm")
    assert done[0]["text"] == "Cảm ơn anh/chị, báo cáo đã được ghi nhận.", done
    engine = make_engine(env["DATABASE_URL"])
    with make_sessionmaker(engine)() as s:
        assert s.scalar(select(Checkin.wellbeing).where(Checkin.person_id == sup)) == 2
    engine.dispose()
    cookies = [prod.chat(name).cookie for name in users.values()]
    return {"texts": texts, "users": [*users.values(), *cookies], "chats": users, "code": [code],
            "replies": [replies]}


def test_a_failing_action_and_a_killed_action_server_give_the_busy_reply(sent):
    calc = sent["replies"][0]["choke"]
    assert calc[-1] == [{"text": BUSY, "buttons": []}]     # the action that choked on 2023-02-30


def test_no_log_line_of_any_child_holds_what_was_sent(prod, sent):
    time.sleep(1.0)  # the last lines through the supervisor's pipes
    log = prod.log()
    for child in ("rasa", "actions", "gateway", "run"):
        assert f"{child:>8} | " in log, child
    assert "Encountered an exception while running action" in log   # the failures were logged…
    secrets = [*sent["users"], *sent["code"], NAME, NOTE, CRISIS, "2023-06-01", "2023-02-30", "01/06/2023",
               "ra tù ngày", "dang tim viec", "exp_completed_on", "exp_prison_term", "ci_note",
               "penalty_type", "enrollment_code", "request_body", "sender_id"]
    secrets += [t for t in sent["texts"] if not t.startswith("/") and len(t) >= 6]
    for secret in secrets:
        for form in {secret, json.dumps(secret)[1:-1]}:
            lines = [line for line in log.splitlines() if form in line]
            assert not lines, (secret, lines[:3])


def test_healthz_and_the_log_show_the_restart(prod, sent):
    body = httpx.get(f"{prod.url}/healthz").json()
    actions = body["children"]["actions"]
    assert actions["restarts"] >= 1 and actions["state"] == "running"
    assert actions["last_exit"]["code"] == -signal.SIGKILL
    assert "actions exited unexpectedly" in prod.log() and "stopping everything" not in prod.log()


@pytest.mark.parametrize("body", [
    b"[" * 10_000 + b"]" * 10_000,
    b'{"user": "u", "text": "\\ud83d"}',
    b'{"user": "\\udc00", "text": "hi"}',
    b'{"user": "u", "text": "a\\u0000b"}',
    b'{"user": "nul\\u0000", "text": "hi"}',
])
def test_malformed_messages_are_4xx(prod, body):
    r = httpx.post(f"{prod.url}/api/messages", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text


@pytest.mark.parametrize("after", [str(2**63), str(10**30)])
def test_inbox_after_too_large_is_4xx(prod, after):
    assert prod.chat("inbox-after").http.get("/api/inbox", params={"after": after}).status_code == 400


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise AssertionError("no VmRSS")


def test_an_oversized_body_is_refused_with_memory_flat(prod):
    [gateway] = [p for p in descendants(prod.proc.pid) if "bot gateway" in cmdline(p)]
    before = _rss_mb(gateway)
    streamed = 0

    def chunks():
        nonlocal streamed
        for _ in range(1600):   # 100 MB, chunked (no Content-Length)
            streamed += 65536
            yield b"x" * 65536

    try:
        r = httpx.post(f"{prod.url}/api/messages", content=chunks(), timeout=60)
        assert r.status_code == 413
    except httpx.HTTPError:
        pass  # refused and closed while the client was still sending
    declared = httpx.post(f"{prod.url}/api/messages", content=b"x" * (10 * 1024 * 1024), timeout=60)
    assert declared.status_code == 413
    after = _rss_mb(gateway)
    assert streamed < 16 * 1024 * 1024, streamed
    assert after - before < 20, (before, after)


def test_a_slow_client_is_cut_off(prod):
    port = int(prod.env["LOIVE_PORT"])
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST /api/messages HTTP/1.1\r\nHost: x\r\n")   # and never the rest
        sock.settimeout(25)
        started = time.monotonic()
        assert sock.recv(1024) == b""
        assert time.monotonic() - started < 20
    assert httpx.get(f"{prod.url}/healthz").status_code == 200


def test_files_are_the_owners_only(prod):
    var = prod.var_dir
    assert stat.S_IMODE(var.stat().st_mode) == 0o700
    files = [p for p in var.iterdir() if p.is_file()]
    assert files
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) & 0o077 == 0, p.name
    if not PG_URL:
        assert {"loive.db", "rasa-trackers.db"} <= {p.name for p in files}


def test_retention_empties_the_real_tracker_store(prod, sent):
    """Last: the daily purge, run 91 days ahead on this product's databases,
    deletes Rasa's conversation histories and the chats that never enrolled."""
    settings = dataclasses.replace(load_settings(), database_url=prod.env["DATABASE_URL"],
                                   var_dir=prod.var_dir, rasa_tracker_url="", outbox_retention_days=90)
    trackers = tracker_engine(settings)
    engine = make_engine(prod.env["DATABASE_URL"])
    sessions = make_sessionmaker(engine)
    try:
        external = {who: prod.chat(name).external_id(prod.secret()) for who, name in sent["chats"].items()}
        with sessions() as s:
            ids = {who: s.scalar(select(ChannelIdentity.id).where(ChannelIdentity.external_id == e))
                   for who, e in external.items()}
        count = text("SELECT count(*) FROM events WHERE sender_id = :s")
        with trackers.connect() as conn:
            assert all(conn.execute(count, {"s": i}).scalar() > 0 for i in ids.values())
            newest = conn.execute(text("SELECT max(timestamp) FROM events")).scalar()
        # 91 days after the newest event (Rasa stamps them with its own clock) and after now.
        later = max(dt.datetime.fromtimestamp(newest, dt.timezone.utc),
                    dt.datetime.now(dt.timezone.utc)) + dt.timedelta(days=91)
        scheduler.tick(sessions, settings, later, trackers=lambda: trackers)
        with trackers.connect() as conn:
            assert all(conn.execute(count, {"s": i}).scalar() == 0 for i in ids.values())
        with sessions() as s:
            left = set(s.scalars(select(ChannelIdentity.external_id).where(
                ChannelIdentity.external_id.in_(external.values()))))
        assert left == {external["checkin"]}      # the enrolled person's chat stays
    finally:
        trackers.dispose()
        engine.dispose()
