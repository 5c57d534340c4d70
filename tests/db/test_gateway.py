"""Gateway units: the web contract's validation, Rasa output mapping, and the
503 when Rasa is not there (a real gateway app against closed ports)."""

from __future__ import annotations

import dataclasses

import httpx
import pytest

from bot.channels import web_session
from bot.channels.web import BadRequest, parse_message
from bot.config import load_settings
from bot.app import create_app
from bot.conversation.rasa_client import Button, RasaError, Reply, parse_rest_output
from harness.helpers import free_port, serve


def test_parse_message_accepts_the_contract():
    msg = parse_message('{"user": "u1", "text": "  xin chào  "}'.encode())
    # Without the cookie the sender is anonymous: its own conversation, questions only.
    assert (msg.channel, msg.external_id, msg.text, msg.locale) == ("web-anon", "u1", "xin chào", None)
    assert msg.anonymous
    assert parse_message(b'{"user": "u", "text": "hi", "locale": "en"}').locale == "en"


def test_parse_message_binds_a_cookie_sender_and_ignores_user():
    bound = web_session.Sender("web", "s:abc")
    for body in (b'{"user": "someone-else", "text": "hi"}', b'{"text": "hi"}'):
        msg = parse_message(body, bound, source="127.0.0.1")
        assert (msg.channel, msg.external_id, msg.source, msg.anonymous) == ("web", "s:abc", "127.0.0.1", False)
    with pytest.raises(BadRequest):
        parse_message(b'{"text": "hi"}')  # anonymous: the user names the conversation


def test_parse_message_limits_are_characters_not_bytes():
    parse_message(('{"user": "%s", "text": "%s"}' % ("ư" * 128, "ệ" * 4096)).encode())
    with pytest.raises(BadRequest, match="at most 128"):
        parse_message(('{"user": "%s", "text": "a"}' % ("ư" * 129)).encode())


@pytest.mark.parametrize("body", [b"", b"null", b"\xff\xfe", b'{"user": null, "text": "a"}', b'{"user": "u", "text": "   "}'])
def test_parse_message_rejects_bad_bodies(body):
    with pytest.raises(BadRequest) as exc:
        parse_message(body)
    assert exc.value.status == 400


def test_rasa_output_becomes_replies():
    out = parse_rest_output([
        {"recipient_id": "x", "text": "Chào"},
        {"recipient_id": "x", "text": "Chọn", "buttons": [{"title": "Vay vốn", "payload": "/ask_loan"}, {"title": ""}]},
        {"recipient_id": "x", "image": "http://example/img.png"},
        "junk",
    ])
    assert out == [Reply("Chào"), Reply("Chọn", (Button("Vay vốn", "/ask_loan"),))]
    assert out[1].as_dict() == {"text": "Chọn", "buttons": [{"title": "Vay vốn", "payload": "/ask_loan"}]}
    with pytest.raises(RasaError):
        parse_rest_output({"not": "a list"})


@pytest.fixture
def gateway_without_rasa(db_url):
    settings = dataclasses.replace(
        load_settings(), database_url=db_url, rasa_port=free_port(), actions_port=free_port()
    )
    with serve(create_app(settings)) as url:
        yield url


def test_rasa_not_ready_is_503(gateway_without_rasa):
    r = httpx.post(f"{gateway_without_rasa}/api/messages", json={"user": "u1", "text": "xin chào"})
    assert r.status_code == 503
    assert "starting or unavailable" in r.json()["error"]
    health = httpx.get(f"{gateway_without_rasa}/healthz")
    assert health.status_code == 503
    checks = health.json()["checks"]
    assert checks["rasa"]["ok"] is False and checks["actions"]["ok"] is False
    assert checks["database"]["ok"] is True


