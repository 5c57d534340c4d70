"""Crisis and distress reach a person (bot.supervision.handover, actions/crisis.py), and a
worrying check-in tells the person only what was really sent: through the real
dispatcher and the web-chat inbox, with a controllable clock, on SQLite and
PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys

import pytest
from sqlalchemy import select

from actions import crisis
from actions.checkin import finish_messages
from bot import PROJECT_ROOT
from bot.supervision import checkins, enrollment, handover, people, privacy
from bot.channels import web_inbox
from bot.delivery.dispatcher import Dispatcher
from bot.domain.knowledge import KnowledgeBase
from bot.i18n import gettext
from bot.storage.models import Alert, AuditEntry, ChannelIdentity, OutboxMessage
from vietnamese.crisis import DEFAULT_DISTRESS_TERMS, CrisisLexicon
from tests.db.test_ladder import vn

KB = KnowledgeBase.load()
WORDS = "em không muốn sống nữa, mai em đi luôn"
MENU = {"/ask_loan", "/ask_expungement", "/ask_documents", "/checkin"}


class World:
    """A commune with a supervisee, their mentor and an officer, each with a
    web chat (Vietnamese), a stranger's chat, and a dispatcher to the web inbox."""

    def __init__(self, sessions, clock) -> None:
        self.sessions, self.clock = sessions, clock
        tag = os.urandom(3).hex()
        self.users: dict[str, str] = {}
        self.chats: dict[str, str] = {}
        with sessions.begin() as s:
            commune = people.add_commune(s, f"Xã {tag}", "test")
            self.officer = people.add_person(s, "officer", "Cán bộ C", commune.name, "test").id
            self.mentor = people.add_person(s, "mentor", "Chị M", commune.name, "test").id
            self.supervisee = people.add_person(s, "supervisee", "Anh B", commune.name, "test",
                                                mentor_id=self.mentor).id
            people.set_schedule(s, self.supervisee, "weekly", "test", weekday=0)
            for role, pid in (("supervisee", self.supervisee), ("mentor", self.mentor), ("officer", self.officer),
                              ("stranger", None)):
                self.link(s, role, pid)
        self.dispatcher = Dispatcher(sessions, {"web": web_inbox.WebInboxSender(sessions)}, KB,
                                     worker=f"test-{tag}", clock=clock)

    def link(self, s, role: str, person_id: str | None) -> None:
        user = f"{role}-{os.urandom(4).hex()}"
        identity = ChannelIdentity(channel="web", external_id=user, locale="vi", person_id=person_id,
                                   created_at=self.clock.now, last_inbound_at=self.clock.now)
        s.add(identity)
        s.flush()
        self.users[role], self.chats[role] = user, identity.id

    def staff_on_duty(self, with_chat: bool = True) -> str:
        with self.sessions.begin() as s:  # at the district, not an officer of the person's commune
            commune = people.add_commune(s, f"Huyện {os.urandom(3).hex()}", "test")
            staff = people.add_person(s, "officer", "Cán bộ trực D", commune.name, "test")
            people.set_on_duty(s, staff.id, True, "test")
            if with_chat:
                self.link(s, "on_duty", staff.id)
            return staff.id

    def run(self, fn, *args, **kwargs):  # noqa: ANN001, ANN201
        with self.sessions.begin() as s:
            return fn(s, *args, **kwargs)

    def dispatch_once(self) -> None:
        asyncio.run(self.dispatcher.run_once())

    def inbox(self, role: str) -> list[str]:
        return [m["text"] for m in web_inbox.fetch(self.sessions, self.users[role])]


@pytest.fixture
def only_world(own_sessions, clock):
    """On a database of its own: on-duty staff are deployment-wide."""
    return lambda: World(own_sessions, clock)


# --- a crisis from an enrolled person ---------------------------------------------------------


def test_a_crisis_at_23_00_reaches_mentor_and_officer_with_the_words_in_one_dispatcher_run(only_world, clock):
    clock.now = vn(2026, 11, 23, 23, 0)           # quiet hours: only critical rows go
    w = only_world()
    reply = w.run(crisis.crisis_reply, w.chats["supervisee"], "m1", WORDS, clock.now, "vi")
    assert ("Tôi đã báo cho người giúp đỡ của anh/chị (Chị M) và cán bộ xã (Cán bộ C) ngay lúc 23:00, "
            "kèm lời anh/chị viết.") in reply.text
    assert "• 115 – Cấp cứu y tế" in reply.text and "• 113 – Công an" in reply.text
    assert "• 111 – Tổng đài quốc gia bảo vệ trẻ em (cho người dưới 18 tuổi" in reply.text
    assert "Nguồn: " in reply.text and "Luật Trẻ em 2016" in reply.text
    assert [b["payload"] for b in reply.buttons] == ["/request_human"]

    w.dispatch_once()                              # one run of the real dispatcher
    for role in ("mentor", "officer"):
        [alert] = w.inbox(role)
        assert "Anh B" in alert and "tin nhắn khẩn cấp" in alert and f"“{WORDS}”" in alert
    assert w.inbox("supervisee") == [] and w.inbox("stranger") == []

    # "Gặp cán bộ" pressed afterwards: the same handover, nothing queued twice.
    again = w.run(crisis.handover_reply, w.chats["supervisee"], "m1", WORDS, clock.now, "vi", after_crisis=True)
    assert "ngay lúc 23:00" in again.text
    with w.sessions() as s:
        [alert] = s.scalars(select(Alert).where(Alert.person_id == w.supervisee))
        assert (alert.type, alert.severity, alert.note) == ("crisis", "critical", WORDS)
        assert len(list(s.scalars(select(OutboxMessage).where(OutboxMessage.alert_id == alert.id)))) == 2


