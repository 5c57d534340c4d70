"""People reach people (issue 15): a relayed conversation between a supervisee
and their mentor, through the gateway's routing (bot.conversation.relay), the
real outbox and dispatcher and the web-chat inbox, with a controllable clock,
on SQLite and PostgreSQL. Quiet hours, escalation, idle close, role scope,
export and erasure."""

from __future__ import annotations

import asyncio
import datetime as dt
import os

import pytest
from sqlalchemy import select

from actions import crisis
from bot.channels import web_inbox
from bot.conversation import relay
from bot.conversation.core import Core, Inbound, NOT_OFFERED
from bot.delivery.dispatcher import Dispatcher
from bot.domain.knowledge import KnowledgeBase
from bot.i18n import gettext
from bot.storage.models import AuditEntry, ChannelIdentity, OutboxMessage, RelayConversation, RelayMessage
from bot.supervision import conversations, people, privacy
from tests.db.test_ladder import vn

KB = KnowledgeBase.load()


class World:
    """A commune with a supervisee, their mentor, an officer; another mentor
    with someone else; each with a web chat; a dispatcher to the web inbox."""

    def __init__(self, sessions, clock) -> None:
        self.sessions, self.clock = sessions, clock
        self.tag = tag = os.urandom(3).hex()
        self.users: dict[str, str] = {}
        self.chats: dict[str, str] = {}
        with sessions.begin() as s:
            commune = people.add_commune(s, f"Xã {tag}", "test")
            other = people.add_commune(s, f"Xã khác {tag}", "test")
            self.officer = people.add_person(s, "officer", "Cán bộ C", commune.name, "test").id
            self.mentor = people.add_person(s, "mentor", "Chị M", commune.name, "test").id
            self.supervisee = people.add_person(s, "supervisee", "Anh B", commune.name, "test",
                                                mentor_id=self.mentor).id
            self.other_mentor = people.add_person(s, "mentor", "Anh N", other.name, "test").id
            self.stranger = people.add_person(s, "supervisee", "Chị X", other.name, "test",
                                              mentor_id=self.other_mentor).id
            for role, pid in (("supervisee", self.supervisee), ("mentor", self.mentor), ("officer", self.officer),
                              ("other_mentor", self.other_mentor), ("stranger", self.stranger)):
                self.link(s, role, pid)
        self.dispatcher = Dispatcher(sessions, {"web": web_inbox.WebInboxSender(sessions)}, KB,
                                     worker=f"test-{tag}", clock=clock)
        self.n = 0
        self.seen: dict[str, int] = {}

    def link(self, s, role: str, person_id: str | None) -> None:
        user = f"{role}-{os.urandom(4).hex()}"
        identity = ChannelIdentity(channel="web", external_id=user, locale="vi", person_id=person_id,
                                   created_at=self.clock.now, last_inbound_at=self.clock.now)
        s.add(identity)
        s.flush()
        self.users[role], self.chats[role] = user, identity.id

    def run(self, fn, *args, **kwargs):  # noqa: ANN001, ANN201
        with self.sessions.begin() as s:
            return fn(s, *args, **kwargs)

    def say(self, role: str, text: str, key: str | None = None) -> relay.Routed | None:
        self.n += 1
        return relay.route(self.sessions, self.chats[role], text, f"{self.tag}:{key or f'{role}:{self.n}'}", "vi",
                           self.clock.now)

    def dispatch(self) -> None:
        asyncio.run(self.dispatcher.run_once())

    def inbox(self, role: str) -> list[dict]:
        """What arrived since the last look (acknowledged as read)."""
        got = web_inbox.fetch(self.sessions, self.users[role], self.seen.get(role, 0))
        if got:
            self.seen[role] = got[-1]["id"]
            web_inbox.fetch(self.sessions, self.users[role], self.seen[role])
        return got

    def request(self, safety: bool = False) -> str:
        reply = self.run(crisis.handover_reply, self.chats["supervisee"], f"k{self.n}", "em cần gặp chị",
                         self.clock.now, "vi", after_crisis=False, recent=["em cần gặp chị"]) if not safety else None
        return reply.text if reply else ""

    def open_as(self, role: str, person_id: str) -> relay.Routed | None:
        payload = conversations.open_payload(person_id)
        return self.say(role, payload)


@pytest.fixture
def world(sessions, clock):
    return World(sessions, clock)


