"""People reach people, through the running product (real Rasa and model, real
database) and the fake platforms: a supervisee on Zalo Bot and their mentor on
Telegram (polling) talk through the bot, five messages each way, in order and
exactly once, across a restart of the gateway in the middle (issue 15).
Also writes a transcript of the conversation (LOIVE_RELAY_TRANSCRIPT)."""

from __future__ import annotations

import datetime as dt
import os
import time
from pathlib import Path

import httpx
import pytest
import time_machine
from sqlalchemy import select

from bot.storage.db import make_engine, make_sessionmaker
from bot.storage.models import ChannelIdentity, OutboxMessage, RelayConversation, RelayMessage
from bot.supervision import people
from harness.fakes.telegram import FakeTelegram
from harness.fakes.zalo import FakeZaloBot, bot_update, wait_until
from harness.helpers import TODAY, private_database, serve, start_product
from tests.conftest import TIMESHIFT_DIR
from vietnamese.clock import VIETNAM_TZ

PG_URL = os.environ.get("LOIVE_TEST_DATABASE_URL", "")
ZALO_TOKEN = "12345:relay-zalo-bot-token"
ZALO_SECRET = "relay-secret-0123456789"
MENTOR_CHAT = 7301


# The product runs at 10:00 in Vietnam whatever the real hour (the mentor's
# quiet hours would otherwise hold the request): its Python processes are moved
# there with tests/timeshift, as ``--clock-at`` does.
PRODUCT_AT = dt.datetime.combine(dt.date.fromisoformat(TODAY), dt.time(10), VIETNAM_TZ)


def product_clock_at(at: dt.datetime) -> dict[str, str]:
    real = time_machine.escape_hatch.time.time() if time_machine.escape_hatch.is_travelling() else time.time()
    return {"LOIVE_TEST_CLOCK_OFFSET_S": repr(at.timestamp() - real),
            "PYTHONPATH": os.pathsep.join(filter(None, [str(TIMESHIFT_DIR), os.environ.get("PYTHONPATH")]))}


class Relay:
    """Both fakes, the product (restartable) and the database."""

    def __init__(self, tmp: Path, db: str, tg: FakeTelegram, tg_url: str, zalo: FakeZaloBot, zalo_url: str) -> None:
        self.tmp, self.db, self.tg, self.zalo = tmp, db, tg, zalo
        self.env = {**product_clock_at(PRODUCT_AT), "TELEGRAM_BOT_TOKEN": tg.token, "TELEGRAM_API_BASE": f"{tg_url}/bot",
                    "ZALO_BOT_TOKEN": ZALO_TOKEN, "ZALO_BOT_API_BASE": zalo_url,
                    "ZALO_BOT_WEBHOOK_SECRET": ZALO_SECRET}
        self.engine = make_engine(db)
        self.sessions = make_sessionmaker(self.engine)
        self.product = None
        self.transcript: list[str] = []

    def start(self) -> None:
        self.product = start_product(self.tmp, self.db, self.env)
        self.product.wait_ready()

    def stop(self) -> None:
        if self.product is not None:
            self.product.stop()

    def zalo_says(self, chat: str, text: str) -> None:
        r = httpx.post(f"{self.product.url}/webhooks/zalo-bot", json=bot_update(chat, text),
                       headers={"X-Bot-Api-Secret-Token": ZALO_SECRET}, timeout=60)
        assert r.status_code == 200, r.text
        self.transcript.append(f"[Zalo Bot, người được giúp đỡ] {text}")

    def mentor_says(self, text: str) -> None:
        self.tg.queue_update(self.tg.message_update(MENTOR_CHAT, text))
        self.transcript.append(f"[Telegram, người giúp đỡ] {text}")

    def mentor_presses(self, data: str) -> None:
        self.tg.queue_update(self.tg.callback_update(MENTOR_CHAT, data))

    def outbox(self) -> list[tuple]:
        with self.sessions() as s:
            return [(r.kind, r.status, r.last_error, r.next_attempt_at, r.critical)
                    for r in s.scalars(select(OutboxMessage).order_by(OutboxMessage.id))]

    def zalo_sent(self, chat: str) -> list[str]:
        return [x.text for x in self.zalo.sends(chat)]

    def mentor_sent(self) -> list[dict]:
        return self.tg.sent(MENTOR_CHAT)


@pytest.fixture
def world(trained_model, tmp_path):
    tg, zalo = FakeTelegram(), FakeZaloBot(ZALO_TOKEN)
    with serve(tg.app()) as tg_url, zalo.serve() as zalo_url, \
            private_database(PG_URL or f"sqlite:///{tmp_path / 'app.db'}") as db:
        relay = Relay(tmp_path, db, tg, tg_url, zalo, zalo_url)
        relay.start()
        try:
            yield relay
        finally:
            relay.stop()
            relay.engine.dispose()