def test_only_those_with_a_chat_are_said_to_be_told_and_nobody_falls_back_to_on_duty(only_world, clock):
    clock.now = vn(2026, 11, 23, 23, 0)
    w = only_world()
    with w.sessions.begin() as s:  # the officer never linked a chat
        s.query(ChannelIdentity).filter(ChannelIdentity.person_id == w.officer).delete()
    reply = w.run(crisis.crisis_reply, w.chats["supervisee"], "m1", WORDS, clock.now, "vi")
    assert "người giúp đỡ của anh/chị (Chị M) ngay lúc 23:00" in reply.text and "cán bộ xã" not in reply.text
    with w.sessions.begin() as s:  # and now nobody of theirs has a chat: the on-duty staff, else nobody
        s.query(ChannelIdentity).filter(ChannelIdentity.person_id == w.mentor).delete()
    reply = w.run(crisis.crisis_reply, w.chats["supervisee"], "m2", WORDS, clock.now, "vi")
    assert "Hiện không có cán bộ trực nhận tin ở đây, nên tôi chưa báo được cho ai." in reply.text
    w.staff_on_duty()
    reply = w.run(crisis.crisis_reply, w.chats["supervisee"], "m3", WORDS, clock.now, "vi")
    assert "cán bộ trực (Cán bộ trực D) ngay lúc 23:00" in reply.text


# --- someone who is not enrolled ---------------------------------------------------------------


def test_not_enrolled_and_nobody_on_duty_the_reply_says_so_and_gives_the_numbers(only_world, clock):
    clock.now = vn(2026, 11, 23, 23, 0)
    w = only_world()
    w.staff_on_duty(with_chat=False)               # on duty, but no chat: cannot be told
    reply = w.run(crisis.crisis_reply, w.chats["stranger"], "m1", WORDS, clock.now, "vi")
    assert "Hiện không có cán bộ trực nhận tin ở đây, nên tôi chưa báo được cho ai." in reply.text
    assert "đã báo" not in reply.text and "115" in reply.text and "113" in reply.text
    with w.sessions() as s:
        assert list(s.scalars(select(OutboxMessage))) == [] and list(s.scalars(select(Alert))) == []
    typed = w.run(crisis.handover_reply, w.chats["stranger"], "m2", "cho tôi gặp cán bộ", clock.now, "vi",
                  after_crisis=False)
    assert typed.text.startswith("Tôi chưa chuyển được cho cán bộ") and "công an xã" in typed.text


def test_not_enrolled_the_on_duty_staff_get_the_words_at_once(only_world, clock):
    clock.now = vn(2026, 11, 23, 23, 0)
    w = only_world()
    w.staff_on_duty()
    reply = w.run(crisis.crisis_reply, w.chats["stranger"], "m1", WORDS, clock.now, "vi")
    assert "Tôi đã báo cho cán bộ trực (Cán bộ trực D) ngay lúc 23:00, kèm lời anh/chị viết." in reply.text
    w.dispatch_once()
    [msg] = w.inbox("on_duty")
    assert "chưa đăng ký với cán bộ" in msg and f"“{WORDS}”" in msg and w.chats["stranger"][:8] in msg
    assert w.inbox("mentor") == [] and w.inbox("officer") == []
    # Erasing that chat removes the words from the staff's copies as well.
    with w.sessions.begin() as s:
        privacy.erase_from_chat(s, w.chats["stranger"])
    with w.sessions() as s:
        assert list(s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "handover"))) == []
    assert w.inbox("on_duty") == []


