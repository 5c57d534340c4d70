"""Faults degrade visibly and never stop the service (issue 11, point 5), below
the running product: a real gateway app served over HTTP against closed or
silent Rasa ports, the real h11 request deadlines on real sockets, the real
supervisor with a real crashing child, and the malformed inputs that used to
give 500."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import socket
import stat
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, HTTPServer

import httpx
import pytest
import uvicorn

from actions.checkin import extract, wellbeing_of
from bot.runtime import supervisor as sup
from bot.conversation.inbound import MAX_JSON_DEPTH, parse_json
from bot.channels.web import MAX_BODY_BYTES
from bot.config import load_settings
from bot.app import create_app
from bot.runtime.http import DeadlineH11Protocol, uvicorn_options
from bot.storage.db import make_engine
from harness.helpers import WebChat, free_port, serve

BUSY_VI = "Hệ thống đang bận, anh/chị vui lòng gửi lại sau ít phút."
BUSY_EN = "The system is busy, please send your message again in a few minutes."


# --- malformed JSON ---------------------------------------------------------------------------


@pytest.mark.parametrize("body", [
    b"[" * 10_000 + b"]" * 10_000,
    b'{"a": ' * 10_000 + b"1" + b"}" * 10_000,
    b'{"user": "u", "text": "\\ud800"}',
    b'{"user": "\\udfff", "text": "hi"}',
    b'{"user": "u", "text": "a\\u0000b"}',
    b'{"user": "u", "text": "hi", "x": {"\\u0000": 1}}',
    ("[" * (MAX_JSON_DEPTH + 1) + "]" * (MAX_JSON_DEPTH + 1)).encode(),
    b"\xff\xfe",
])
def test_parse_json_refuses_what_no_handler_can_store(body):
    with pytest.raises(ValueError):
        parse_json(body)


def test_parse_json_keeps_ordinary_documents():
    nested = json.loads("[" * (MAX_JSON_DEPTH - 1) + "]" * (MAX_JSON_DEPTH - 1))
    assert parse_json(json.dumps({"user": "u", "text": "Tôi 😀 muốn vay", "deep": nested})) is not None


class _Rasa(BaseHTTPRequestHandler):
    """A Rasa REST channel that answers every turn with nothing (what Rasa does
    when a custom action fails) or, for "/boom", with HTTP 500."""

    def do_POST(self):  # noqa: N802
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        out, status = (b"[]", 200) if body["message"] != "/boom" else (b"{}", 500)
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)

    def do_GET(self):  # noqa: N802
        self.send_response(503)
        self.end_headers()

    def log_message(self, *a):  # noqa: ANN002
        pass


@pytest.fixture
def silent_rasa():
    server = HTTPServer(("127.0.0.1", 0), _Rasa)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_port
    server.shutdown()


@pytest.fixture
def gateway(db_url, tmp_path, silent_rasa):
    settings = dataclasses.replace(load_settings(), database_url=db_url, rasa_port=silent_rasa,
                                   actions_port=free_port(), var_dir=tmp_path / "var", scheduler=False)
    with serve(create_app(settings)) as url:
        yield url


@pytest.mark.parametrize("body, error", [
    (b"[" * 10_000 + b"]" * 10_000, "body must be valid JSON"),
    (b'{"user": "u", "text": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5001, "body must be valid JSON"),
    (b'{"user": "u", "text": "\\ud800"}', "lone surrogate"),
    (b'{"user": "\\ud800x", "text": "hi"}', "lone surrogate"),
    (b'{"user": "u", "text": "a\\u0000b"}', "NUL character"),
    (b'{"user": "a\\u0000", "text": "hi"}', "NUL character"),
])
def test_malformed_messages_are_400_never_500(gateway, body, error):
    r = httpx.post(f"{gateway}/api/messages", content=body, headers={"Content-Type": "application/json"})
    assert r.status_code == 400, r.text
    assert error in r.json()["error"] and "Traceback" not in r.text


@pytest.mark.parametrize("after, status", [(str(2**63), 400), (str(2**64 + 5), 400), ("9" * 40, 400),
                                           (str(2**63 - 1), 200), ("0", 200)])
def test_inbox_after_beyond_a_bigint_is_400(gateway, after, status):
    r = WebChat(gateway).http.get("/api/inbox", params={"after": after})
    assert r.status_code == status, r.text
    assert status != 200 or r.json() == {"messages": []}


def test_inbox_identities_that_cannot_be_stored_are_4xx(gateway):
    """The inbox's identity is the signed cookie; a ``user`` that could not be
    stored (NUL, a lone surrogate) is never looked up, and a forged cookie
    holding one is refused: 4xx, never 500."""
    assert httpx.get(f"{gateway}/api/inbox?user=a%00b&after=0").status_code == 401
    assert httpx.get(f"{gateway}/api/inbox?after=0", headers={"Cookie": "loive_web=a%00b"}).status_code == 401
    assert httpx.get(f"{gateway}/api/inbox?after=0", headers={"Cookie": "loive_web=%ED%A0%80"}).status_code == 401
    chat = WebChat(gateway)
    assert chat.http.get("/api/inbox?user=a%00b&after=0").status_code == 200   # the cookie decides


def test_a_turn_rasa_answers_with_nothing_gets_the_busy_reply(gateway):
    r = httpx.post(f"{gateway}/api/messages", json={"user": "empty-1", "text": "báo cáo"})
    assert r.status_code == 200
    assert r.json() == {"replies": [{"text": BUSY_VI, "buttons": []}]}
    en = httpx.post(f"{gateway}/api/messages", json={"user": "empty-2", "text": "hi", "locale": "en"})
    assert en.json()["replies"][0]["text"] == BUSY_EN


def test_rasa_failing_gives_5xx_that_still_carries_the_busy_reply(gateway):
    r = httpx.post(f"{gateway}/api/messages", json={"user": "boom-1", "text": "/boom"})
    assert r.status_code == 502
    assert r.json()["replies"] == [{"text": BUSY_VI, "buttons": []}] and "Traceback" not in r.text


def test_rasa_down_gives_503_with_the_busy_reply_and_the_page_shows_it(db_url, tmp_path):
    settings = dataclasses.replace(load_settings(), database_url=db_url, rasa_port=free_port(),
                                   actions_port=free_port(), var_dir=tmp_path / "var", scheduler=False)
    with serve(create_app(settings)) as url:
        r = httpx.post(f"{url}/api/messages", json={"user": "down-1", "text": "xin chào"})
        assert r.status_code == 503 and r.json()["replies"][0]["text"] == BUSY_VI
        page = httpx.get(f"{url}/").text
    assert json.dumps(BUSY_VI, ensure_ascii=False)[1:-1] in page  # what the page shows on 503


# --- body limits ----------------------------------------------------------------------------


def test_declared_oversize_body_is_413_at_once(gateway):
    r = httpx.post(f"{gateway}/api/messages", content=b"x" * (MAX_BODY_BYTES + 1))
    assert r.status_code == 413 and "larger than" in r.json()["error"]


def test_streamed_oversize_body_is_413_before_it_is_read(gateway):
    """A chunked body (no Content-Length) of 64 MB: the gateway answers 413 once
    the limit is passed; the client never gets to send most of it."""
    sent = 0

    def chunks():
        nonlocal sent
        for _ in range(1024):
            sent += 65536
            yield b"x" * 65536

    try:
        r = httpx.post(f"{gateway}/api/messages", content=chunks(), timeout=30)
        assert r.status_code == 413
    except httpx.HTTPError:
        pass  # the gateway answered and closed while the client was still sending
    assert sent < 16 * 1024 * 1024, sent


# --- slow clients ---------------------------------------------------------------------------


class _QuickDeadlines(DeadlineH11Protocol):
    header_timeout_s = 0.5
    body_timeout_s = 0.5


@pytest.fixture
def deadline_server():
    async def app(scope, receive, send):  # a plain ASGI app that reads the whole body
        if scope["type"] != "http":
            return
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            more = message.get("more_body", False)
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    port = free_port()
    options = {**uvicorn_options(), "http": _QuickDeadlines}
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", **options))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.02)
    yield port
    server.should_exit = True
    thread.join(10)


def _closed_within(sock: socket.socket, seconds: float) -> bool:
    sock.settimeout(seconds)
    try:
        return sock.recv(1024) == b""
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


@pytest.mark.parametrize("sent", [b"", b"POST / HTTP/1.1\r\nHost: x\r\n", b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n0123"])
def test_a_slow_client_is_cut_off(deadline_server, sent):
    with socket.create_connection(("127.0.0.1", deadline_server)) as sock:
        sock.sendall(sent)
        assert _closed_within(sock, 5.0)


def test_a_prompt_client_is_served_and_kept_alive(deadline_server):
    with httpx.Client() as http:
        for _ in range(3):
            assert http.post(f"http://127.0.0.1:{deadline_server}/", content=b"x" * 1000).text == "ok"
            time.sleep(0.3)


# --- wellbeing ------------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["99", "-3", "1e30", "0", "6", 1e30, -3, 99, True, "", "3.5", None, [3]])
def test_wellbeing_outside_1_to_5_is_no_answer(value):
    assert wellbeing_of(value) is None
    message = {"text": f'/inform{{"choice": {json.dumps(value)}}}', "intent": {"name": "inform"},
               "entities": [{"entity": "choice", "value": value}] if value is not None else []}
    assert extract(message, "ci_wellbeing") == {}


@pytest.mark.parametrize("text, value", [("-3", None), ("1e30", None), ("99", None), ("2.5", None),
                                         ("tầm 2 thôi", 2), ("5/5", 5), ("3", 3)])
def test_typed_wellbeing(text, value):
    out = extract({"text": text, "intent": {"name": "inform"}, "entities": []}, "ci_wellbeing")
    assert out == ({} if value is None else {"ci_wellbeing": value})


# --- the supervisor never gives up ----------------------------------------------------------


def test_a_child_that_keeps_crashing_is_restarted_forever_with_capped_back_off(tmp_path, monkeypatch):
    monkeypatch.setattr(sup, "RESTART_DELAY_MAX_S", 0.4)  # the back-off's cap, shortened for the test
    settings = dataclasses.replace(load_settings(), var_dir=tmp_path / "var", rasa_token="t")
    settings.var_dir.mkdir()
    out = open(tmp_path / "out.log", "w+")
    crashes = tmp_path / "crashes"

    async def scenario() -> dict:
        s = sup.Supervisor(settings, out=out)
        child = sup.Child("crashy", [sys.executable, "-c",
                                     f"open({str(crashes)!r}, 'a').write('x'); raise SystemExit(3)"], dict(os.environ))
        s.children = {"crashy": child}
        await s._spawn(child)
        deadline = time.monotonic() + 60
        while child.restarts < 8:
            assert time.monotonic() < deadline, "not restarted 8 times within 60 s"
            await asyncio.sleep(0.1)
        status = json.loads((settings.var_dir / sup.STATUS_FILE).read_text())
        assert not s.stopping.is_set() and s.failed is None
        s.stopping.set()
        await s._stop_child(child)
        return status

    status = asyncio.run(scenario())
    out.seek(0)
    log = out.read()
    assert log.count("crashy exited unexpectedly (exit code 3)") >= 8
    assert "restarting in 0 s" in log and "stopping everything" not in log  # capped at 0.4 s, printed rounded
    assert len(crashes.read_text()) >= 8
    crashy = status["children"]["crashy"]
    assert crashy["restarts"] >= 4 and crashy["last_exit"]["code"] == 3
    assert crashy["last_exit"]["restart_in_s"] <= 0.4


# --- files readable by the owner only -------------------------------------------------------


def test_sqlite_database_files_are_private(tmp_path):
    previous = os.umask(0o022)  # what a careless shell leaves
    try:
        engine = make_engine(f"sqlite:///{tmp_path / 'new' / 'var' / 'app.db'}")
        with engine.connect() as conn:
            conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
            conn.commit()
        engine.dispose()
    finally:
        os.umask(previous)
    assert stat.S_IMODE(os.stat(tmp_path / "new" / "var" / "app.db").st_mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "new" / "var").st_mode) == 0o700
    for extra in ("app.db-wal", "app.db-shm"):
        p = tmp_path / "new" / "var" / extra
        assert not p.exists() or stat.S_IMODE(os.stat(p).st_mode) == 0o600
