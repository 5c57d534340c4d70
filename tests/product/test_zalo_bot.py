"""Zalo Bot Platform over real HTTP on loopback: the sender (chunking, numbered
choices, errors) against a fake Bot API; and the webhook — secret, malformed,
wrapped and flat bodies, retries, typed numbers, non-text messages, whole
conversations — through the running product (real Rasa and model, SQLite or
PostgreSQL) with the Bot API pointed at the fake."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import ClassVar

import httpx
import pytest

from bot.channels.base import Outgoing, RetryLater
from bot.channels.zalo_bot import (CHANNEL, CHOOSE_HINT, UNSUPPORTED, ZaloBotSender, clear_choices, manage_webhook,
                                   store_choices, take_choice, webhook_secret)
from bot.channels.zalo_client import ZaloAuthError, ZaloBotClient, ZaloError, ZaloNetworkError
from bot.config import Settings, load_settings
from bot.conversation.core import resolve_identity
from bot.conversation.rasa_client import Button
from bot.i18n import gettext
from bot.storage.db import make_engine, make_sessionmaker
from bot.storage.models import ChannelIdentity
from harness.fakes.zalo import ChannelProduct, FakeZaloBot, bot_update
from harness.helpers import TOPIC_TITLES_VI, private_database, start_product

TOKEN = "1234567890:zalo-bot-token-Xy9"
SECRET = "bot-webhook-secret-42"
ONLY_TEXT_VI = "Tôi chỉ đọc được tin nhắn chữ. Anh/chị vui lòng gõ câu hỏi."
CHOOSE_HINT_VI = "Anh/chị nhắn số tương ứng để chọn."
UNSUPPORTED_VI = ("Xin lỗi, Zalo không cho tôi đọc tin nhắn từ tài khoản này nên tôi chưa thể giúp anh/chị ở đây. "
                  "Anh/chị vui lòng liên hệ trực tiếp cán bộ xã.")


@pytest.fixture
def sessions(own_sessions):  # this module's dispatchers and tokens want a database of their own
    return own_sessions


@pytest.fixture
def bot() -> Iterator[FakeZaloBot]:
    fake = FakeZaloBot(TOKEN)
    with fake.serve() as url:
        fake.url = url
        yield fake


def bot_settings(url: str, **changes: object) -> Settings:
    return dataclasses.replace(load_settings(), zalo_bot_token=TOKEN, zalo_bot_webhook_secret=SECRET,
                               zalo_bot_api_base=url, **changes)


def make_sender(sessions, url: str, token: str = TOKEN, timeout_s: float = 10.0) -> ZaloBotSender:  # noqa: ANN001
    return ZaloBotSender(ZaloBotClient(token, url, timeout_s), sessions, 10.0)


def out(ident: str, chat: str, text: str, buttons: tuple[Button, ...] = ()) -> Outgoing:
    return Outgoing(key=f"k-{os.urandom(4).hex()}", identity_id=ident, external_id=chat, text=text,
                    buttons=buttons, kind="reply")


def choices_of(sessions, ident: str) -> list[str] | None:  # noqa: ANN001
    with sessions() as s:
        raw = s.get(ChannelIdentity, ident).last_choices
    return json.loads(raw)["payloads"] if raw else None


CONSENT = (Button("Đồng ý", "/affirm"), Button("Không đồng ý", "/deny"))


# --- sending ---------------------------------------------------------------------------------


def test_long_texts_are_cut_into_messages_of_at_most_2000_characters(sessions, bot):
    ident, _ = resolve_identity(sessions, CHANNEL, "c-long", None)
    text = "\n\n".join(f"Đoạn {i}. " + "nội dung dài " * 40 for i in range(10))
    assert len(text) > 4000
    asyncio.run(make_sender(sessions, bot.url).send(out(ident, "c-long", text)))
    parts = [x.text for x in bot.sends("c-long")]
    assert len(parts) == 3 and all(1 <= len(p) <= 2000 for p in parts)
    assert " ".join(parts).split() == text.split()


def test_choices_become_a_numbered_list_and_are_remembered(sessions, bot):
    ident, _ = resolve_identity(sessions, CHANNEL, "c-choices", None)
    asyncio.run(make_sender(sessions, bot.url).send(out(ident, "c-choices", "Anh/chị có đồng ý không?", CONSENT)))
    [sent] = bot.sends("c-choices")
    assert sent.text == ("Anh/chị có đồng ý không?\n\n1. Đồng ý\n2. Không đồng ý\n"
                         + gettext(CHOOSE_HINT, "vi"))
    assert choices_of(sessions, ident) == ["/affirm", "/deny"]


def test_a_typed_number_becomes_the_choice_and_the_choices_are_then_forgotten(sessions):
    ident, _ = resolve_identity(sessions, CHANNEL, "c-number", None)
    assert take_choice(sessions, "c-number", "1") == ("1", None)  # nothing shown: a number stays a number
    store_choices(sessions, ident, ["/affirm", "/deny"])
    for typed, expected in (("2", "/deny"), (" 1. ", "/affirm"), ("2)", "/deny"), ("3", "3"), ("0", "0"),
                            ("2 năm", "2 năm"), ("đồng ý", "đồng ý")):
        text, shown = take_choice(sessions, "c-number", typed)
        assert text == expected and shown is not None, typed
    clear_choices(sessions, "c-number", shown)
    assert choices_of(sessions, ident) is None
    # A newer list sent meanwhile is not cleared by an older answer.
    store_choices(sessions, ident, ["/a"])
    _, old = take_choice(sessions, "c-number", "1")
    store_choices(sessions, ident, ["/a"])
    clear_choices(sessions, "c-number", old)
    assert choices_of(sessions, ident) == ["/a"]


@pytest.mark.parametrize("answer, expected", [
    (("status", 429), RetryLater),
    (("status", 500), ZaloError),
    (("delay", 2.0), ZaloNetworkError),
])
def test_platform_errors_map_to_what_the_dispatcher_understands(sessions, bot, answer, expected):
    ident, _ = resolve_identity(sessions, CHANNEL, "c-err", None)
    bot.fail_next(answer)
    with pytest.raises(expected):
        asyncio.run(make_sender(sessions, bot.url, timeout_s=0.5).send(out(ident, "c-err", "Xin chào")))
    assert bot.sends() == []


def test_a_refused_token_is_a_configuration_error_that_never_leaks_the_token(sessions, bot, caplog):
    ident, _ = resolve_identity(sessions, CHANNEL, "c-401", None)
    with pytest.raises(ZaloAuthError) as err:
        asyncio.run(make_sender(sessions, bot.url, token="999:wrong-token").send(out(ident, "c-401", "Xin chào")))
    assert err.value.code == 401 and "wrong-token" not in str(err.value)
    assert "ZALO_BOT_TOKEN" in caplog.text and "wrong-token" not in caplog.text


def test_the_cli_sets_the_webhook_with_its_secret(bot, tmp_path):
    settings = dataclasses.replace(bot_settings(bot.url), zalo_bot_webhook_secret="", var_dir=tmp_path,
                                   secret_key="k" * 32, zalo_bot_webhook_url="https://example.org/webhooks/zalo-bot")
    assert asyncio.run(manage_webhook(settings, "set-webhook")).startswith("url=https://example.org/webhooks/zalo-bot")
    assert bot.webhook == {"url": "https://example.org/webhooks/zalo-bot", "secret_token": webhook_secret(settings)}
    assert len(webhook_secret(settings)) == 64  # derived from the product's secret key: 8–256 characters
    assert asyncio.run(manage_webhook(settings, "delete-webhook")) == "url=- updated_at=1"


# --- the webhook, through the running product -------------------------------------------------
# One product per module (real Rasa and model, real database, the Bot API
# pointed at the fake); its database is shared by these tests, so each uses its
# own chat ids and counts only its own rows.


@dataclass
class ZaloBotProduct(ChannelProduct):
    bot: FakeZaloBot
    channel: ClassVar[str] = CHANNEL

    def sends(self, chat: str) -> list:
        return self.bot.sends(chat)

    def post(self, update: dict | None = None, *, body: bytes | None = None, secret: str | None = SECRET
             ) -> httpx.Response:
        headers = {"Content-Type": "application/json"}
        if secret is not None:
            headers["X-Bot-Api-Secret-Token"] = secret
        if update is not None:
            body = json.dumps(update, ensure_ascii=False).encode()
        return httpx.post(f"{self.product.url}/webhooks/zalo-bot", content=body, headers=headers, timeout=60)

    def say(self, chat: str, text: str, n: int = 1) -> list:
        before = len(self.bot.sends(chat))
        assert self.post(bot_update(chat, text)).status_code == 200
        return self.wait_sends(chat, before + n)[before:]


def message_id(update: dict) -> str:
    return update.get("result", update)["message"]["message_id"]


@pytest.fixture(scope="module")
def zproduct(trained_model, tmp_path_factory) -> Iterator[ZaloBotProduct]:
    pg = os.environ.get("LOIVE_TEST_DATABASE_URL", "")
    tmp = tmp_path_factory.mktemp("zalo-bot-product")
    bot = FakeZaloBot(TOKEN)
    with bot.serve() as bot_url, private_database(pg or f"sqlite:///{tmp / 'loive.db'}") as db_url:
        product = start_product(tmp, db_url, extra_env={"ZALO_BOT_TOKEN": TOKEN, "ZALO_BOT_API_BASE": bot_url,
                                                        "ZALO_BOT_WEBHOOK_SECRET": SECRET})
        engine = make_engine(db_url)
        try:
            product.wait_ready()
            yield ZaloBotProduct(product=product, sessions=make_sessionmaker(engine), bot=bot)
        finally:
            product.stop()
            engine.dispose()


@pytest.mark.stack
def test_a_missing_or_wrong_secret_is_403_and_nothing_is_stored(zproduct):
    chat = "zb-forged"
    update = bot_update(chat, "xin chào")
    for secret in (None, SECRET + "x", "", "wrong-secret"):
        assert zproduct.post(update, secret=secret).status_code == 403, secret
    time.sleep(1.0)
    assert zproduct.bot.sends(chat) == []
    assert zproduct.identities(chat) == 0 and zproduct.events(message_id(update)) == []
    # The same update with the right secret: processed as new (nothing of the refused ones was kept).
    assert zproduct.post(update).status_code == 200
    greeting, _ = zproduct.wait_sends(chat, 2)
    assert greeting.text.startswith("Xin chào anh/chị!")
    assert zproduct.identities(chat) == 1 and zproduct.events(message_id(update)) == ["done"]
    assert zproduct.rasa_turns(chat) == [("xin chào", "greet")]


@pytest.mark.stack
def test_malformed_bodies_are_400_and_nothing_is_stored(zproduct):
    no_chat = {"event_name": "message.text.received", "message": {"text": "xin chào", "message_id": "zb-no-chat"}}
    for body in (b"not json", b"[]", b'{"ok": true}', b'{"ok": true, "result": {"event_name": "x"}}',
                 json.dumps(no_chat).encode(), json.dumps({"ok": True, "result": no_chat}).encode()):
        assert zproduct.post(body=body).status_code == 400, body
    time.sleep(1.0)
    assert zproduct.events("zb-no-chat") == []


@pytest.mark.stack
def test_wrapped_and_flat_bodies_are_both_understood_and_a_retry_is_processed_once(zproduct):
    chat = "zb-body"
    wrapped = bot_update(chat, "cam on nhe")
    assert [zproduct.post(wrapped).status_code for _ in range(3)] == [200, 200, 200]
    flat = bot_update(chat, "tạm biệt", flat=True)
    assert zproduct.post(flat).status_code == 200
    thanks, bye = zproduct.wait_sends(chat, 2)
    assert thanks.text.startswith("Không có gì ạ.")
    assert bye.text.startswith("Chào anh/chị, chúc anh/chị")
    time.sleep(2.0)
    assert len(zproduct.bot.sends(chat)) == 2
    assert zproduct.events(message_id(wrapped), message_id(flat)) == ["done", "done"]
    assert zproduct.rasa_turns(chat) == [("cam on nhe", "thank"), ("tạm biệt", "goodbye")]


@pytest.mark.stack
def test_choices_are_numbered_and_a_typed_number_reaches_rasa_as_that_payload(zproduct):
    chat = "zb-menu"
    numbered_topics = [f"{i}. {t}" for i, t in enumerate(TOPIC_TITLES_VI, 1)]
    greeting, menu = zproduct.say(chat, "xin chào", n=2)
    assert greeting.text.startswith("Xin chào anh/chị!")
    lines = menu.text.splitlines()
    assert lines[0] == "Anh/chị muốn hỏi về việc gì?"
    assert lines[2:7] == numbered_topics and lines[7] == CHOOSE_HINT_VI
    answer = zproduct.say(chat, "2")[0]
    assert answer.text.startswith("Anh/chị đương nhiên được xóa án tích nếu")
    assert "Căn cứ: Điều 69–73, 107 Bộ luật Hình sự 2015 (sửa đổi 2017)" in answer.text
    assert zproduct.rasa_turns(chat)[-1] == ("/ask_expungement", "ask_expungement")

    # An answer without choices: the menu's were used up, so the same number is now just a number.
    _, menu = zproduct.say(chat, "xin chào", n=2)
    assert menu.text.splitlines()[2:7] == numbered_topics
    [checkin] = zproduct.say(chat, "4")
    assert checkin.text.startswith("Báo cáo định kỳ ở đây dành cho người đã đăng ký với cán bộ.")
    assert CHOOSE_HINT_VI not in checkin.text
    zproduct.say(chat, "4")
    assert [text for text, _ in zproduct.rasa_turns(chat)] == [
        "xin chào", "/ask_expungement", "xin chào", "/checkin", "4"]


@pytest.mark.stack
def test_unsupported_and_non_text_messages_get_a_fixed_reply_without_rasa(zproduct):
    unsupported = bot_update("zb-protected", event_name="message.unsupported.received")
    assert zproduct.post(unsupported).status_code == 200
    assert zproduct.post(unsupported).status_code == 200  # retried: still one reply
    image = bot_update("zb-image", event_name="message.image.received")
    assert zproduct.post(image).status_code == 200
    [protected] = zproduct.wait_sends("zb-protected", 1)
    assert protected.text == UNSUPPORTED_VI == gettext(UNSUPPORTED, "vi")
    [only_text] = zproduct.wait_sends("zb-image", 1)
    assert only_text.text == ONLY_TEXT_VI
    group = bot_update("zb-group", "xin chào", chat_type="GROUP")
    assert zproduct.post(group).status_code == 200  # groups are not served
    time.sleep(1.0)
    assert len(zproduct.bot.sends("zb-protected")) == 1
    assert zproduct.events(message_id(unsupported), message_id(image)) == ["done", "done"]
    assert zproduct.rasa_turns("zb-protected") == [] and zproduct.rasa_turns("zb-image") == []
    assert zproduct.bot.sends("zb-group") == [] and zproduct.identities("zb-group") == 0
    assert zproduct.events(message_id(group)) == []


@pytest.mark.stack
def test_product_logs_neither_the_bot_token_nor_user_ids(zproduct):
    zproduct.say("zb-private-user-7", "xin chào", n=2)
    log = zproduct.product.log()
    assert "zalo-bot (webhook)" in log
    for secret in (TOKEN, TOKEN.split(":")[1], SECRET, "zb-private-user-7"):
        assert secret not in log
