"""Enrollment: one-time codes, consent, linking a chat; brute force refused."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from bot import PROJECT_ROOT

from bot.supervision import enrollment, people
from bot.conversation.core import as_rasa_text, enrollment_code_in
from bot.storage.db import make_engine, make_sessionmaker
from bot.storage.models import ChannelIdentity, Consent, EnrollmentCode

SECRET = b"test-secret"
NOW = dt.datetime(2026, 11, 22, 8, tzinfo=dt.timezone.utc)
HOUR = dt.timedelta(hours=1)


@pytest.mark.parametrize("text, code", [
    ("mã của tôi là K7P2QXMA3B", "K7P2QXMA3B"), ("/start k7p2qxma3b", "K7P2QXMA3B"), ("BAOCAOOOOO", None),
    ("tôi muốn đăng ký", None), ("K7P2QXMA3BC", None), ("K7P2QXMA", None), ("2345678923", None),
])
def test_find_code(text, code):
    assert enrollment.find_code(text) == code


@pytest.mark.parametrize("text, sent", [
    ("K7P2QXMA3B", '/enroll{"enrollment_code": "K7P2QXMA3B"}'),
    ("/start K7P2QXMA3B", '/enroll{"enrollment_code": "K7P2QXMA3B"}'),
    ("/start", "/greet"),
    # A code inside other words is not taken: the action asks for it alone, so
    # that every code goes through the gateway's limits.
    ("mã của tôi là K7P2QXMA3B", "mã của tôi là K7P2QXMA3B"),
    ("/affirm", "/affirm"),
])
def test_gateway_turns_codes_into_an_enroll_payload(text, sent):
    assert as_rasa_text(text) == sent


@pytest.mark.parametrize("text, code", [
    ("K7P2QXMA3B", "K7P2QXMA3B"), ("/start K7P2QXMA3B", "K7P2QXMA3B"),
    ('/enroll{"enrollment_code": "zz-99"}', "ZZ99"),           # typed payloads are guesses too
    (' / enroll @0.9{"enrollment_code": "AB"}', "AB"),          # Rasa reads this as /enroll too
    ('/enroll{"enrollment_code": "ABCDE23456"}', "ABCDE23456"), ("/enroll", None), ("/enroll{bad", None),
    ("mã của tôi là K7P2QXMA3B", None), ("xin chào", None),
])
def test_the_gateway_checks_every_code_a_message_offers(text, code):
    assert enrollment_code_in(text) == code


def setup(s):
    commune = people.add_commune(s, f"Xã {os.urandom(3).hex()}", "test")
    person = people.add_person(s, "supervisee", "Anh B", commune.name, "test")
    identity = ChannelIdentity(channel="web", external_id=f"u-{os.urandom(4).hex()}")
    s.add(identity)
    s.flush()
    code = enrollment.issue_enrollment_code(s, person.id, SECRET, 7, "test", now=NOW).code
    return person, identity, code


def check(s, identity, code, now=NOW):
    return enrollment.check_code(s, identity.id, code, SECRET, max_failures=5, window=HOUR, now=now)


def test_code_then_consent_links_the_chat_once(s):
    person, identity, code = setup(s)
    assert check(s, identity, code) == enrollment.Redemption("ok", person.id)
    assert enrollment.enroll(s, identity.id, code, SECRET, accepted=True, now=NOW) == person.id
    assert s.get(ChannelIdentity, identity.id).person_id == person.id
    [consent] = s.scalars(select(Consent).where(Consent.person_id == person.id))
    assert (consent.accepted, consent.text_version, consent.channel) == (True, enrollment.CONSENT_VERSION, "web")
    assert check(s, identity, code).status == "invalid"  # single use
    assert enrollment.enroll(s, identity.id, code, SECRET, accepted=True, now=NOW) is None


def test_refusing_consent_links_nothing_and_keeps_the_code(s):
    person, identity, code = setup(s)
    assert enrollment.enroll(s, identity.id, code, SECRET, accepted=False, now=NOW) is None
    assert s.get(ChannelIdentity, identity.id).person_id is None
    assert [c.accepted for c in s.scalars(select(Consent).where(Consent.person_id == person.id))] == [False]
    assert check(s, identity, code).status == "ok"


def test_codes_expire_after_seven_days(s):
    _, identity, code = setup(s)
    assert check(s, identity, code, NOW + dt.timedelta(days=6, hours=23)).status == "ok"
    assert check(s, identity, code, NOW + dt.timedelta(days=7)).status == "invalid"


def test_guessing_is_refused_after_five_failures(s):
    _, identity, code = setup(s)
    for i in range(5):
        assert check(s, identity, f"WRONG{i}2A", NOW + i * dt.timedelta(minutes=1)).status == "invalid"
    assert check(s, identity, code, NOW + dt.timedelta(minutes=10)).status == "rate_limited"
    assert check(s, identity, code, NOW + dt.timedelta(minutes=70)).status == "ok"  # the hour has passed


@pytest.mark.stack
def test_enroll_by_chat_through_the_product(product):
    env = {**product.env}

    def admin(*args):
        out = subprocess.run([sys.executable, "-m", "bot", "admin", *args], cwd=PROJECT_ROOT, env=env,
                             capture_output=True, text=True, check=True).stdout
        return out.strip().splitlines()[-1]

    commune = f"Xã E2E {os.urandom(3).hex()}"
    admin("add-commune", commune)
    person_id = admin("add-person", "--role", "supervisee", "--name", "Anh C", "--commune", commune)
    code = admin("enroll-code", person_id)
    chat = product.chat(f"enroll-{os.urandom(4).hex()}")  # a browser with the page's cookie
    assert "không đúng hoặc đã hết hạn" in chat.say("ZZZZ2222ZZ")[0]["text"]
    assert "chỉ riêng mã đó" in chat.say(f"ma dang ky cua toi la {code}")[0]["text"]  # the code alone, please
    ask = chat.say(f"/start {code}")[0]
    assert "Anh/chị có đồng ý không?" in ask["text"]
    assert [b["title"] for b in ask["buttons"]] == ["Đồng ý", "Không đồng ý"]
    assert "đã được đăng ký" in chat.say("/affirm")[0]["text"]
    engine = make_engine(env["DATABASE_URL"])
    with make_sessionmaker(engine)() as s:
        linked = s.scalar(select(ChannelIdentity.person_id).where(
            ChannelIdentity.channel == "web", ChannelIdentity.external_id == chat.external_id(product.secret())))
        used = s.scalar(select(EnrollmentCode.used_at).where(EnrollmentCode.person_id == person_id))
    engine.dispose()
    assert linked == person_id and used is not None