def test_a_request_opens_a_conversation_and_both_sides_talk_in_order_exactly_once(world, clock):
    text = world.request()
    assert "Chị M" in text and "người giúp đỡ" in text
    world.dispatch()
    [note] = world.inbox("mentor")
    assert "Anh B" in note["text"] and "em cần gặp chị" in note["text"]
    join = [b for b in note["buttons"] if b["payload"] == conversations.open_payload(world.supervisee)]
    assert join and join[0]["title"] == "Nhắn cho anh/chị Anh B"
    routed = world.open_as("mentor", world.supervisee)
    assert "Anh B" in routed.replies[0].text
    world.dispatch()
    assert "Chị M" in world.inbox("supervisee")[0]["text"]   # told the staff member joined
    for i in range(5):
        assert world.say("supervisee", f"em nói {i}", key=f"web:s:{i}").replies == []
        assert world.say("supervisee", f"em nói {i}", key=f"web:s:{i}").replies == []   # a retry: nothing new
        assert world.say("mentor", f"chị đáp {i}", key=f"web:m:{i}").replies == []
    world.dispatch()
    assert [m["text"] for m in world.inbox("mentor")] == [f"Anh B: em nói {i}" for i in range(5)]
    assert [m["text"] for m in world.inbox("supervisee")] == [f"Chị M: chị đáp {i}" for i in range(5)]
    with world.sessions() as s:
        conv = s.scalar(select(RelayConversation).where(RelayConversation.person_id == world.supervisee))
        assert conv.first_reply_at is not None and conv.status == "open"
        assert s.query(RelayMessage).filter(RelayMessage.conversation_id == conv.id).count() == 10
    closed = world.say("supervisee", "Kết thúc trò chuyện")
    assert "đóng" in closed.replies[0].text
    world.dispatch()
    assert "đóng" in world.inbox("mentor")[0]["text"]
    assert world.say("supervisee", "cảm ơn") is None   # back to the bot


def test_at_23_a_request_waits_for_the_mentors_quiet_hours_unless_it_is_about_safety(world, clock):
    clock.now = vn(2026, 11, 23, 23, 0)
    world.run(conversations.set_quiet_hours, world.mentor, 22, 6, clock.now)
    text = world.request()
    assert "06:00" in text
    world.dispatch()
    assert world.inbox("mentor") == []
    clock.now = vn(2026, 11, 24, 6, 0)
    world.dispatch()
    assert "Anh B" in world.inbox("mentor")[0]["text"]


def test_at_23_a_safety_request_goes_at_once(world, clock):
    clock.now = vn(2026, 11, 23, 23, 0)
    reply = world.run(crisis.handover_reply, world.chats["supervisee"], "k1", "em không muốn sống nữa",
                      clock.now, "vi", after_crisis=True, recent=["em không muốn sống nữa"])
    assert "23:00" in reply.text
    world.dispatch()
    texts = [m["text"] for m in world.inbox("mentor")]
    assert any("an toàn" in t for t in texts), texts


def test_a_message_in_quiet_hours_tells_the_person_when_and_crisis_words_go_at_once(world, clock):
    world.request()
    world.open_as("mentor", world.supervisee)
    clock.now = vn(2026, 11, 23, 23, 30)
    routed = world.say("supervisee", "chị ơi mai em đi làm")
    assert "07:00" in routed.replies[0].text and not routed.to_rasa
    routed = world.say("supervisee", "em muốn chết")
    assert routed.to_rasa                        # the crisis path answers too
    world.dispatch()
    assert [m["text"] for m in world.inbox("mentor")][-1] == "Anh B: em muốn chết"


def test_an_unanswered_request_escalates_to_the_officer_once(world, clock):
    world.request()
    escalated = lambda: world.run(lambda s: conversations.open_for_person(s, world.supervisee).escalated_at)  # noqa: E731
    world.run(conversations.escalate, clock.now + dt.timedelta(minutes=10), dt.timedelta(minutes=30))
    assert escalated() is None
    clock.now = clock.now + dt.timedelta(minutes=31)
    world.run(conversations.escalate, clock.now, dt.timedelta(minutes=30))
    assert escalated() == clock.now
    clock.now = clock.now + dt.timedelta(minutes=1)
    world.run(conversations.escalate, clock.now, dt.timedelta(minutes=30))   # once
    world.dispatch()
    [esc] = world.inbox("officer")
    assert "Anh B" in esc["text"] and esc["buttons"][0]["payload"] == conversations.open_payload(world.supervisee)
    world.open_as("officer", world.supervisee)     # the officer may see people of their commune
    world.say("officer", "Tôi là cán bộ xã, anh cần gì?")
    world.dispatch()
    assert world.inbox("supervisee")[-1]["text"] == "Cán bộ C: Tôi là cán bộ xã, anh cần gì?"
    commune = world.run(lambda s: people.person(s, world.supervisee).commune_id)
    r = world.run(conversations.responsiveness, clock.now - dt.timedelta(days=1), clock.now, dt.timedelta(minutes=30),
                  [commune])
    assert r.requests == 1 and r.unanswered == 1 and r.median_s == pytest.approx(32 * 60)