def _people(relay: Relay, zalo_chat: str) -> tuple[str, str]:
    with relay.sessions.begin() as s:
        commune = people.add_commune(s, "Xã Relay", "test")
        mentor = people.add_person(s, "mentor", "Chị Mai", commune.name, "test")
        sup = people.add_person(s, "supervisee", "Anh Bình", commune.name, "test", mentor_id=mentor.id)
        now = people.utcnow()
        for channel, ext, pid in (("zalo_bot", zalo_chat, sup.id), ("telegram", str(MENTOR_CHAT), mentor.id)):
            s.add(ChannelIdentity(channel=channel, external_id=ext, locale="vi", person_id=pid, created_at=now,
                                  last_inbound_at=now))
        return sup.id, mentor.id


@pytest.mark.stack
def test_zalo_supervisee_and_telegram_mentor_exchange_five_each_way_across_a_restart(world):
    chat = "zb-relay-" + os.urandom(3).hex()
    sup, mentor = _people(world, chat)
    world.zalo_says(chat, "tôi muốn gặp người giúp đỡ của tôi")
    assert wait_until(lambda: any("Em đã mở cuộc trò chuyện" in t for t in world.zalo_sent(chat)), 60), \
        world.zalo_sent(chat)
    # The mentor is told in their own chat, with the person's words and the button to answer.
    assert wait_until(lambda: world.mentor_sent(), 60), (world.zalo_sent(chat), world.outbox(),
                                                         world.product.log()[-3000:])
    [request] = world.mentor_sent()
    assert "Anh Bình xin nói chuyện với anh/chị" in request["text"]
    assert "tôi muốn gặp người giúp đỡ của tôi" in request["text"]
    [button] = [b for row in request["reply_markup"]["inline_keyboard"] for b in row
                if b["text"] == "Nhắn cho anh/chị Anh Bình"]
    world.mentor_presses(button["callback_data"])
    assert wait_until(lambda: len(world.mentor_sent()) >= 2, 60)
    assert "Anh/chị đang trò chuyện với Anh Bình" in world.mentor_sent()[1]["text"]
    assert wait_until(lambda: any("Chị Mai đã vào cuộc trò chuyện" in t for t in world.zalo_sent(chat)), 60)
    zalo_before, tg_before = len(world.zalo_sent(chat)), len(world.mentor_sent())

    def exchange(i: int) -> None:
        world.zalo_says(chat, f"Chị ơi, em nhắn lần {i}")
        world.mentor_says(f"Chị nghe em, lần {i}")

    for i in range(1, 4):
        exchange(i)
    # Restart the gateway in the middle: what was written before arrives once; the rest after.
    assert wait_until(lambda: len(world.mentor_sent()) >= tg_before + 3, 60)
    world.stop()
    world.mentor_says("Chị nghe em, lần 4")      # written while the gateway is down: waits at Telegram
    world.transcript.append("(gateway restarted)")
    world.start()
    world.zalo_says(chat, "Chị ơi, em nhắn lần 4")
    exchange(5)
    want_to_mentor = [f"Anh Bình: Chị ơi, em nhắn lần {i}" for i in range(1, 6)]
    want_to_person = [f"Chị Mai: Chị nghe em, lần {i}" for i in range(1, 6)]
    assert wait_until(lambda: len(world.mentor_sent()) >= tg_before + 5
                      and len(world.zalo_sent(chat)) >= zalo_before + 5, 90)
    time.sleep(3)   # nothing more may come (exactly once)
    to_mentor = [m["text"] for m in world.mentor_sent()[tg_before:]]
    to_person = world.zalo_sent(chat)[zalo_before:]
    assert to_mentor == want_to_mentor
    assert to_person == want_to_person
    with world.sessions() as s:
        conv = s.scalar(select(RelayConversation).where(RelayConversation.person_id == sup))
        assert conv.status == "open" and conv.staff_id == mentor and conv.first_reply_at is not None
        assert s.query(RelayMessage).filter(RelayMessage.conversation_id == conv.id).count() == 10
    # The mentor ends it; the person is told.
    world.mentor_says("Kết thúc trò chuyện")
    assert wait_until(lambda: any("Bên kia đã đóng cuộc trò chuyện" in t for t in world.zalo_sent(chat)), 60)
    # Relayed texts never reach the log.
    assert "em nhắn lần" not in world.product.log() and "Chị nghe em" not in world.product.log()
    out = os.environ.get("LOIVE_RELAY_TRANSCRIPT")
    if out:
        lines = [*world.transcript, "", "--- Zalo Bot (person) received:", *world.zalo_sent(chat),
                 "", "--- Telegram (mentor) received:", *(m["text"] for m in world.mentor_sent())]
        Path(out).write_text("\n".join(lines) + "\n", encoding="utf-8")
