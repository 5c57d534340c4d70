"""Tracker compaction (bot/runtime/rasa_server.py, issue 17): a long conversation's
latest session is rewritten as a short one at the end of a turn, so Rasa's cost per
turn stops growing with the conversation. It must change nothing a person sees.

The same long conversation — questions, the expungement form interrupted by
questions and resumed, the loan pre-check, the details button, a fallback, a
distress message that reads the turns before it — goes to two products started
by the run command: one compacting as soon as a session passes 20 events (almost
every turn, often in the middle of a form), one never compacting. Every reply of
every turn must be the same, and the first product's tracker store must show
that it did compact, with a form active at a compaction.
"""

from __future__ import annotations

import contextlib
import json
import os

import pytest
from sqlalchemy import text

from bot.config import load_settings
from bot.conversation.core import tracker_engine
from harness.fakes.zalo import rasa_turns
from harness.helpers import private_database, start_product
from tests.conftest import PG_URL

pytestmark = pytest.mark.stack

EXPUNGEMENT = "toi bi tu 3 nam, chap hanh xong ngay 01/06/2023, da nop du tien boi thuong, khi nao duoc xoa an tich?"
SCRIPT = [
    "xin chào", "bạn giúp được gì", "xóa án tích bao lâu", "/show_details", "làm cccd ở đâu",
    "toi muon vay von", "giá vàng hôm nay", "cam on nhe",
    # the expungement form, with a question in the middle of it, then resumed
    "tôi muốn tính ngày xóa án tích", "tôi bị phạt tù 18 tháng", "lãi suất vay vốn bao nhiêu một năm",
    "/affirm", "ra trại ngày 15/3/2024", "tren 18", "khong", "ko", "khong co", "/show_details",
    EXPUNGEMENT, "tren 18", "khong", "ko", "khong co",
    # the loan pre-check
    "Tôi ra tù tháng 3 năm 2024, muốn vay 50 triệu mở tiệm sửa xe", "/affirm", "/show_details",
    "e chưa có giấy chứng nhận thì sao", "vay o dau z bn",
    # a fallback twice, then distress that reads the turns before it
    "asdf qwer zxcv", "hjkl uiop", "dạo này em buồn lắm, tối không ngủ được",
    "phiếu lý lịch tư pháp làm ở đâu", "bao lâu có kết quả", "mấy ngày thì có tiền",
    "xóa án tích bao lâu", "cam on nhe", "tạm biệt",
]


def replies_of(product, user: str) -> list[list[str]]:
    turns = []
    for message in SCRIPT:
        out = product.say(user, message)
        turns.append([json.dumps({k: r.get(k) for k in ("text", "buttons", "custom")}, ensure_ascii=False,
                                 sort_keys=True) for r in out])
    return turns


@contextlib.contextmanager
def product_compacting_at(tmp, request, events: int):
    db = (private_database(request.getfixturevalue("pg_url")) if PG_URL
          else contextlib.nullcontext(f"sqlite:///{tmp / 'var' / 'loive.db'}"))
    with db as url:
        p = start_product(tmp, url, {"LOIVE_TRACKER_COMPACT_AT": str(events)})
        try:
            p.wait_ready()
            yield p
        finally:
            p.stop()


def test_compaction_changes_no_reply_of_a_long_conversation(trained_model, tmp_path_factory, request):
    user = "compaction-" + os.urandom(3).hex()
    with product_compacting_at(tmp_path_factory.mktemp("never"), request, 10**9) as p:
        expected = replies_of(p, user)
    with product_compacting_at(tmp_path_factory.mktemp("often"), request, 20) as p:
        got = replies_of(p, user)
        engine = tracker_engine(load_settings(p.env))
        try:
            with engine.connect() as conn:
                # The gateway names the conversation (not the "user" it was given): the
                # one conversation of this product is the longest.
                sender = conn.execute(text("SELECT sender_id FROM events GROUP BY sender_id "
                                           "ORDER BY count(*) DESC LIMIT 1")).scalar()
                rows = conn.execute(text("SELECT type_name, timestamp, data FROM events WHERE sender_id = :s "
                                         "ORDER BY id"), {"s": sender}).all()
        finally:
            engine.dispose()
        history = [said for said, _ in rasa_turns(p, sender)]   # Rasa's HTTP API: every session
    for i, (message, want, have) in enumerate(zip(SCRIPT, expected, got)):
        assert have == want, f"turn {i + 1} ({message!r}) answered differently after compaction"
    assert all(expected), "every turn has a reply"
    starts = {r.timestamp for r in rows if r.type_name == "session_started"}
    assert len(starts) >= 10, f"the conversation was compacted {len(starts) - 1} times"
    # At least one compaction happened with a form under way, restored by an active_loop event.
    restored = [json.loads(r.data)["name"] for r in rows
                if r.type_name == "active_loop" and r.timestamp in starts and json.loads(r.data).get("name")]
    assert restored, "no compaction while a form was active"
    # The whole history shows each message once, in order, without the compactions' copies.
    assert history == SCRIPT