def test_a_mentor_cannot_open_a_conversation_with_someone_not_theirs(world, clock, sessions):
    with pytest.raises(conversations.NotAllowed):
        world.run(conversations.staff_open, world.other_mentor, world.supervisee, clock.now)
    with pytest.raises(conversations.NotAllowed):   # a supervisee is not staff
        world.run(conversations.staff_open, world.stranger, world.supervisee, clock.now)
    # typed payload: refused by the gateway (never shown to this chat) …
    core = Core(sessions, rasa=None)  # type: ignore[arg-type]
    typed = Inbound("web", world.users["other_mentor"], conversations.open_payload(world.supervisee))
    refused = asyncio.run(core.refusal(typed))
    assert refused and refused[0].text == gettext(NOT_OFFERED, "vi")
    # … and even routed, the role scope refuses it.
    routed = world.open_as("other_mentor", world.supervisee)
    assert "không thể" in routed.replies[0].text
    with world.sessions() as s:
        assert s.scalar(select(RelayConversation).where(RelayConversation.person_id == world.supervisee)) is None
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "relay_open_refused")) is not None
    with pytest.raises(conversations.NotAllowed):
        world.run(conversations.list_open, world.supervisee)


def test_idle_conversations_close_and_both_sides_are_told(world, clock):
    world.request()
    world.open_as("mentor", world.supervisee)
    world.dispatch()
    world.inbox("supervisee"), world.inbox("mentor")
    clock.now = clock.now + dt.timedelta(hours=3)
    assert world.run(conversations.close_idle, clock.now, dt.timedelta(hours=2)) >= 1
    world.dispatch()
    assert "lâu" in world.inbox("supervisee")[0]["text"] and "lâu" in world.inbox("mentor")[0]["text"]


def test_texts_are_read_audited_exported_purged_and_erased(world, clock):
    world.request()
    world.open_as("mentor", world.supervisee)
    world.say("supervisee", "bí mật của em")
    conv_id = world.run(lambda s: conversations.open_for_person(s, world.supervisee).id)
    assert [m.text for m in world.run(conversations.read, world.mentor, conv_id)] == ["bí mật của em"]
    with pytest.raises(conversations.NotAllowed):
        world.run(conversations.read, world.other_mentor, conv_id)
    with world.sessions() as s:
        assert s.scalar(select(AuditEntry).where(AuditEntry.action == "relay_read")) is not None
    exported = world.run(privacy.export_person, world.supervisee, "test")
    assert exported["conversations"][0]["messages"][0]["text"] == "bí mật của em"
    world.run(conversations.purge, clock.now + dt.timedelta(days=10), 30)
    assert world.run(conversations.read, world.mentor, conv_id)   # younger than the retention: kept
    world.run(privacy.erase_person, world.supervisee, "test")
    with world.sessions() as s:
        assert s.query(RelayMessage).filter(RelayMessage.conversation_id == conv_id).count() == 0
        assert s.get(RelayConversation, conv_id).status == "closed"
        assert s.scalar(select(OutboxMessage).where(OutboxMessage.subject_id == world.supervisee)) is None


def test_retention_purges_old_texts(world, clock):
    world.request()
    world.open_as("mentor", world.supervisee)
    world.say("mentor", "chào em")
    conv_id = world.run(lambda s: conversations.open_for_person(s, world.supervisee).id)
    assert world.run(conversations.purge, clock.now + dt.timedelta(days=31), 30) >= 1
    assert world.run(conversations.read, world.mentor, conv_id) == []


# --- the staff menu (bot.conversation.staff), through the gateway's turn ------------------------


def turn(world: World, role: str, text: str, settings) -> list:  # noqa: ANN001
    core = Core(world.sessions, rasa=None, settings=settings)  # type: ignore[arg-type]
    msg = Inbound("web", world.users[role], text)
    refused = asyncio.run(core.refusal(msg))
    return refused if refused is not None else asyncio.run(core.turn(msg)).replies


@pytest.fixture
def settings(tmp_path):
    from bot.config import Settings
    return Settings(var_dir=tmp_path)


