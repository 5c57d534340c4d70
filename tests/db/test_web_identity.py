"""The web chat proves who is writing, and enrollment guessing is bounded.

Over real HTTP against the real gateway app (no Rasa needed: every refusal
here is answered by the gateway itself, which is the point), on SQLite and
PostgreSQL; the running product is in test_web_identity_e2e.py."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import datetime as dt
import os
import subprocess
import sys

import httpx
import pytest
from sqlalchemy import func, select

from bot import PROJECT_ROOT

from bot.supervision import enrollment, people

from bot.conversation import offered
from bot.channels import web_session
from bot.channels.web_inbox import WebInboxSender, fetch
from bot.channels.base import Outgoing
from bot.config import Settings, is_loopback, load_settings
from bot.app import create_app
from bot.conversation.core import resolve_identity
from bot.conversation.rasa_client import Button
from bot.storage.db import make_engine, make_sessionmaker
from bot.storage.models import AuditEntry, ChannelIdentity, RateCounter, WebInboxMessage
from harness.helpers import WebChat, free_port, migrated_sessions, serve

SECRET = "test-secret-web-identity"
ANONYMOUS_VI = "Trong trò chuyện web chưa xác thực này, tôi chỉ trả lời câu hỏi"
NOW = dt.datetime(2026, 11, 30, 14, 10, tzinfo=dt.timezone.utc)


def settings_for(db_url: str, **changes) -> Settings:
    return dataclasses.replace(load_settings({}), database_url=db_url, rasa_port=free_port(),
                               actions_port=free_port(), secret_key=SECRET, scheduler=False, **changes)


@pytest.fixture
def gateway(db_url):
    """The gateway app with no Rasa behind it: whatever reaches Rasa answers 503."""
    with serve(create_app(settings_for(db_url))) as url:
        yield url, db_url


def identities(db_url: str) -> int:
    engine = make_engine(db_url)
    try:
        with make_sessionmaker(engine)() as s:
            return s.scalar(select(func.count()).select_from(ChannelIdentity))
    finally:
        engine.dispose()


# --- the cookie ---------------------------------------------------------------------


def test_cookies_are_signed_random_identities():
    secret = b"k"
    value = web_session.new_cookie(secret)
    ident = web_session.verify(secret, value)
    assert ident and len(ident) >= 32 and web_session.new_cookie(secret) != value
    tampered = ("A" if value[0] != "A" else "B") + value[1:]
    for bad in (None, "", tampered, value + "x", value.replace(".", ""), f"{ident}.", "a.b.c", "x" * 300):
        assert web_session.verify(secret, bad) is None, bad
    assert web_session.verify(b"other-key", value) is None
    assert web_session.external_id(secret, ident).startswith("s:") and ident not in web_session.external_id(secret, ident)


def test_get_slash_issues_an_httponly_strict_cookie_and_keeps_a_valid_one(gateway):
    url, _ = gateway
    r = httpx.get(f"{url}/")
    assert r.status_code == 200 and "<html" in r.text
    header = r.headers["set-cookie"]
    assert header.startswith("loive_web=") and "HttpOnly" in header and "SameSite=strict" in header.replace(
        "SameSite=Strict", "SameSite=strict") and "Path=/" in header
    value = r.cookies["loive_web"]
    again = httpx.get(f"{url}/", cookies={"loive_web": value})
    assert again.cookies["loive_web"] == value                       # the same browser stays itself
    forged = httpx.get(f"{url}/", cookies={"loive_web": value[:-2] + "xx"})
    assert forged.cookies["loive_web"] not in (value, value[:-2] + "xx")  # a forged one is replaced
    # A link on another site: the browser withholds the cookie; no new identity replaces it.
    linked = httpx.get(f"{url}/", headers={"Sec-Fetch-Site": "cross-site", "Sec-Fetch-Mode": "navigate"})
    assert linked.status_code == 200 and "set-cookie" not in linked.headers and "location.replace" in linked.text
    assert httpx.get(f"{url}/", headers={"Host": "attacker.example"}).status_code == 403   # DNS rebinding


def test_cross_site_requests_are_refused(gateway):
    url, db_url = gateway
    chat = WebChat(url)
    before = identities(db_url)
    evil = {"Origin": "https://attacker.example"}
    # The classic form/fetch CSRF: text/plain, no preflight, with the victim's cookie if the browser sent it.
    for headers, body in ((evil | {"Content-Type": "text/plain"}, '{"user": "victim", "text": "/affirm"}'),
                          ({"Origin": "null", "Content-Type": "text/plain"}, '{"user": "victim", "text": "xin chào"}'),
                          ({"Sec-Fetch-Site": "cross-site"}, '{"user": "victim", "text": "xin chào"}'),
                          ({"Sec-Fetch-Site": "same-site", "Origin": "http://other.127.0.0.1.example"},
                           '{"user": "victim", "text": "xin chào"}')):
        for client in (httpx, chat.http):
            r = client.post(f"{url}/api/messages", content=body, headers=headers)
            assert r.status_code == 403 and r.json() == {"error": "requests from another site are refused"}, r.text
    assert chat.http.get("/api/inbox", headers=evil).status_code == 403
    assert chat.http.get("/api/inbox", headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403
    assert identities(db_url) == before   # nothing was processed
    # Same origin, or no Origin at all (a script): accepted (here Rasa is absent: 503).
    assert chat.post("xin chào").status_code == 503
    assert httpx.post(f"{url}/api/messages", json={"user": "u", "text": "xin chào"}).status_code == 503
    assert chat.http.get("/api/inbox", headers={"Sec-Fetch-Site": "same-origin"}).status_code == 200


# --- anonymous senders: questions and answers only --------------------------------------


def test_anonymous_inbox_is_401_whatever_user_it_names(gateway):
    url, _ = gateway
    for params in ({}, {"user": "mentor-web-user"}, {"user": "x", "after": "5"}):
        r = httpx.get(f"{url}/api/inbox", params=params)
        assert r.status_code == 401 and "cookie" in r.json()["error"], params
    r = httpx.get(f"{url}/api/inbox", cookies={"loive_web": web_session.new_cookie(b"not-the-key")})
    assert r.status_code == 401


def test_cookie_inbox_rejects_bad_ids(gateway):
    url, _ = gateway
    chat = WebChat(url)
    for after in ("-1", "abc", "1e3", str(2**63), "9" * 40):
        r = chat.http.get("/api/inbox", params={"after": after})
        assert r.status_code == 400 and "error" in r.json(), after
    assert chat.inbox() == []


@pytest.mark.parametrize("text", ["ABCDE23456", "/start ABCDE23456", '/enroll{"enrollment_code": "ABCDE23456"}',
                                  '/alert_action{"alert_id":"1","alert_status":"resolved","reason_code":"other"}',
                                  '/ack_reminder{"reminder_id":"1"}'])
def test_anonymous_senders_cannot_enroll_or_act_and_leave_nothing(gateway, text):
    url, db_url = gateway
    before = identities(db_url)
    r = httpx.post(f"{url}/api/messages", json={"user": "anyone", "text": text})
    assert r.status_code == 200, r.text           # answered by the gateway: Rasa (absent here) never saw it
    [reply] = r.json()["replies"]
    assert reply["text"].startswith(ANONYMOUS_VI) and reply["buttons"] == []
    english = httpx.post(f"{url}/api/messages", json={"user": "anyone", "text": text, "locale": "en"})
    assert english.json()["replies"][0]["text"].startswith("In this web chat without sign-in I can only answer")
    assert identities(db_url) == before


def test_anonymous_identities_can_never_be_linked(s):
    commune = people.add_commune(s, f"Xã {os.urandom(3).hex()}", "test")
    person = people.add_person(s, "supervisee", "Anh B", commune.name, "test")
    anon = ChannelIdentity(channel="web-anon", external_id=f"u-{os.urandom(4).hex()}")
    s.add(anon)
    s.flush()
    code = enrollment.issue_enrollment_code(s, person.id, b"k", 7, "test").code
    assert enrollment.check_code(s, anon.id, code, b"k", max_failures=5, window=dt.timedelta(hours=1)).status \
        == "anonymous"
    assert enrollment.enroll(s, anon.id, code, b"k", accepted=True) is None
    anon.person_id = person.id   # even if a row said so, nothing reads it as that person
    from bot.supervision.checkins import person_for_identity
    assert person_for_identity(s, anon.id) is None


# --- the inbox is the cookie's, and every read is audited ---------------------------------


def test_the_inbox_is_bound_to_the_cookie_and_reads_are_audited(gateway):
    url, db_url = gateway
    mentor, attacker = WebChat(url), WebChat(url)
    secret = SECRET.encode()
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    try:
        ident, _ = resolve_identity(sessions, "web", mentor.external_id(secret), "vi")
        import asyncio
        asyncio.run(WebInboxSender(sessions).send(Outgoing(key=f"alert:{os.urandom(4).hex()}", identity_id=ident,
                                                           external_id="", text="Cảnh báo về Anh Bình",
                                                           buttons=(Button("Đã nắm", "/alert_action{}"),))))
        # Another browser sees its own (empty) inbox, and acknowledging "everything" marks nothing of the mentor's.
        assert attacker.inbox() == [] and attacker.inbox(after=10**9) == []
        # The old attack: the mentor's ``user`` string, without the cookie.
        assert httpx.get(f"{url}/api/inbox", params={"user": mentor.external_id(secret)}).status_code == 401
        [msg] = mentor.inbox()
        assert msg["text"] == "Cảnh báo về Anh Bình"
        assert mentor.inbox() == [msg]                       # still there until acknowledged
        assert mentor.inbox(after=msg["id"]) == []
        with sessions() as s:
            reads = list(s.scalars(select(AuditEntry).where(AuditEntry.action == "read_web_inbox",
                                                            AuditEntry.actor == f"identity:{ident}")
                                   .order_by(AuditEntry.id)))
            assert len(reads) == 3   # the empty polls and the other browser's read nothing of it
            assert ['"returned": 1' in r.detail for r in reads] == [True, True, False]
            assert '"acknowledged": 1' in reads[2].detail
            assert s.scalar(select(WebInboxMessage.fetched_at).where(WebInboxMessage.id == msg["id"])) is not None
    finally:
        engine.dispose()


def test_an_inbox_read_names_the_person_it_belongs_to(s, sessions):
    commune = people.add_commune(s, f"Xã {os.urandom(3).hex()}", "test")
    mentor = people.add_person(s, "mentor", "Chị Lan", commune.name, "test")
    identity = ChannelIdentity(channel="web", external_id=f"s:{os.urandom(8).hex()}", person_id=mentor.id)
    s.add(identity)
    s.flush()
    s.add(WebInboxMessage(key=f"k-{os.urandom(4).hex()}", identity_id=identity.id, body='{"text": "x", "buttons": []}',
                          created_at=NOW))
    s.commit()
    assert len(fetch(sessions, identity.external_id)) == 1
    with sessions() as fresh:
        [entry] = fresh.scalars(select(AuditEntry).where(AuditEntry.action == "read_web_inbox",
                                                         AuditEntry.subject_id == mentor.id))
        assert entry.actor == f"person:{mentor.id}"


# --- typed payloads act only where their button was shown ---------------------------------


def test_action_payloads_are_recognised_as_rasa_reads_them():
    for text in ('/alert_action{"alert_id":"1"}', '  /alert_action {"alert_id":"1"}', "/ack_reminder",
                 '/ alert_action@0.99{"alert_id": "1"}'):
        assert offered.guarded(text), text
    for text in ("/affirm", "/checkin", "alert_action", "xin chào /alert_action", "/inform{\"choice\": \"1\"}"):
        assert not offered.guarded(text), text


def test_offered_payloads_are_per_conversation(s):
    payload = '/alert_action{"alert_id":"7"}'
    assert offered.record(s, "conv-a", [payload, "/checkin", payload], NOW) == 1
    assert offered.was_offered(s, "conv-a", payload) and offered.was_offered(s, "conv-a", f"  {payload} ")
    assert not offered.was_offered(s, "conv-b", payload) and not offered.was_offered(s, None, payload)
    assert not offered.was_offered(s, "conv-a", '/alert_action{"alert_id":"8"}')
    offered.record(s, "conv-a", [payload], NOW + dt.timedelta(days=1))   # offered again: kept longer
    assert offered.purge(s, NOW + offered.KEEP_FOR + dt.timedelta(hours=1)) == 0
    assert offered.purge(s, NOW + offered.KEEP_FOR + dt.timedelta(days=2)) == 1


def test_a_typed_action_payload_that_was_not_offered_is_refused_before_rasa(gateway):
    url, db_url = gateway
    chat = WebChat(url)
    for text in ('/alert_action{"alert_id":"1","alert_status":"resolved","reason_code":"false_alarm"}',
                 '/ack_reminder{"reminder_id":"1"}'):
        [reply] = chat.say(text)   # 200 although Rasa is absent: the gateway answered
        assert reply["text"] == ("Xin lỗi, tôi không thể thực hiện việc này từ một lệnh gõ tay. Anh/chị vui lòng "
                                 "bấm các nút tôi đã gửi.")
    engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    try:
        ident, _ = resolve_identity(sessions, "web", chat.external_id(SECRET.encode()), "vi")
        with sessions.begin() as s:
            offered.record(s, ident, ['/ack_reminder{"reminder_id":"1"}'], NOW)
    finally:
        engine.dispose()
    assert chat.post('/ack_reminder{"reminder_id":"1"}').status_code == 503   # shown there: it goes on to Rasa


# --- enrollment guessing ------------------------------------------------------------------


def guard_settings(**limits) -> Settings:
    return dataclasses.replace(load_settings({}), secret_key=SECRET, **limits)


def live_code(sessions, at: dt.datetime = NOW) -> str:
    with sessions.begin() as s:
        commune = people.add_commune(s, f"Xã {os.urandom(3).hex()}", "test")
        person = people.add_person(s, "supervisee", "Anh G", commune.name, "test")
        return enrollment.issue_enrollment_code(s, person.id, SECRET.encode(), 7, "test", now=at).code


def test_rotating_chats_hits_the_global_limit(sessions):
    settings = guard_settings(enroll_max_failures=5, enroll_max_failures_per_source=1000,
                              enroll_max_failures_global=20)
    code = live_code(sessions)
    outcomes = [enrollment.attempt(sessions, settings, "telegram", f"chat-{i}", None, f"WRONG{i:05d}", NOW)
                for i in range(25)]
    assert outcomes == ["invalid"] * 20 + ["rate_limited"] * 5
    # Even a right code is not looked at while the limit holds (no oracle), and a new hour opens it again.
    assert enrollment.attempt(sessions, settings, "telegram", "chat-x", None, code, NOW) == "rate_limited"
    assert enrollment.attempt(sessions, settings, "telegram", "chat-x", None, code, NOW + dt.timedelta(hours=1)) \
        == "ok"


def test_per_chat_and_per_source_limits(sessions):
    NOW = globals()["NOW"] + dt.timedelta(days=10)   # its own hour: on PostgreSQL the module shares a database
    settings = guard_settings(enroll_max_failures=3, enroll_max_failures_per_source=5,
                              enroll_max_failures_global=1000)
    code = live_code(sessions, NOW)
    chat = [enrollment.attempt(sessions, settings, "web", "s:one", "10.0.0.1", f"WRONG{i:05d}", NOW)
            for i in range(4)]
    assert chat == ["invalid"] * 3 + ["rate_limited"]
    rotating = [enrollment.attempt(sessions, settings, "web", f"s:{i}", "10.0.0.1", f"WRONX{i:05d}", NOW)
                for i in range(4)]
    assert rotating == ["invalid"] * 2 + ["rate_limited"] * 2       # 3 + 2 = 5 failures from that address
    assert enrollment.attempt(sessions, settings, "web", "s:new", "10.0.0.2", code, NOW) == "ok"
    # Right codes do not count: a source that enrolls many people is not held back.
    for i in range(10):
        assert enrollment.attempt(sessions, settings, "web", f"s:ok{i}", "10.0.0.3", code, NOW) == "ok"


def test_limits_hold_across_replicas_and_concurrent_guesses(db_url):
    """Two engines (two gateway replicas) guessing at once share the counters."""
    NOW = globals()["NOW"] + dt.timedelta(days=20)   # its own hour
    settings = guard_settings(enroll_max_failures=1000, enroll_max_failures_per_source=1000,
                              enroll_max_failures_global=12)
    with migrated_sessions(db_url) as one, migrated_sessions(db_url) as two:
        def guess(i: int) -> str:
            return enrollment.attempt(one if i % 2 else two, settings, "zalo_bot", f"z-{i}", None,
                                        f"GUESS{i:05d}", NOW)

        with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
            outcomes = list(pool.map(guess, range(30)))
        assert outcomes.count("invalid") == 12 and outcomes.count("rate_limited") == 18
        with one() as s:
            scopes = dict(s.execute(select(RateCounter.scope, RateCounter.count).where(
                RateCounter.window_start == enrollment.window_start(NOW))).all())
        assert scopes["global"] == 12
        assert not any("z-" in scope or "GUESS" in scope for scope in scopes)   # keyed hashes only


def test_old_counters_are_deleted(sessions):
    NOW = globals()["NOW"] + dt.timedelta(days=30)
    settings = guard_settings()
    enrollment.attempt(sessions, settings, "web", "s:a", None, "WRONG00001", NOW)
    enrollment.attempt(sessions, settings, "web", "s:a", None, "WRONG00002", NOW + dt.timedelta(days=2))
    with sessions() as s:
        assert {w for (w,) in s.execute(select(RateCounter.window_start)).all()} == {
            enrollment.window_start(NOW + dt.timedelta(days=2))}


def test_failed_guesses_leave_no_identity_and_never_reach_rasa(gateway):
    url, db_url = gateway
    before = identities(db_url)
    for i in range(8):   # a new browser for every guess
        [reply] = WebChat(url).say(f"GUESSZZZZ{'23456789'[i]}")
        assert reply["text"].startswith(("Mã này không đúng", "Anh/chị đã nhập sai mã nhiều lần")), reply
    assert identities(db_url) == before


def test_a_webhook_chat_made_only_for_a_refusal_is_deleted_later(sessions):
    transient = enrollment.transient_identity(sessions, "telegram", "111", "vi", NOW)
    kept = enrollment.transient_identity(sessions, "telegram", "222", "vi", NOW)
    resolve_identity(sessions, "telegram", "222", None)     # that chat went on talking: it stays
    with sessions.begin() as s:
        assert enrollment.purge_transient(s, NOW + dt.timedelta(minutes=30)) == 0
        assert enrollment.purge_transient(s, NOW + enrollment.TRANSIENT_FOR + dt.timedelta(seconds=1)) == 1
    with sessions() as s:
        assert s.get(ChannelIdentity, transient) is None and s.get(ChannelIdentity, kept) is not None


def test_the_guess_limit_keeps_the_chance_below_one_in_a_million():
    """The README's arithmetic, from the code's own numbers."""
    settings = load_settings({})
    space = len(enrollment.CODE_ALPHABET) ** enrollment.CODE_LENGTH
    hours = settings.enroll_code_days * 24 + 1          # a code's life touches at most this many clock hours
    guesses = settings.enroll_max_failures_global * hours
    assert guesses * 10_000 / space < 1e-6


# --- deployment switches -------------------------------------------------------------------


def test_web_chat_off_answers_404(db_url):
    with serve(create_app(settings_for(db_url, web_chat=False))) as url:
        assert httpx.get(f"{url}/").status_code == 404
        assert httpx.post(f"{url}/api/messages", json={"user": "u", "text": "xin chào"}).status_code == 404
        assert httpx.get(f"{url}/api/inbox").status_code == 404
        assert "web" not in httpx.get(f"{url}/healthz").json()["channels"]
    assert load_settings({"LOIVE_WEB_CHAT": "0"}).web_chat is False
    assert load_settings({}).web_chat is True


def test_exposure_rules():
    assert is_loopback("127.0.0.1") and is_loopback("::1") and is_loopback("localhost") and is_loopback("127.8.0.1")
    assert not is_loopback("0.0.0.0") and not is_loopback("192.168.1.5") and not is_loopback("example.org")
    load_settings({}).check_exposure()
    load_settings({"LOIVE_HOST": "0.0.0.0", "LOIVE_PUBLIC_URL": "https://loive.example.gov.vn/"}).check_exposure()
    for env in ({"LOIVE_HOST": "0.0.0.0"}, {"LOIVE_HOST": "::"},
                {"LOIVE_HOST": "0.0.0.0", "LOIVE_PUBLIC_URL": "http://loive.example.gov.vn"},
                {"LOIVE_PUBLIC_URL": "loive.example.gov.vn"}):
        with pytest.raises(SystemExit):
            load_settings(env).check_exposure()
    assert load_settings({"LOIVE_PUBLIC_URL": "https://Loive.Example/chat/"}).public_origin == "https://loive.example"


@pytest.mark.parametrize("command", ["run", "gateway"])
def test_binding_beyond_loopback_without_a_public_https_url_refuses_to_start(tmp_path, command):
    env = {**os.environ, "LOIVE_HOST": "0.0.0.0", "LOIVE_PORT": str(free_port()), "LOIVE_VAR_DIR": str(tmp_path)}
    env.pop("LOIVE_PUBLIC_URL", None)
    done = subprocess.run([sys.executable, "-m", "bot", command], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, timeout=60, stdin=subprocess.DEVNULL)
    assert done.returncode != 0
    assert "LOIVE_PUBLIC_URL is not set" in done.stderr and "LOIVE_HOST=0.0.0.0" in done.stderr
    assert not (tmp_path / "loive.db").exists()   # nothing started


# --- existing rows ------------------------------------------------------------------------


def test_web_chats_from_before_become_anonymous_and_unlinked(own_db_url):
    """A web chat linked by a bare ``user`` string proved nothing: after the
    migration it is an anonymous conversation (its history stays), the person
    is unlinked (audited) and their web-inbox copies are gone."""
    from sqlalchemy import text

    from bot.storage.migrate import upgrade

    engine = make_engine(own_db_url)
    try:
        upgrade(engine, "0004")
        with engine.begin() as conn:
            conn.execute(text("INSERT INTO communes (id, name, created_at) VALUES (1, 'Xã M', :at)"), {"at": NOW})
            conn.execute(text("INSERT INTO people (id, role, display_name, commune_id, created_at) "
                              "VALUES ('p1', 'mentor', 'Chị Lan', 1, :at)"), {"at": NOW})
            for ident, channel, external, person in (("i1", "web", "mentor-user", "p1"), ("i2", "web", "u2", None),
                                                     ("i3", "telegram", "42", "p1")):
                conn.execute(text("INSERT INTO channel_identities (id, channel, external_id, locale, created_at, "
                                  "last_inbound_at, person_id, replies_since_inbound) "
                                  "VALUES (:i, :c, :e, 'vi', :at, :at, :p, 0)"),
                             {"i": ident, "c": channel, "e": external, "p": person, "at": NOW})
            conn.execute(text("INSERT INTO web_inbox (key, identity_id, body, created_at) "
                              "VALUES ('alert:1:p1', 'i1', '{}', :at)"), {"at": NOW})
        upgrade(engine)
        with engine.connect() as conn:
            rows = dict((r.id, (r.channel, r.external_id, r.person_id)) for r in conn.execute(text(
                "SELECT id, channel, external_id, person_id FROM channel_identities")))
            assert rows == {"i1": ("web-anon", "mentor-user", None), "i2": ("web-anon", "u2", None),
                            "i3": ("telegram", "42", "p1")}
            assert conn.execute(text("SELECT count(*) FROM web_inbox")).scalar() == 0
            [(actor, subject)] = conn.execute(text(
                "SELECT actor, subject_id FROM audit_log WHERE action = 'unlink_web_chat'")).all()
            assert (actor, subject) == ("system", "p1")
    finally:
        engine.dispose()


def test_rotating_browsers_and_addresses_hit_the_global_limit_over_http(own_db_url):
    """The issue's attack, scaled down: every guess from a new browser and a
    new address. Only the hourly limit across all chats is left to stop it.
    (A database of its own: the counters are per real clock hour.)"""
    settings = settings_for(own_db_url, enroll_max_failures_global=6)
    with serve(create_app(settings)) as url:
        answers = []
        for i in range(9):
            chat = WebChat(url)
            chat.http.headers["X-Forwarded-For"] = f"198.51.100.{i + 1}"   # trusted from the local proxy
            answers.append(chat.say(f"ZZZZ2ZZZZ{'23456789'[i % 8]}")[0]["text"])
    assert [a.startswith("Mã này không đúng") for a in answers] == [True] * 6 + [False] * 3
    assert all(a.startswith("Anh/chị đã nhập sai mã nhiều lần") for a in answers[6:])


def test_a_refused_code_on_a_webhook_channel_is_answered_and_forgotten(sessions):
    """Telegram/Zalo: the same gateway check; the answer is queued for a chat
    row that exists only to carry it, and Rasa (a closed port here) is never
    asked."""
    import asyncio
    import json

    from bot.conversation.inbound import receive
    from bot.conversation.core import Core, Inbound
    from bot.conversation.rasa_client import RasaClient
    from bot.storage.models import OutboxMessage

    settings = guard_settings()
    core = Core(sessions, RasaClient(f"http://127.0.0.1:{free_port()}", 2.0), settings)
    chat = f"tg-{os.urandom(4).hex()}"
    assert asyncio.run(receive(core, Inbound(channel="telegram", external_id=chat, text="/start ZZZZ2ZZZZ3"),
                               f"upd-{chat}")) is True
    with sessions() as s:
        identity = s.scalar(select(ChannelIdentity).where(ChannelIdentity.channel == "telegram",
                                                          ChannelIdentity.external_id == chat))
        assert identity.transient_until is not None and identity.person_id is None
        [reply] = s.scalars(select(OutboxMessage).where(OutboxMessage.identity_id == identity.id))
        assert json.loads(reply.body)["text"].startswith("Mã này không đúng")
    with sessions.begin() as s:
        assert enrollment.purge_transient(s, identity.transient_until + dt.timedelta(seconds=1)) >= 1
    with sessions() as s:
        assert s.get(ChannelIdentity, identity.id) is None
        assert list(s.scalars(select(OutboxMessage).where(OutboxMessage.identity_id == identity.id))) == []
