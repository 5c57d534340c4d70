"""Zalo OA over real HTTP on loopback: the sender, token rotation and the
48-hour window against a fake Zalo (OA API + OAuth + ZNS); the webhook —
signatures, malformed bodies, retries, buttons and taps, non-text messages,
follow/unfollow, whole conversations — through the running product (real Rasa
and model, SQLite or PostgreSQL) with Zalo pointed at the fake; and, through
the gateway app alone, the two faults a real Rasa cannot produce on demand (a
slow turn, Rasa down)."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import datetime as dt
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar
from urllib.parse import urlsplit

import httpx
import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

from bot import PROJECT_ROOT, outbox

from bot.supervision import people
from bot.channels import web_inbox
from bot.channels.base import Outgoing, RetryLater, Unreachable
from bot.conversation.inbound import load_payload
from bot.channels.zalo_client import ZaloAuthError, ZaloError, ZaloNetworkError, ZaloOAClient
from bot.channels.zalo_oa import (CHANNEL, MORE_CHOICES, OutsideWindow, TokenStore, ZaloOASender,
                                  signature, signature_ok)
from bot.config import Settings, load_settings
from bot.delivery.dispatcher import Dispatcher
from bot.domain.knowledge import KnowledgeBase
from bot.app import create_app
from bot.conversation.core import resolve_identity
from bot.conversation.rasa_client import Button
from bot.i18n import gettext
from bot.storage.db import make_engine, make_sessionmaker
from bot.storage.migrate import upgrade
from vietnamese.clock import utcnow
from bot.storage.models import Alert, ChannelIdentity, InboundEvent, OAuthToken, OutboxMessage
from harness.fakes import zalo as fakes
from harness.fakes.zalo import ChannelProduct, FakeZaloOA, SlowRasa, oa_event, rasa_turns, signed, wait_until
from harness.helpers import TOPIC_TITLES_VI, free_port, private_database, serve, start_product

APP_ID = "3141592653589793238"
OA_SECRET = "oa-secret-5fZr2"
APP_SECRET = "app-secret-9QxW1"
NOW = dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.timezone.utc)   # 10:00 in Vietnam, outside quiet hours


# --- fixtures ----------------------------------------------------------------------------


@pytest.fixture
def sessions(own_sessions):  # this module's dispatchers and tokens want a database of their own
    return own_sessions


@pytest.fixture
def oa() -> Iterator[FakeZaloOA]:
    fake = FakeZaloOA(app_id=APP_ID, app_secret_key=APP_SECRET, access_token="at-0", refresh_token="rt-0")
    with fake.serve() as url:
        fake.url = url
        yield fake


def zalo_settings(url: str, **changes: object) -> Settings:
    return dataclasses.replace(
        load_settings(), zalo_oa_app_id=APP_ID, zalo_oa_secret_key=OA_SECRET, zalo_app_secret_key=APP_SECRET,
        zalo_oa_access_token="at-0", zalo_oa_refresh_token="rt-0", zalo_oa_api_base=url, zalo_oauth_base=url,
        zalo_zns_base=url, **changes)


SEED_ACCESS, SEED_REFRESH = "seed-access-7c1f0e", "seed-refresh-9d2e4b"   # distinctive: searched for in logs


def zalo_env(url: str) -> dict[str, str]:
    return {"ZALO_OA_APP_ID": APP_ID, "ZALO_OA_SECRET_KEY": OA_SECRET, "ZALO_APP_SECRET_KEY": APP_SECRET,
            "ZALO_OA_ACCESS_TOKEN": SEED_ACCESS, "ZALO_OA_REFRESH_TOKEN": SEED_REFRESH, "ZALO_OA_API_BASE": url,
            "ZALO_OAUTH_BASE": url, "ZALO_ZNS_BASE": url}


def make_client(url: str, timeout_s: float = 10.0) -> ZaloOAClient:
    return ZaloOAClient(api_base=url, oauth_base=url, zns_base=url, app_id=APP_ID, app_secret_key=APP_SECRET,
                        timeout_s=timeout_s)


def make_sender(sessions, url: str, clock=utcnow, timeout_s: float = 10.0) -> ZaloOASender:  # noqa: ANN001
    client = make_client(url, timeout_s)
    return ZaloOASender(client, TokenStore(sessions, client, zalo_settings(url), clock), sessions, 10.0, clock)


def set_tokens(sessions, access: str, refresh: str, expires_at: dt.datetime) -> None:  # noqa: ANN001
    with sessions.begin() as s:
        row = s.get(OAuthToken, "zalo_oa")
        if row is None:
            s.add(OAuthToken(name="zalo_oa", access_token=access, refresh_token=refresh, expires_at=expires_at))
        else:
            row.access_token, row.refresh_token, row.expires_at = access, refresh, expires_at


def token_row(sessions) -> OAuthToken:  # noqa: ANN001
    with sessions() as s:
        return s.get(OAuthToken, "zalo_oa")


def identity(sessions, user: str, last_inbound: dt.datetime | None = None, replies: int = 0) -> str:  # noqa: ANN001
    ident, _ = resolve_identity(sessions, CHANNEL, user, None)
    with sessions.begin() as s:
        s.execute(update(ChannelIdentity).where(ChannelIdentity.id == ident).values(
            last_inbound_at=last_inbound or utcnow(), replies_since_inbound=replies))
    return ident


def replies_used(sessions, ident: str) -> int:  # noqa: ANN001
    with sessions() as s:
        return s.get(ChannelIdentity, ident).replies_since_inbound


def out(ident: str, user: str, text: str = "Xin chào", buttons: tuple[Button, ...] = (),
        kind: str = "reply") -> Outgoing:
    return Outgoing(key=f"k-{os.urandom(4).hex()}", identity_id=ident, external_id=user, text=text,
                    buttons=buttons, kind=kind)


# --- signature -------------------------------------------------------------------------------


def test_the_signature_is_sha256_of_app_id_body_timestamp_and_oa_secret():
    body = b'{"app_id":"1","event_name":"user_send_text","timestamp":"1677721200000"}'
    header = fakes.signature("1", body, "1677721200000", OA_SECRET)
    assert signature("1", body, "1677721200000", OA_SECRET) == header
    assert signature_ok(header, "1", body, "1677721200000", OA_SECRET)
    assert signature_ok(" MAC=" + header[4:].upper(), "1", body, "1677721200000", OA_SECRET)
    assert signature_ok(header[4:], "1", body, "1677721200000", OA_SECRET)  # without the prefix
    for wrong in (header[:-1] + "0", "", "mac=", fakes.signature("1", body, "1677721200000", APP_SECRET)):
        assert not signature_ok(wrong, "1", body, "1677721200000", OA_SECRET)
    assert not signature_ok(header, "1", body + b" ", "1677721200000", OA_SECRET)  # raw bytes, not re-serialised


# --- sending ----------------------------------------------------------------------------------


def test_a_text_and_buttons_become_cs_messages_with_hidden_query_buttons(sessions, oa):
    sender = make_sender(sessions, oa.url)
    ident = identity(sessions, "u-buttons")
    long_payload = '/inform{"note": "' + "x" * 1100 + '"}'
    buttons = (*(Button(f"Lựa chọn {i}", f"/choice_{i}") for i in range(1, 6)),
               Button("T" * 150, long_payload))
    asyncio.run(sender.send(out(ident, "u-buttons", "Chọn một", buttons)))
    first, second = oa.sends("u-buttons")
    assert first.text == "Chọn một"
    assert first.message["attachment"]["type"] == "template"
    assert first.message["attachment"]["payload"]["template_type"] == "button"
    assert [(b["type"], b["title"], b["payload"]) for b in first.buttons] == [
        ("oa.query.hide", f"Lựa chọn {i}", f"/choice_{i}") for i in range(1, 6)]
    assert second.text == gettext(MORE_CHOICES, "vi")  # the sixth button follows in a second message
    [b] = second.buttons
    assert b["title"] == "T" * 100 and b["payload"].startswith("cb:") and len(b["payload"]) <= 1000
    assert load_payload(sessions, b["payload"]) == long_payload  # what the tap brings back
    assert replies_used(sessions, ident) == 2


def test_long_texts_are_cut_under_2000_characters(sessions, oa):
    sender = make_sender(sessions, oa.url)
    ident = identity(sessions, "u-long")
    text = "\n".join(f"Dòng {i}: " + "chữ " * 20 for i in range(60))
    asyncio.run(sender.send(out(ident, "u-long", text)))
    parts = [x.text for x in oa.sends("u-long")]
    assert len(parts) == 3 and all(len(p) <= 2000 for p in parts)
    assert " ".join(parts).split() == text.split()


def test_the_first_send_seeds_the_tokens_and_rotates_them(sessions, oa):
    sender = make_sender(sessions, oa.url)
    ident = identity(sessions, "u-seed")
    assert token_row(sessions) is None
    asyncio.run(sender.send(out(ident, "u-seed")))
    # The configured tokens are of unknown age: refreshed before use, both new ones stored.
    assert oa.refreshes() == ["rt-0"] and oa.refused() == []
    row = token_row(sessions)
    assert (row.access_token, row.refresh_token) == (oa.access_token, oa.refresh_token)
    assert row.expires_at > utcnow() + dt.timedelta(hours=24)
    [sent] = oa.sends("u-seed")
    assert sent.access_token == row.access_token
    asyncio.run(sender.send(out(ident, "u-seed")))
    assert len(oa.refreshes()) == 1  # valid for 25 h: no refresh for the next send


def test_a_token_about_to_expire_is_refreshed_before_sending(sessions, oa):
    sender = make_sender(sessions, oa.url)
    ident = identity(sessions, "u-expiry")
    set_tokens(sessions, "at-0", "rt-0", utcnow() + dt.timedelta(minutes=4))  # inside the 5-minute margin
    asyncio.run(sender.send(out(ident, "u-expiry")))
    assert oa.refreshes() == ["rt-0"] and oa.refused() == []
    assert oa.sends("u-expiry")[0].access_token == token_row(sessions).access_token == oa.access_token
    assert token_row(sessions).refresh_token == oa.refresh_token  # the rotated one, for next time


def test_a_refused_token_is_refreshed_and_the_send_retried_once(sessions, oa):
    sender = make_sender(sessions, oa.url)
    ident = identity(sessions, "u-216")
    set_tokens(sessions, "at-0", "rt-0", utcnow() + dt.timedelta(hours=20))  # we believe it is valid
    oa.revoke_access_token()                                                   # Zalo does not
    asyncio.run(sender.send(out(ident, "u-216")))
    assert oa.refused() == [("u-216", ("error", -216))]
    assert oa.refreshes() == ["rt-0"]
    [sent] = oa.sends("u-216")
    row = token_row(sessions)
    assert sent.access_token == row.access_token == oa.access_token and row.refresh_token == oa.refresh_token

    # Refused again right after a refresh: one retry only, then the error.
    oa.fail_next(("error", -216), ("error", -216))
    with pytest.raises(ZaloAuthError):
        asyncio.run(sender.send(out(ident, "u-216")))
    assert len(oa.refreshes()) == 2 and len(oa.sends("u-216")) == 1
    assert replies_used(sessions, ident) == 1  # the failed message was not counted


def test_a_lost_refresh_token_is_an_auth_error(sessions, oa):
    sender = make_sender(sessions, oa.url)
    ident = identity(sessions, "u-lost")
    set_tokens(sessions, "at-0", "rt-used-elsewhere", utcnow())
    with pytest.raises(ZaloAuthError) as err:
        asyncio.run(sender.send(out(ident, "u-lost")))
    assert err.value.code == -14020 and oa.sends() == []
    assert token_row(sessions).refresh_token == "rt-used-elsewhere"  # nothing overwritten


def test_two_replicas_refreshing_at_once_refresh_once(own_db_url, oa):
    """Single-use refresh tokens: two gateways (two engines, two stores) find
    the token expiring at the same moment; the row lock lets one refresh and
    the other use its result (PostgreSQL FOR UPDATE; SQLite's write lock)."""
    oa.refresh_delay_s = 0.5
    engines = [make_engine(own_db_url) for _ in range(2)]
    upgrade(engines[0])
    settings = zalo_settings(oa.url)
    stores = [TokenStore(make_sessionmaker(e), make_client(oa.url), settings) for e in engines]
    stores[0].load()  # seeded: of unknown age, so due for a refresh

    async def both() -> list[str]:
        return await asyncio.gather(*(s.access_token() for s in stores))

    try:
        first, second = asyncio.run(both())
        assert first == second == oa.access_token
        assert oa.refreshes() == ["rt-0"]
        row = token_row(make_sessionmaker(engines[1]))
        assert (row.access_token, row.refresh_token) == (oa.access_token, oa.refresh_token)
    finally:
        for e in engines:
            e.dispose()


@pytest.mark.parametrize("answer, expected", [
    (("error", -32), RetryLater),
    (("status", 429), RetryLater),
    (("error", -213), Unreachable),
    (("error", -230), OutsideWindow),
    (("error", -305), OutsideWindow),
    (("error", -311), OutsideWindow),
    (("error", -201), ZaloError),
    (("status", 500), ZaloError),
    (("delay", 2.0), ZaloNetworkError),
])
def test_platform_errors_map_to_what_the_dispatcher_understands(sessions, oa, answer, expected):
    sender = make_sender(sessions, oa.url, timeout_s=0.5)
    ident = identity(sessions, "u-err")
    set_tokens(sessions, "at-0", "rt-0", utcnow() + dt.timedelta(hours=20))
    oa.fail_next(answer)
    with pytest.raises(expected) as err:
        asyncio.run(sender.send(out(ident, "u-err")))
    if expected is Unreachable:
        assert not isinstance(err.value, OutsideWindow)
    assert oa.sends() == [] and replies_used(sessions, ident) == 0


def test_the_48_hour_window_and_its_8_free_replies(sessions, oa, clock):
    clock.now = NOW
    sender = make_sender(sessions, oa.url, clock)
    set_tokens(sessions, "at-0", "rt-0", NOW + dt.timedelta(hours=20))
    ident = identity(sessions, "u-window", last_inbound=NOW - dt.timedelta(hours=47))

    asyncio.run(sender.send(out(ident, "u-window", "Nhắc lịch", kind="checkin_open")))  # inside: sent, counted
    assert len(oa.sends()) == 1 and replies_used(sessions, ident) == 1

    identity(sessions, "u-window", last_inbound=NOW - dt.timedelta(hours=47), replies=8)
    with pytest.raises(OutsideWindow):  # the 8 free replies are used
        asyncio.run(sender.send(out(ident, "u-window", "Nhắc lịch", kind="checkin_open")))
    identity(sessions, "u-window", last_inbound=NOW - dt.timedelta(hours=47), replies=7)
    with pytest.raises(OutsideWindow):  # two messages (6 buttons) do not fit in the one left
        asyncio.run(sender.send(out(ident, "u-window", "Nhắc", tuple(Button(str(i), f"/p{i}") for i in range(6)),
                                    kind="alert")))
    identity(sessions, "u-window", last_inbound=NOW - dt.timedelta(hours=49))
    with pytest.raises(OutsideWindow):  # 49 hours since the person wrote
        asyncio.run(sender.send(out(ident, "u-window", "Nhắc lịch", kind="checkin_open")))
    assert len(oa.sends()) == 1 and replies_used(sessions, ident) == 0

    # A reply answers a message the person just wrote: always sent (and counted).
    identity(sessions, "u-window", last_inbound=NOW - dt.timedelta(hours=49), replies=8)
    asyncio.run(sender.send(out(ident, "u-window", "Trả lời")))
    assert len(oa.sends()) == 2 and replies_used(sessions, ident) == 9


def test_a_reminder_outside_the_window_alerts_the_mentor_instead(sessions, oa, clock):
    """Not silent: the dispatcher marks the Zalo chat unreachable until the
    person writes again, alerts their mentor (here on the web chat), and keeps
    the reminder waiting when no other channel can carry it; the person's next
    message sends it."""
    clock.now = NOW
    set_tokens(sessions, "at-0", "rt-0", NOW + dt.timedelta(hours=20))
    tag = os.urandom(3).hex()
    with sessions.begin() as s:
        commune = people.add_commune(s, f"Xã {tag}", "test")
        mentor = people.add_person(s, "mentor", "Chị M", commune.name, "test").id
        sup = people.add_person(s, "supervisee", "Anh B", commune.name, "test", mentor_id=mentor).id
        s.add(ChannelIdentity(channel="web", external_id=f"mentor-{tag}", person_id=mentor, created_at=NOW,
                              last_inbound_at=NOW))
        s.add(ChannelIdentity(channel=CHANNEL, external_id=f"zalo-{tag}", person_id=sup, created_at=NOW,
                              last_inbound_at=NOW - dt.timedelta(days=3)))
        outbox.enqueue(s, f"streak:{sup}:3", "streak", sup, NOW)
    dispatcher = Dispatcher(sessions, {CHANNEL: make_sender(sessions, oa.url, clock),
                                       "web": web_inbox.WebInboxSender(sessions)},
                            KnowledgeBase.load(), worker=f"w-{tag}", clock=clock)
    for _ in range(4):
        asyncio.run(dispatcher.run_once())
    assert oa.sends() == []
    with sessions() as s:
        zalo = s.scalar(select(ChannelIdentity).where(ChannelIdentity.external_id == f"zalo-{tag}"))
        assert zalo.unreachable_at == NOW
        [alert] = s.scalars(select(Alert).where(Alert.person_id == sup)).all()
        assert alert.type == "unreachable"
        row = s.scalar(select(OutboxMessage).where(OutboxMessage.key == f"streak:{sup}:3"))
        assert row.status == "waiting"
    [msg] = web_inbox.fetch(sessions, f"mentor-{tag}")
    assert "Anh B" in msg["text"]
    resolve_identity(sessions, CHANNEL, f"zalo-{tag}", None)   # the person writes: the window reopens
    asyncio.run(dispatcher.run_once())
    assert [x.text for x in oa.sends(f"zalo-{tag}")] == [
        "Anh/chị đã báo cáo đúng hạn 3 kỳ liên tiếp. Cảm ơn anh/chị, hãy tiếp tục giữ vững nhé!"]


def test_zns_posts_a_template_to_the_zns_endpoint(oa):
    client = make_client(oa.url)

    async def go() -> dict:
        try:
            return await client.send_zns("at-0", "84900000000", "123456", {"note": "Nhắc lịch"}, "t-1")
        finally:
            await client.aclose()

    assert "msg_id" in asyncio.run(go())
    assert oa.zns() == [{"phone": "84900000000", "template_id": "123456", "template_data": {"note": "Nhắc lịch"},
                         "tracking_id": "t-1"}]


# --- the webhook, through the running product -------------------------------------------------
# One product per module (real Rasa and model, real database, Zalo pointed at
# the fake OA); its database is shared by these tests, so each uses its own
# user ids and counts only its own rows.

ONLY_TEXT_VI = "Tôi chỉ đọc được tin nhắn chữ. Anh/chị vui lòng gõ câu hỏi."
TOPIC_PAYLOADS = ["/ask_loan", "/ask_expungement", "/ask_documents", "/checkin", "/request_human"]
OTHER_APP_ID = "2718281828459045235"


@dataclass
class ZaloProduct(ChannelProduct):
    oa: FakeZaloOA
    channel: ClassVar[str] = CHANNEL

    def sends(self, user: str) -> list:
        return self.oa.sends(user)

    def post(self, event: dict | None = None, *, body: bytes | None = None,
             headers: dict[str, str] | None = None) -> httpx.Response:
        if event is not None:
            body, signed_headers = signed(event, APP_ID, OA_SECRET)
            headers = {**signed_headers, **(headers or {})}
        return httpx.post(f"{self.product.url}/webhooks/zalo-oa", content=body, headers=headers or {}, timeout=60)

    def say(self, user: str, text: str, n: int = 1, timeout: float = 60.0) -> list:
        """Send a text, wait for ``n`` more messages to that user, return them."""
        before = len(self.oa.sends(user))
        assert self.post(oa_event(APP_ID, "user_send_text", user, text=text)).status_code == 200
        return self.wait_sends(user, before + n, timeout)[before:]


def msg_id(event: dict) -> str:
    return event["message"]["msg_id"]


@pytest.fixture(scope="module")
def zproduct(trained_model, tmp_path_factory) -> Iterator[ZaloProduct]:
    pg = os.environ.get("LOIVE_TEST_DATABASE_URL", "")
    tmp = tmp_path_factory.mktemp("zalo-oa-product")
    oa = FakeZaloOA(app_id=APP_ID, app_secret_key=APP_SECRET, access_token=SEED_ACCESS, refresh_token=SEED_REFRESH)
    with oa.serve() as oa_url, private_database(pg or f"sqlite:///{tmp / 'loive.db'}") as db_url:
        product = start_product(tmp, db_url, extra_env=zalo_env(oa_url))
        engine = make_engine(db_url)
        try:
            product.wait_ready()
            yield ZaloProduct(product=product, sessions=make_sessionmaker(engine), oa=oa)
        finally:
            product.stop()
            engine.dispose()


@pytest.mark.stack
def test_forged_missing_or_foreign_signatures_are_403_and_nothing_is_stored(zproduct):
    user = "zo-forged"
    event = oa_event(APP_ID, "user_send_text", user, text="xin chào")
    body, headers = signed(event, APP_ID, OA_SECRET)
    assert zproduct.post(body=body, headers={"Content-Type": "application/json"}).status_code == 403
    forged = fakes.signature(APP_ID, body, event["timestamp"], APP_SECRET)  # the App secret is not the OA secret
    assert zproduct.post(body=body, headers={"X-ZEvent-Signature": forged}).status_code == 403
    tampered = body.replace("xin chào".encode(), "tạm biệt".encode())
    assert zproduct.post(body=tampered, headers=headers).status_code == 403
    other_app = oa_event(OTHER_APP_ID, "user_send_text", user, text="xin chào")
    other_body, _ = signed(other_app, APP_ID, OA_SECRET)
    ok_signature_other_app = fakes.signature(OTHER_APP_ID, other_body, other_app["timestamp"], OA_SECRET)
    assert zproduct.post(body=other_body, headers={"X-ZEvent-Signature": ok_signature_other_app}).status_code == 403
    time.sleep(1.0)
    assert zproduct.oa.sends(user) == []
    assert zproduct.identities(user) == 0 and zproduct.events(msg_id(event), msg_id(other_app)) == []
    # The same event, rightly signed: processed as new (nothing of the refused ones was kept).
    assert zproduct.post(body=body, headers=headers).status_code == 200
    greeting, menu = zproduct.wait_sends(user, 2)
    assert greeting.text.startswith("Xin chào anh/chị!")
    assert zproduct.identities(user) == 1 and zproduct.events(msg_id(event), msg_id(other_app)) == ["done"]
    assert zproduct.rasa_turns(user) == [("xin chào", "greet")]


@pytest.mark.stack
def test_malformed_bodies_are_400_and_nothing_is_stored(zproduct):
    user = "zo-malformed"
    sig = {"X-ZEvent-Signature": "mac=" + "0" * 64}
    for body in (b"not json", b"[1, 2]", b'{"app_id": "x"}', b'{"timestamp": null}'):
        assert zproduct.post(body=body, headers=sig).status_code == 400, body
    broken = []
    for field in ("sender", "event_name", "message"):  # rightly signed, but not a usable event
        event = oa_event(APP_ID, "user_send_text", user, text="xin chào")
        del event[field]
        assert zproduct.post(event).status_code == 400, field
        broken.append(event)
    time.sleep(1.0)
    assert zproduct.oa.sends(user) == [] and zproduct.identities(user) == 0
    assert zproduct.events(*(msg_id(e) for e in broken if "message" in e)) == []


@pytest.mark.stack
def test_a_retried_event_is_processed_once(zproduct):
    user = "zo-retry"
    event = oa_event(APP_ID, "user_send_text", user, text="cam on nhe")
    assert [zproduct.post(event).status_code for _ in range(3)] == [200, 200, 200]
    zproduct.wait_sends(user, 1)
    time.sleep(2.0)
    [reply] = zproduct.oa.sends(user)
    assert reply.text.startswith("Không có gì ạ.")
    assert zproduct.events(msg_id(event)) == ["done"] and zproduct.identities(user) == 1
    assert zproduct.rasa_turns(user) == [("cam on nhe", "thank")]


@pytest.mark.stack
def test_buttons_go_out_as_templates_and_a_tap_comes_back_as_the_payload(zproduct):
    user = "zo-tap"
    greeting, menu = zproduct.say(user, "xin chào", n=2)
    assert greeting.text.startswith("Xin chào anh/chị!")
    assert menu.text == "Anh/chị muốn hỏi về việc gì?"
    assert menu.message["attachment"]["payload"]["template_type"] == "button"
    assert [(b["type"], b["title"], b["payload"]) for b in menu.buttons] == [
        ("oa.query.hide", title, payload) for title, payload in zip(TOPIC_TITLES_VI, TOPIC_PAYLOADS)]
    # The tap arrives as a user_send_text whose text is the button's payload.
    answer = zproduct.say(user, menu.buttons[1]["payload"])[0]
    assert answer.text.startswith("Anh/chị đương nhiên được xóa án tích nếu")
    assert "Căn cứ: Điều 69–73, 107 Bộ luật Hình sự 2015 (sửa đổi 2017)" in answer.text
    assert zproduct.rasa_turns(user) == [("xin chào", "greet"), ("/ask_expungement", "ask_expungement")]
    # Rasa's conversation id is opaque, never the Zalo user id.
    assert zproduct.conversation(user) != user and rasa_turns(zproduct.product, user) == []


@pytest.mark.stack
def test_non_text_messages_get_a_text_only_reply_without_rasa(zproduct):
    user = "zo-image"
    event = oa_event(APP_ID, "user_send_image", user)
    assert zproduct.post(event).status_code == 200
    assert zproduct.post(event).status_code == 200  # retried: still one reply
    [reply] = zproduct.wait_sends(user, 1)
    assert reply.text == ONLY_TEXT_VI
    # Receipts and OA echoes are acknowledged and ignored.
    seen = {**oa_event(APP_ID, "user_seen_message", "zo-seen"), "event_name": "user_seen_message"}
    assert zproduct.post(seen).status_code == 200
    time.sleep(1.0)
    assert len(zproduct.oa.sends(user)) == 1 and zproduct.events(msg_id(event)) == ["done"]
    assert zproduct.identities(user) == 1 and zproduct.rasa_turns(user) == []
    assert zproduct.oa.sends("zo-seen") == [] and zproduct.identities("zo-seen") == 0
    assert zproduct.events(msg_id(seen)) == []


@pytest.mark.stack
def test_follow_greets_and_unfollow_marks_the_chat_unreachable(zproduct):
    user = "zo-follow"
    assert zproduct.post(oa_event(APP_ID, "follow", user)).status_code == 200
    greeting, menu = zproduct.wait_sends(user, 2)
    assert greeting.text.startswith("Xin chào anh/chị!")
    assert [b["title"] for b in menu.buttons] == TOPIC_TITLES_VI
    assert zproduct.rasa_turns(user) == [("/greet", "greet")]
    assert zproduct.unreachable(user) is None
    assert zproduct.post(oa_event(APP_ID, "unfollow", user)).status_code == 200
    assert wait_until(lambda: zproduct.unreachable(user))
    # Writing again reopens the chat, and gets answered.
    [thanks] = zproduct.say(user, "cam on nhe")
    assert thanks.text.startswith("Không có gì ạ.") and zproduct.unreachable(user) is None
    assert zproduct.post(oa_event(APP_ID, "unfollow", "zo-never-seen")).status_code == 200
    assert zproduct.identities("zo-never-seen") == 0  # an unknown unfollower is not stored
    assert zproduct.identities(user) == 1


@pytest.mark.stack
def test_product_logs_no_token_secret_or_user_id(zproduct):
    zproduct.say("z-private-user-42", "xin chào", n=2)
    log = zproduct.product.log()
    secrets_seen = {SEED_ACCESS, SEED_REFRESH, OA_SECRET, APP_SECRET, zproduct.oa.access_token, zproduct.oa.refresh_token,
                    *zproduct.oa.refreshes()}
    assert "zalo-oa (webhook)" in log
    for secret in secrets_seen:
        assert secret not in log
    assert "z-private-user-42" not in log
    with zproduct.sessions() as s:
        row = s.get(OAuthToken, "zalo_oa")
        assert (row.access_token, row.refresh_token) == (zproduct.oa.access_token, zproduct.oa.refresh_token)


def admin(product, *args: str) -> str:  # noqa: ANN001
    return subprocess.run([sys.executable, "-m", "bot", "admin", *args], cwd=PROJECT_ROOT, env=dict(product.env),
                          capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]


@pytest.mark.stack
def test_product_enrolls_by_code_and_consent_buttons_over_zalo_oa(zproduct):
    p = zproduct.product
    tag = os.urandom(3).hex()
    admin(p, "add-commune", f"Xã Zalo {tag}")
    person = admin(p, "add-person", "--role", "supervisee", "--name", "Anh Z", "--commune", f"Xã Zalo {tag}")
    code = admin(p, "enroll-code", person).split()[-1]
    [ask] = zproduct.say(f"z-enroll-{tag}", code)
    assert "Anh/chị có đồng ý không?" in ask.text
    assert [b["title"] for b in ask.buttons] == ["Đồng ý", "Không đồng ý"]
    [done] = zproduct.say(f"z-enroll-{tag}", ask.buttons[0]["payload"])
    assert "đã được đăng ký" in done.text
    with zproduct.sessions() as s:
        linked = s.scalar(select(ChannelIdentity.person_id).where(ChannelIdentity.channel == CHANNEL,
                                                                  ChannelIdentity.external_id == f"z-enroll-{tag}"))
    assert linked == person


# --- faults a real Rasa cannot produce on demand: the gateway app alone -----------------------
# Only these two stand the gateway app up without the product: a turn slower
# than Zalo's webhook deadline (SlowRasa, fault injection) and Rasa down (a
# closed port). Each runs on SQLite and on PostgreSQL (a private database).


@dataclass
class Gateway:
    url: str
    oa: FakeZaloOA
    sessions: sessionmaker[Session]

    def post(self, event: dict) -> httpx.Response:
        body, headers = signed(event, APP_ID, OA_SECRET)
        return httpx.post(f"{self.url}/webhooks/zalo-oa", content=body, headers=headers, timeout=30)

    def count(self, model) -> int:  # noqa: ANN001
        with self.sessions() as s:
            return s.scalar(select(func.count()).select_from(model))


@contextlib.contextmanager
def _gateway(db_url: str, tmp_path, rasa_port: int) -> Iterator[Gateway]:  # noqa: ANN001
    oa = FakeZaloOA(app_id=APP_ID, app_secret_key=APP_SECRET, access_token="at-0", refresh_token="rt-0")
    with oa.serve() as oa_url:
        settings = zalo_settings(oa_url, database_url=db_url, rasa_port=rasa_port, actions_port=free_port(),
                                 var_dir=tmp_path / "var")
        engine = make_engine(db_url)
        try:
            with serve(create_app(settings)) as url:
                yield Gateway(url, oa, make_sessionmaker(engine))
        finally:
            engine.dispose()


def test_a_slow_turn_is_acknowledged_within_zalos_deadline_and_finished(own_db_url, tmp_path):
    rasa = SlowRasa()   # holds the turn until released: the webhook must not wait for it
    with rasa.serve() as rasa_url, _gateway(own_db_url, tmp_path, urlsplit(rasa_url).port) as gw:
        event = oa_event(APP_ID, "user_send_text", "u-slow", text="chậm")
        assert gw.post(event).status_code == 200
        assert wait_until(lambda: rasa.messages() == ["chậm"], timeout=15)
        assert gw.post(event).status_code == 200  # Zalo's retry meanwhile: a duplicate
        assert gw.oa.sends("u-slow") == []   # the turn is still running: answered, not yet replied
        rasa.release()
        assert wait_until(lambda: gw.oa.sends("u-slow"), timeout=15)
        time.sleep(0.5)
        assert rasa.messages() == ["chậm"] and [x.text for x in gw.oa.sends("u-slow")] == ["echo: chậm"]
        assert gw.count(InboundEvent) == 1


def test_rasa_down_tells_the_person_to_send_again_once(own_db_url, tmp_path):
    with _gateway(own_db_url, tmp_path, rasa_port=free_port()) as gw:  # nothing listens there
        event = oa_event(APP_ID, "user_send_text", "u-down", text="xin chào")
        assert gw.post(event).status_code == 200
        assert wait_until(lambda: gw.oa.sends("u-down"), timeout=15)
        # Zalo's retry is a duplicate: the person was already told, once.
        assert gw.post(event).status_code == 200
        time.sleep(0.5)
        assert [x.text for x in gw.oa.sends("u-down")] == [
            "Hệ thống đang bận, anh/chị vui lòng gửi lại sau ít phút."]
        assert gw.count(InboundEvent) == 1