def test_a_mentor_gets_the_staff_menu_not_the_returnee_answers(world, clock, settings):
    for text in ("báo cáo", "/checkin", "/greet", "menu"):
        [reply] = turn(world, "mentor", text, settings)
        assert reply.text == "Menu cán bộ: anh/chị muốn xem gì?", text
        assert [b.payload for b in reply.buttons] == ["/staff_alerts", "/staff_people", "/staff_conversations",
                                                      "/staff_quiet"]
    [alerts] = turn(world, "mentor", "xem cảnh báo", settings)
    assert "Không có cảnh báo" in alerts.text


def test_my_people_lists_only_mine_with_a_message_and_code_button(world, clock, settings):
    with world.sessions.begin() as s:
        people.set_schedule(s, world.supervisee, "weekly", "test", weekday=0)
    [reply] = turn(world, "mentor", "/staff_people", settings)
    assert "Anh B" in reply.text and "Chị X" not in reply.text and "hạn tiếp theo" in reply.text
    code_button = [b for b in reply.buttons if b.payload.startswith("/staff_code")][0]
    # Another mentor typing that payload: never shown to them, refused.
    [refused] = turn(world, "other_mentor", code_button.payload, settings)
    assert refused.text == gettext(NOT_OFFERED, "vi")
    [issued] = turn(world, "mentor", code_button.payload, settings)
    assert issued.text.startswith("Mã đăng ký cho Anh B: ")


def test_quiet_hours_are_set_from_the_menu(world, clock, settings):
    [reply] = turn(world, "mentor", "/staff_quiet", settings)
    assert "21:00 đến 07:00" in reply.text or "21:00" in reply.text
    [reply] = turn(world, "mentor", '/staff_quiet{"hours":"off"}', settings)
    assert "không đặt giờ yên tĩnh" in reply.text
    assert world.run(conversations.quiet_hours, world.mentor) == (0, 0)


def test_a_mentor_in_a_conversation_relays_what_they_type_even_menu_words(world, clock,
                                                                          settings):
    world.request()
    turn(world, "mentor", conversations.open_payload(world.supervisee), settings)  # refused: not shown here
    world.dispatch()
    world.inbox("mentor")   # the request, with its button: now shown
    [joined] = turn(world, "mentor", conversations.open_payload(world.supervisee), settings)
    assert "Anh B" in joined.text
    assert turn(world, "mentor", "báo cáo", settings) == []    # relayed, quiet
    world.dispatch()
    assert world.inbox("supervisee")[-1]["text"] == "Chị M: báo cáo"


def test_admin_status_shows_the_median_and_the_late_requests(world, clock, settings):
    from bot.admin import responsiveness_line
    world.request()
    clock.now = clock.now + dt.timedelta(minutes=40)
    world.open_as("mentor", world.supervisee)
    world.say("mentor", "chị đây")
    commune = world.run(lambda s: people.person(s, world.supervisee).commune_id)
    line = world.run(responsiveness_line, settings, clock.now, "vi", [commune])
    assert line == ("đề nghị nói chuyện (7 ngày): 1; thời gian trả lời đầu tiên (trung vị) 40 phút; "
                    "không được trả lời trong 30 phút: 1")


def test_outside_zalos_48_hour_window_the_message_waits_and_the_sender_is_told(world, clock):
    world.request()
    world.open_as("mentor", world.supervisee)
    with world.sessions.begin() as s:   # the person's only chat: a Zalo OA chat silent for 49 hours
        identity = s.get(ChannelIdentity, world.chats["supervisee"])
        identity.channel, identity.last_inbound_at = "zalo_oa", clock.now - dt.timedelta(hours=49)
    routed = world.say("mentor", "em khỏe không?")
    assert "Zalo chỉ cho Lối Về nhắn cho Anh B sau khi họ nhắn lại" in routed.replies[0].text


def test_the_scheduler_tick_escalates_and_closes_idle_conversations(world, clock, settings):
    from bot.delivery.scheduler import tick
    world.request()
    clock.now = clock.now + dt.timedelta(minutes=settings.relay_answer_within_minutes + 1)
    tick(world.sessions, settings, clock.now)
    world.dispatch()
    assert any("chưa có ai trả lời" in m["text"] for m in world.inbox("officer"))
    clock.now = clock.now + dt.timedelta(minutes=settings.relay_idle_minutes + 1)
    tick(world.sessions, settings, clock.now)
    assert world.run(lambda s: conversations.open_for_person(s, world.supervisee)) is None