def test_a_plain_request_for_a_person_at_night_says_it_goes_at_07_00(only_world, clock):
    """An enrolled person's request opens a relayed conversation with their
    mentor (issue 15; tests/db/test_relay.py): at night it reaches the mentor
    when their quiet hours end, and the person is told when."""
    clock.now = vn(2026, 11, 23, 23, 0)
    w = only_world()
    reply = w.run(crisis.handover_reply, w.chats["supervisee"], "m1", "cho em gặp cán bộ", clock.now, "vi",
                  after_crisis=False)
    assert "Em đã mở cuộc trò chuyện với người giúp đỡ của anh/chị (Chị M)." in reply.text
    assert "họ sẽ nhận được yêu cầu của anh/chị lúc 07:00" in reply.text
    w.dispatch_once()
    assert w.inbox("mentor") == []
    clock.now = vn(2026, 11, 24, 7, 0)
    w.dispatch_once()
    assert any("xin nói chuyện với anh/chị" in t and "cho em gặp cán bộ" in t for t in w.inbox("mentor"))


# --- not the police; milder distress -------------------------------------------------------------


def test_not_the_police_gives_the_other_options_and_the_mentor_never_the_menu(only_world, clock):
    clock.now = vn(2026, 11, 23, 23, 5)
    w = only_world()
    w.run(crisis.crisis_reply, w.chats["supervisee"], "m1", WORDS, vn(2026, 11, 23, 23, 0), "vi")
    reply = w.run(crisis.no_police_reply, w.chats["supervisee"], clock.now, "vi")
    assert reply.text.startswith("Anh/chị không phải gọi công an.")
    assert "• 115" in reply.text and "• 111" in reply.text and "096 306 1414" in reply.text
    assert "• 113" not in reply.text
    assert "Người giúp đỡ của anh/chị (Chị M) cũng không phải công an" in reply.text
    assert "đã được báo cho cán bộ xã" in reply.text       # honest about what already went
    assert [b["payload"] for b in reply.buttons] == ["/tell_mentor"]
    anonymous = w.run(crisis.no_police_reply, w.chats["stranger"], clock.now, "en")
    assert "You do not have to call the police" in anonymous.text and "someone you trust" in anonymous.text
    assert not MENU & {b["payload"] for b in anonymous.buttons}


@pytest.mark.parametrize("hour, said", [(23, "sẽ nhận được tin của anh/chị lúc 07:00"), (10, "ngay lúc 10:00")])
def test_distress_offers_the_mentor_and_telling_them_is_truthful(only_world, clock, hour, said):
    clock.now = vn(2026, 11, 23, hour, 0)
    w = only_world()
    offer = w.run(crisis.distress_reply, w.chats["supervisee"], clock.now, "vi")
    assert "Cảm ơn anh/chị đã nói với tôi." in offer.text and "(Chị M)" in offer.text
    assert [b["payload"] for b in offer.buttons] == ["/tell_mentor"]
    told = w.run(crisis.tell_mentor_reply, w.chats["supervisee"], "m1", "nhà sắp hết gạo", clock.now, "vi")
    assert said in told.text and "người giúp đỡ của anh/chị (Chị M)" in told.text and "cán bộ xã" not in told.text
    w.dispatch_once()
    assert (w.inbox("mentor") != []) == (hour == 10) and w.inbox("officer") == []
    stranger = w.run(crisis.distress_reply, w.chats["stranger"], clock.now, "vi")
    assert [b["payload"] for b in stranger.buttons] == ["/request_human"] and "096 306 1414" in stranger.text


# --- worrying check-ins: told what was really sent -------------------------------------------------


def _check_in(w, answers) -> list[str]:
    with w.sessions.begin() as s:
        return finish_messages(s, people.person(s, w.supervisee), "web", answers, w.clock.now, "vi")


def test_check_in_at_21_33_hunger_with_low_wellbeing_goes_at_once_with_the_note(only_world, clock):
    clock.now = vn(2026, 11, 23, 21, 33)
    w = only_world()
    said = _check_in(w, checkins.Answers("same", "looking", 2, "nothing", "nhà sắp hết gạo"))
    assert said[0] == "Cảm ơn anh/chị, báo cáo đã được ghi nhận."
    assert said[1] == ("Tôi đã báo cho người giúp đỡ của anh/chị (Chị M) và cán bộ xã (Cán bộ C) ngay lúc 21:33, "
                       "kèm lời anh/chị viết.")
    assert "115" in said[2]
    w.dispatch_once()
    for role in ("mentor", "officer"):
        [alert] = w.inbox(role)
        assert "có thể không đủ ăn" in alert and "“nhà sắp hết gạo”" in alert


