"""The web chat's identity through the running product (Rasa, actions, gateway)."""

from __future__ import annotations

import os

import httpx
import pytest
from sqlalchemy import func, select

from bot.storage.db import make_engine, make_sessionmaker
from bot.storage.models import ChannelIdentity
from harness.helpers import TOPIC_TITLES_VI, WebChat

pytestmark = pytest.mark.stack

ANONYMOUS_VI = "Trong trò chuyện web chưa xác thực này, tôi chỉ trả lời câu hỏi"


@pytest.fixture(scope="module")
def app_db(product):
    engine = make_engine(product.env["DATABASE_URL"])
    yield make_sessionmaker(engine)
    engine.dispose()


def test_a_cookie_is_one_conversation_whatever_user_it_sends(product, app_db):
    chat = WebChat(product.url)
    first = chat.say("/ask_loan", user="alice")   # the loan form asks its first question
    second = chat.say("qqqq zzzz", user="bob")     # ... and the same conversation goes on
    assert first and second
    with app_db() as s:
        rows = s.scalars(select(ChannelIdentity).where(
            ChannelIdentity.external_id.in_(["alice", "bob", chat.external_id(product.secret())]))).all()
    assert [(r.channel, r.external_id) for r in rows] == [("web", chat.external_id(product.secret()))]


def test_anonymous_questions_and_answers_work_as_before(product, app_db):
    user = f"anon-qa-{os.urandom(3).hex()}"
    replies = product.say(user, "xin chào")
    assert replies[0]["text"].startswith("Xin chào anh/chị!")
    assert [b["title"] for b in replies[1]["buttons"]] == TOPIC_TITLES_VI
    assert product.say(user, "/ask_loan")[0]["text"].startswith("Người đã chấp hành xong")
    with app_db() as s:
        assert s.scalar(select(ChannelIdentity.channel).where(ChannelIdentity.external_id == user)) == "web-anon"


@pytest.mark.parametrize("turn", ["báo cáo", "/checkin", "xóa dữ liệu của tôi", "tôi có mã đăng ký"])
def test_anonymous_senders_get_a_polite_refusal_for_person_bound_things(product, turn):
    [reply] = product.say(f"anon-{os.urandom(3).hex()}", turn)
    assert reply["text"].startswith(ANONYMOUS_VI) and reply["buttons"] == []
    [english] = product.say(f"anon-{os.urandom(3).hex()}", turn, locale="en")
    assert english["text"].startswith("In this web chat without sign-in I can only answer questions")


def test_a_browser_with_the_cookie_may_start_a_check_in_request(product):
    """Bound but not registered: the ordinary answer, not the anonymous one."""
    [reply] = WebChat(product.url).say("báo cáo")
    assert "dành cho người đã đăng ký" in reply["text"]


def test_rotating_browsers_cannot_guess_codes_without_limit(product, app_db):
    """The attack from the issue: a new chat for every guess. Here a new
    browser (cookie) for every guess, from one address (X-Forwarded-For from
    the local proxy): the address's limit stops it, and no identity or
    conversation is left behind."""
    source = f"203.0.113.{int.from_bytes(os.urandom(1), 'big') % 200 + 20}"
    with app_db() as s:
        before = s.scalar(select(func.count()).select_from(ChannelIdentity))
    answers = []
    for i in range(int(product.env.get("LOIVE_ENROLL_MAX_FAILURES_PER_SOURCE", "10")) + 3):
        chat = WebChat(product.url)
        chat.http.headers["X-Forwarded-For"] = source
        answers.append(chat.say(f"ZZZZ2{os.urandom(3).hex()[:5].upper().translate(str.maketrans('01', '23'))}")[0]["text"])
    assert all(a.startswith("Mã này không đúng") for a in answers[:10]), answers
    assert all(a.startswith("Anh/chị đã nhập sai mã nhiều lần") for a in answers[10:]), answers
    with app_db() as s:
        assert s.scalar(select(func.count()).select_from(ChannelIdentity)) == before
    # Another address is not held back by that one.
    other = WebChat(product.url)
    other.http.headers["X-Forwarded-For"] = "198.51.100.9"
    assert other.say("ZZZZ2345ZZ")[0]["text"].startswith("Mã này không đúng")
    assert httpx.get(f"{product.url}/healthz", timeout=10).status_code == 200
