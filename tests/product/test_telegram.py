"""Telegram through the whole product, against a fake Bot API server on loopback
(python-telegram-bot pointed at it with ``base_url``): verified webhooks, one
processing per update, buttons, deep-link enrollment, 429 and 403, polling."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import httpx
import pytest
from sqlalchemy import select

from bot import PROJECT_ROOT
from bot.channels.base import Outgoing, RetryLater, Unreachable
from bot.channels.telegram import TelegramSender, split_text
from bot.conversation.rasa_client import Button
from bot.storage.db import make_engine, make_sessionmaker
from bot.storage.models import ChannelIdentity, InboundEvent
from harness.fakes.telegram import FakeTelegram
from harness.helpers import cmdline, descendants, migrated_sessions, private_database, serve, start_product

PG_URL = os.environ.get("LOIVE_TEST_DATABASE_URL", "")

SECRET = "test-secret_" + "x" * 20


# --- pure parts ----------------------------------------------------------------------


def test_long_texts_are_split_at_breaks_under_the_limit():
    text = ("Đoạn một. " * 300).strip() + "\n\n" + ("Đoạn hai dài. " * 300).strip()
    parts = split_text(text)
    assert all(len(p) <= 4096 for p in parts) and len(parts) >= 2
    assert "".join(parts).replace(" ", "").replace("\n", "") == text.replace(" ", "").replace("\n", "")
    assert split_text("ngắn") == ["ngắn"]
    assert all(len(p) <= 4096 for p in split_text("x" * 10000))  # no break at all: hard cut


# --- the sender against the fake server ----------------------------------------------


@pytest.fixture
def fake():
    fake = FakeTelegram()
    with serve(fake.app()) as url:
        fake.url = url
        yield fake


@pytest.fixture
def sessions(tmp_path):
    with migrated_sessions(f"sqlite:///{tmp_path / 'tg.db'}") as made:
        yield made


def _sender(fake, sessions) -> TelegramSender:
    from telegram import Bot

    return TelegramSender(Bot(fake.token, base_url=f"{fake.url}/bot"), sessions, rate=30)


def _msg(text: str, buttons=(), chat: int = 42) -> Outgoing:
    return Outgoing(key="k", identity_id="i", external_id=str(chat), text=text, buttons=tuple(buttons))


def test_sender_splits_long_messages_and_maps_buttons(fake, sessions):
    long_payload = '/alert_action{"alert_id":"123456","alert_status":"acknowledged","reason_code":"help"}'
    buttons = [Button("Vay vốn", "/ask_loan"), Button("Đã xử lý", long_payload)]
    asyncio.run(_sender(fake, sessions).send(_msg("A" * 5000, buttons)))
    first, last = fake.sent(42)
    assert len(first["text"]) == 4096 and "reply_markup" not in first    # buttons on the last part only
    rows = last["reply_markup"]["inline_keyboard"]
    assert rows[0][0] == {"text": "Vay vốn", "callback_data": "/ask_loan"}
    assert rows[1][0]["callback_data"].startswith("cb:") and len(rows[1][0]["callback_data"].encode()) <= 64


def test_sender_maps_429_and_403(fake, sessions):
    fake.fail_next.append((429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 3",
                                 "parameters": {"retry_after": 3}}))
    fake.blocked_chats.add(43)

    async def scenario() -> None:
        sender = _sender(fake, sessions)
        with pytest.raises(RetryLater) as exc:
            await sender.send(_msg("hi"))
        assert exc.value.retry_after == 3
        with pytest.raises(Unreachable):
            await sender.send(_msg("hi", chat=43))

    asyncio.run(scenario())


# --- the whole product, webhook mode ---------------------------------------------------


@pytest.fixture(scope="module")
def tg_product(trained_model, tmp_path_factory):
    fake = FakeTelegram()
    tmp = tmp_path_factory.mktemp("telegram")
    with serve(fake.app()) as url, private_database(PG_URL or f"sqlite:///{tmp / 'app.db'}") as db:
        product = start_product(tmp, db, {
            "TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE": f"{url}/bot",
            "TELEGRAM_WEBHOOK_URL": "https://loive.example/webhooks/telegram",
            "TELEGRAM_WEBHOOK_SECRET": SECRET, "TELEGRAM_BOT_USERNAME": "loive_test_bot"})
        try:
            product.wait_ready()
            deadline = time.monotonic() + 30
            while not fake.called("getMe") and time.monotonic() < deadline:
                time.sleep(0.1)
            yield product, fake
        finally:
            product.stop()


def post(product, update, secret: str | None = SECRET, raw: bytes | None = None) -> httpx.Response:
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers["X-Telegram-Bot-Api-Secret-Token"] = secret
    if raw is not None:
        return httpx.post(f"{product.url}/webhooks/telegram", content=raw, headers=headers, timeout=60)
    return httpx.post(f"{product.url}/webhooks/telegram", json=update, headers=headers, timeout=60)


def events(product) -> int:
    engine = make_engine(product.env["DATABASE_URL"])
    with make_sessionmaker(engine)() as s:
        n = len(list(s.scalars(select(InboundEvent.id).where(InboundEvent.channel == "telegram"))))
    engine.dispose()
    return n


@pytest.mark.stack
def test_forged_or_missing_secret_is_refused_and_changes_nothing(tg_product):
    product, fake = tg_product
    before_events, before_sent = events(product), len(fake.sent())
    update = fake.message_update(5001, "xin chào")
    assert post(product, update, secret="wrong").status_code == 403
    assert post(product, update, secret=None).status_code == 403
    assert post(product, update, secret=SECRET[:-1]).status_code == 403
    time.sleep(1.5)
    assert events(product) == before_events and len(fake.sent()) == before_sent


@pytest.mark.stack
def test_malformed_updates_get_400(tg_product):
    product, _ = tg_product
    assert post(product, None, raw=b"{not json").status_code == 400
    assert post(product, None, raw=b'{"message": {}}').status_code == 400
    assert post(product, None, raw=b"[1, 2]").status_code == 400


@pytest.mark.stack
def test_a_conversation_with_buttons_typing_and_callbacks(tg_product):
    product, fake = tg_product
    chat = 5002
    assert post(product, fake.message_update(chat, "xin chào")).status_code == 200
    greeting, menu = fake.wait_sent(chat, 2)
    assert greeting["text"].startswith("Xin chào anh/chị!")
    assert menu["text"] == "Anh/chị muốn hỏi về việc gì?"                      # in order, one per second
    keyboard = menu["reply_markup"]["inline_keyboard"]
    assert [row[0]["callback_data"] for row in keyboard] == [
        "/ask_loan", "/ask_expungement", "/ask_documents", "/checkin", "/request_human"]
    assert any(int(c["chat_id"]) == chat for c in fake.called("sendChatAction"))

    update = fake.callback_update(chat, "/ask_loan")
    assert post(product, update).status_code == 200
    answered = [c for c in fake.called("answerCallbackQuery") if c["callback_query_id"] == f"cq{update['update_id']}"]
    assert answered, "every callback query is answered"
    replies = fake.wait_sent(chat, 3)
    assert "vay" in replies[2]["text"].lower()


@pytest.mark.stack
def test_a_retried_update_is_processed_once(tg_product):
    product, fake = tg_product
    chat = 5003
    update = fake.message_update(chat, "làm sao xin phiếu lý lịch tư pháp")
    for _ in range(3):  # Telegram retries the same update_id
        assert post(product, update).status_code == 200
    fake.wait_sent(chat)
    time.sleep(3)   # the turn may send more than one message (an answer, then its caution)
    sent = [m["text"] for m in fake.sent(chat)]
    assert len(sent) == len(set(sent)) >= 1, sent   # processed once: no message twice


@pytest.mark.stack
def test_enrollment_by_deep_link(tg_product):
    product, fake = tg_product
    env = dict(product.env)

    def admin(*args):
        return subprocess.run([sys.executable, "-m", "bot", "admin", *args], cwd=PROJECT_ROOT, env=env,
                              capture_output=True, text=True, check=True).stdout.strip().splitlines()

    tag = os.urandom(3).hex()
    admin("add-commune", f"Xã TG {tag}")
    person = admin("add-person", "--role", "supervisee", "--name", "Anh T", "--commune", f"Xã TG {tag}")[-1]
    out = admin("enroll-code", person)
    code, link = out[-1], out[-2]
    assert link == f"https://t.me/loive_test_bot?start={code}"
    chat = 5004
    post(product, fake.message_update(chat, f"/start {code}"))
    [consent] = fake.wait_sent(chat)
    titles = [row[0]["text"] for row in consent["reply_markup"]["inline_keyboard"]]
    assert titles == ["Đồng ý", "Không đồng ý"]
    post(product, fake.callback_update(chat, consent["reply_markup"]["inline_keyboard"][0][0]["callback_data"]))
    assert "đã được đăng ký" in fake.wait_sent(chat, 2)[1]["text"]


@pytest.mark.stack
def test_429_is_respected_and_the_reply_still_arrives_once(tg_product):
    product, fake = tg_product
    chat = 5005
    fake.fail_next.append((429, {"ok": False, "error_code": 429, "description": "Too Many Requests: retry after 1",
                                 "parameters": {"retry_after": 1}}))
    post(product, fake.message_update(chat, "cảm ơn"))
    got = fake.wait_sent(chat, timeout=60)
    time.sleep(2)
    assert len(fake.sent(chat)) == len(got) == 1


@pytest.mark.stack
def test_a_blocked_chat_is_marked_unreachable(tg_product):
    product, fake = tg_product
    chat = 5006
    fake.blocked_chats.add(chat)
    post(product, fake.message_update(chat, "xin chào"))
    engine = make_engine(product.env["DATABASE_URL"])
    sessions = make_sessionmaker(engine)
    deadline = time.monotonic() + 30
    unreachable = None
    while time.monotonic() < deadline and unreachable is None:
        with sessions() as s:
            unreachable = s.scalar(select(ChannelIdentity.unreachable_at).where(
                ChannelIdentity.channel == "telegram", ChannelIdentity.external_id == str(chat)))
        time.sleep(0.2)
    engine.dispose()
    assert unreachable is not None


@pytest.mark.stack
def test_unconfigured_channels_answer_404(product):
    deadline = time.monotonic() + 60  # the supervisor prints it when it sees /healthz ready
    while "see .env.example" not in product.log() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert "channels on: web  (Telegram/Zalo: see .env.example)" in product.log()
    for name in ("telegram", "zalo-oa", "zalo-bot"):
        r = httpx.post(f"{product.url}/webhooks/{name}", json={}, timeout=10)
        assert r.status_code == 404, name
    assert httpx.post(f"{product.url}/webhooks/other", json={}, timeout=10).status_code == 404


# --- polling mode and the webhook CLI --------------------------------------------------


@pytest.mark.stack
def test_polling_mode_and_webhook_cli(trained_model, tmp_path):
    fake = FakeTelegram()
    with serve(fake.app()) as url, private_database(PG_URL or f"sqlite:///{tmp_path / 'app.db'}") as db:
        env = {"TELEGRAM_BOT_TOKEN": fake.token, "TELEGRAM_API_BASE": f"{url}/bot"}
        product = start_product(tmp_path, db, env)
        try:
            product.wait_ready()
            fake.queue_update(fake.message_update(6001, "xin chào"))
            assert fake.wait_sent(6001), "a polled update is answered"
            assert "telegram (polling)" in product.log()
        finally:
            product.stop()
        cli_env = {**product.env, "TELEGRAM_WEBHOOK_URL": "https://loive.example/webhooks/telegram",
                   "TELEGRAM_WEBHOOK_SECRET": SECRET}
        out = subprocess.run([sys.executable, "-m", "bot", "telegram", "set-webhook"], cwd=PROJECT_ROOT,
                             env=cli_env, capture_output=True, text=True, check=True).stdout
        assert "url=https://loive.example/webhooks/telegram" in out
        assert fake.webhook["secret_token"] == SECRET
        assert fake.webhook["allowed_updates"] == '["message", "callback_query"]'
        subprocess.run([sys.executable, "-m", "bot", "telegram", "delete-webhook"], cwd=PROJECT_ROOT, env=cli_env,
                       check=True, capture_output=True)
        assert fake.webhook == {}


@pytest.mark.stack
def test_while_the_action_server_is_down_the_person_is_told_to_send_again(tg_product):
    """Issue 11: never silence. The action server is killed (with its workers);
    the turn's answer is the busy reply, sent once, and the update is done."""
    product, fake = tg_product
    chat = 5009
    [actions] = [p for p in descendants(product.proc.pid) if "rasa_sdk" in cmdline(p)]
    os.killpg(os.getpgid(actions), signal.SIGKILL)
    update = fake.message_update(chat, "muốn vay vốn làm ăn thì làm sao")
    assert post(product, update).status_code == 200
    [sent] = fake.wait_sent(chat, 1)
    assert sent["text"] == "Hệ thống đang bận, anh/chị vui lòng gửi lại sau ít phút."
    assert post(product, update).status_code == 200     # Telegram's retry: already answered
    product.wait_ready(timeout=120)
    time.sleep(1.5)
    assert len(fake.sent(chat)) == 1