def test_check_in_at_21_33_low_wellbeing_alone_is_said_to_go_at_07_00_and_does(only_world, clock):
    clock.now = vn(2026, 11, 23, 21, 33)
    w = only_world()
    said = _check_in(w, checkins.Answers("same", "working", 2, "nothing"))
    assert said[1] == ("Bây giờ đang là ban đêm: người giúp đỡ của anh/chị (Chị M) và cán bộ xã (Cán bộ C) sẽ nhận "
                       "được tin của anh/chị lúc 07:00.")
    assert len(said) == 2                            # not critical: no emergency numbers
    w.dispatch_once()
    assert w.inbox("mentor") == [] and w.inbox("officer") == []
    clock.now = vn(2026, 11, 24, 7, 0)
    w.dispatch_once()
    assert len(w.inbox("mentor")) == 1 and len(w.inbox("officer")) == 1


def test_check_in_at_10_00_is_said_to_go_at_once_and_does(only_world, clock):
    clock.now = vn(2026, 11, 23, 10, 0)
    w = only_world()
    said = _check_in(w, checkins.Answers("same", "working", 2, "nothing"))
    assert said[1].startswith("Tôi đã báo cho người giúp đỡ của anh/chị (Chị M) và cán bộ xã (Cán bộ C) ngay lúc 10:00")
    w.dispatch_once()
    assert len(w.inbox("mentor")) == 1 and len(w.inbox("officer")) == 1


@pytest.mark.parametrize("answers, reasons, critical", [
    (checkins.Answers("same", "working", 4, "nothing", "nhà sắp hết gạo"), ["hunger"], True),
    (checkins.Answers("same", "working", 2, "nothing", "mong cán bộ giúp em"), ["low_wellbeing", "asks_help"], True),
    (checkins.Answers("same", "working", 2, "nothing", "mẹ em ốm"), ["low_wellbeing"], False),
    (checkins.Answers("same", "working", 4, "nothing", "đêm nay không có chỗ ngủ"), ["no_shelter"], True),
])
def test_hunger_no_shelter_and_asking_for_help_are_critical(answers, reasons, critical):
    found = checkins.worrying_reasons(answers, CrisisLexicon.load())
    assert found == reasons and checkins.is_critical(found) == critical


# --- distress phrases, consent, on-duty CLI ----------------------------------------------------------

DISTRESS = ["e buồn lắm", "ko ai cần e nữa", "e chán quá bn ơi", "nhà sắp hết gạo", "chủ trọ đuổi e rồi",
            "e lại dùng rồi"]


@pytest.mark.parametrize("text", DISTRESS)
def test_distress_phrases_are_found_with_and_without_diacritics(text):
    from vietnamese.text import fold

    lexicon = CrisisLexicon.load(DEFAULT_DISTRESS_TERMS)
    assert lexicon.matches(text) and lexicon.matches(fold(text))


@pytest.mark.parametrize("text", ["tôi có đơn xin vay vốn", "toi co don xin vay von", "doi qua ngan hang khac",
                                  "tôi muốn vay vốn mở quán"])
def test_everyday_phrases_are_not_distress(text):
    assert CrisisLexicon.load(DEFAULT_DISTRESS_TERMS).matches(text) == []


def test_the_consent_text_says_worrying_answers_alert_mentor_and_commune_police():
    from actions import enrollment as enrollment_actions

    text = gettext(enrollment_actions.CONSENT_TEXT, "vi")
    assert "Lối Về sẽ báo ngay cho người giúp đỡ và cán bộ xã (công an xã)" in text
    assert enrollment.CONSENT_VERSION == "consent-2026-11-30"


def test_on_duty_is_set_and_unset_from_the_cli_and_audited(own_db_url):
    db_url = own_db_url
    def admin(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "bot", "admin", *args], cwd=PROJECT_ROOT, text=True,
                              capture_output=True, env={**os.environ, "DATABASE_URL": db_url})

    commune = f"Xã {os.urandom(3).hex()}"
    admin("add-commune", commune)
    officer = admin("add-person", "--role", "officer", "--name", "Cán bộ trực", "--commune", commune)
    sup = admin("add-person", "--role", "supervisee", "--name", "Anh B", "--commune", commune)
    officer_id, sup_id = officer.stdout.split()[-1], sup.stdout.split()[-1]
    assert admin("on-duty", officer_id).stdout.strip() == f"{officer_id}\ton"
    refused = admin("on-duty", sup_id)
    assert refused.returncode == 2 and "mới trực được" in refused.stderr
    from harness.helpers import migrated_sessions

    with migrated_sessions(db_url) as sessions, sessions() as s:
        assert [p.id for p in handover.on_duty_staff(s)] == [officer_id]
    assert admin("on-duty", officer_id, "--off").stdout.strip() == f"{officer_id}\toff"
    with migrated_sessions(db_url) as sessions, sessions() as s:
        assert handover.on_duty_staff(s) == []
        assert [e.detail for e in s.scalars(select(AuditEntry).where(AuditEntry.action == "set_on_duty",
                                                                     AuditEntry.subject_id == officer_id)
                                            .order_by(AuditEntry.id))] == ['{"on_duty": true}',
                                                                           '{"on_duty": false}']