def test_rasa_errors_are_502_without_details(db_url):
    """A Rasa that answers 500 (a real HTTP server on loopback) → 502, no trace."""
    import threading
    from http.server import BaseHTTPRequestHandler, HTTPServer

    class Broken(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            self.send_response(500)
            self.end_headers()
            self.wfile.write(b"Traceback (most recent call last): boom")

        def log_message(self, *a):  # noqa: ANN002
            pass

    server = HTTPServer(("127.0.0.1", 0), Broken)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        settings = dataclasses.replace(load_settings(), database_url=db_url, rasa_port=server.server_port)
        with serve(create_app(settings)) as url:
            r = httpx.post(f"{url}/api/messages", json={"user": "u1", "text": "xin chào"})
        assert r.status_code == 502
        assert "Traceback" not in r.text and r.json()["error"]
    finally:
        server.shutdown()


def test_rasa_client_unavailable_on_closed_port():
    import asyncio

    from bot.conversation.rasa_client import RasaClient, RasaUnavailable

    async def go():
        client = RasaClient(f"http://127.0.0.1:{free_port()}")
        try:
            with pytest.raises(RasaUnavailable):
                await client.send("id", "hi", {})
            assert (await client.status())["ok"] is False
        finally:
            await client.aclose()

    asyncio.run(go())


def test_rasa_client_spreads_conversations_and_skips_a_replica_that_refuses(tmp_path):
    """Two replicas: each conversation keeps its home replica; when one refuses
    connections, its conversations are answered by the other."""
    import asyncio

    from starlette.applications import Starlette
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from bot.conversation.rasa_client import RasaClient, RasaUnavailable

    def fake(name):
        async def webhook(request):
            body = await request.json()
            assert "turn" in body["metadata"]   # kept with the user event, for applied_turn
            return JSONResponse([{"recipient_id": body["sender"], "text": name}])

        async def status(request):
            return JSONResponse({"model_file": "m.tar.gz"})
        return Starlette(routes=[Route("/webhooks/rest/webhook", webhook, methods=["POST"]),
                                 Route("/status", status)])

    async def answers(urls, ids, rounds=1):
        client = RasaClient(urls)
        try:
            out = [{i: (await client.send(i, "hi", {}))[0].text for i in ids} for _ in range(rounds)]
            return out, await client.status()
        finally:
            await client.aclose()

    ids = [f"conv-{n}" for n in range(12)]
    with serve(fake("A")) as a, serve(fake("B")) as b:
        (first, second), _ = asyncio.run(answers(f"{a},{b}", ids, rounds=2))
        assert set(first.values()) == {"A", "B"}     # spread over both
        assert second == first                       # each conversation keeps its home
    with serve(fake("B")) as b:
        (only,), status = asyncio.run(answers(f"http://127.0.0.1:{free_port()},{b}", ids))
        assert set(only.values()) == {"B"}
        assert status["ok"] is True and status["replicas_ready"] == "1/2"
    with pytest.raises(RasaUnavailable):
        asyncio.run(answers(f"http://127.0.0.1:{free_port()}", ids))


def test_applied_turn_reads_back_the_replies_of_a_turn_already_in_the_tracker(tmp_path):
    import json

    from sqlalchemy import create_engine, text

    from bot.conversation.rasa_client import applied_turn

    engine = create_engine(f"sqlite:///{tmp_path / 'trackers.db'}")
    with engine.begin() as c:
        c.execute(text("CREATE TABLE events (id INTEGER PRIMARY KEY, sender_id TEXT, type_name TEXT, data TEXT)"))
        rows = [("user", {"event": "user", "text": "old", "metadata": {"turn": "t0"}}),
                ("bot", {"event": "bot", "text": "old reply"}),
                ("user", {"event": "user", "text": "hi", "metadata": {"turn": "t1"}}),
                ("action", {"event": "action", "name": "utter_greet"}),
                ("bot", {"event": "bot", "text": "Xin chào", "data": {"buttons": [{"title": "A", "payload": "/a"}]}}),
                ("bot", {"event": "bot", "data": {"custom": {"loive": "x"}}})]
        for kind, data in rows:
            c.execute(text("INSERT INTO events (sender_id, type_name, data) VALUES ('c1', :k, :d)"),
                      {"k": kind, "d": json.dumps(data)})
    assert applied_turn(engine, "c1", "t1") == [
        {"recipient_id": "c1", "text": "Xin chào", "buttons": [{"title": "A", "payload": "/a"}]},
        {"recipient_id": "c1", "custom": {"loive": "x"}}]
    assert applied_turn(engine, "c1", "t0") is None      # not the last user message: not this turn
    assert applied_turn(engine, "nobody", "t1") is None
