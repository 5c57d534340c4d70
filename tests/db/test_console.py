"""The staff console (bot/console) over real HTTP against the real gateway app,
on SQLite and PostgreSQL: sign-in by a code delivered through the outbox to a
fake Telegram chat, sessions, CSRF, role scoping by URL and by form tampering,
audit entries, and malformed input answered 4xx (never 500). No Rasa: the
console never needs it. The browser walk is tests/product/test_console_browser.py."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import time

import httpx
import pytest
import time_machine
from sqlalchemy import select

from bot.app import create_app
from bot.config import load_settings
from bot.console import auth
from bot.i18n import format_date
from bot.storage.models import Alert, AuditEntry, ChannelIdentity, Checkin, RelayConversation, StaffSession
from bot.supervision import conversations, people
from bot.supervision.alerts import raise_alert
from harness.fakes.telegram import FakeTelegram
from harness.helpers import free_port, migrated_sessions, serve
from vietnamese.clock import vietnam_date

SECRET = "test-secret-console"

# Every test here runs from the same instant (a Monday, 10:00 in Vietnam), with the clock
# ticking so the server's timeouts and the fake chat's waits behave; nothing depends on
# the real date or hour. ``make test``'s clock-shifted passes move the process clock
# themselves (--clock-at), and this instant then stands in for theirs.
START = dt.datetime(2026, 11, 23, 3, 0, tzinfo=dt.timezone.utc)


@pytest.fixture(autouse=True)
def fixed_start():
    with time_machine.travel(START, tick=True):
        yield
OFFICER_CHAT = 5501


@dataclasses.dataclass
class World:
    url: str
    sessions: object
    fake: FakeTelegram
    ids: dict[str, str]
    alerts: dict[str, int]


def seed(sessions) -> tuple[dict[str, str], dict[str, int]]:  # noqa: ANN001
    now = dt.datetime.now(dt.timezone.utc)
    with sessions.begin() as s:
        people.add_commune(s, "Xã An Bình", "test")
        people.add_commune(s, "Xã Bến Cát", "test")
        officer = people.add_person(s, "officer", "Trần Văn Cán", "Xã An Bình", "test")
        other_officer = people.add_person(s, "officer", "Lê Thị Bộ", "Xã Bến Cát", "test")
        mentor = people.add_person(s, "mentor", "Phạm Hướng", "Xã An Bình", "test")
        admin = people.add_person(s, "admin", "Quản Trị", "Xã An Bình", "test")
        mine = people.add_person(s, "supervisee", "Nguyễn Văn Một", "Xã An Bình", "test", mentor_id=mentor.id)
        theirs = people.add_person(s, "supervisee", "Đỗ Văn Hai", "Xã Bến Cát", "test")
        people.set_schedule(s, mine.id, "weekly", "test", weekday=0)
        s.add(ChannelIdentity(channel="telegram", external_id=str(OFFICER_CHAT), person_id=officer.id))
        s.add(Checkin(key=f"{mine.id}:2026-11-23", person_id=mine.id, window_start=now.date(), at=now,
                      channel="telegram", at_registered_address=True, activity="looking", wellbeing=1,
                      needs="housing", note="Tôi mất việc, cần giúp đỡ", worrying=True))
        a_mine = raise_alert(s, mine, f"worrying:{mine.id}:x", "worrying_checkin", "high", now,
                             detail="low_wellbeing,asks_help", note="Tôi mất việc, cần giúp đỡ")
        a_theirs = raise_alert(s, theirs, f"worrying:{theirs.id}:x", "worrying_checkin", "high", now,
                               detail="low_wellbeing")
        ids = {"officer": officer.id, "other_officer": other_officer.id, "mentor": mentor.id, "admin": admin.id,
               "mine": mine.id, "theirs": theirs.id}
        return ids, {"mine": a_mine.id, "theirs": a_theirs.id}


@pytest.fixture
def world(own_db_url):
    fake = FakeTelegram()
    with serve(fake.app()) as fake_url, migrated_sessions(own_db_url) as sessions:
        fake.url = fake_url
        ids, alerts = seed(sessions)
        settings = dataclasses.replace(load_settings({}), database_url=own_db_url, rasa_port=free_port(),
                                       actions_port=free_port(), secret_key=SECRET, scheduler=False,
                                       telegram_token=fake.token, telegram_api_base=f"{fake_url}/bot")
        with serve(create_app(settings)) as url:
            yield World(url, sessions, fake, ids, alerts)


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf" value="([^"]+)"', html)
    assert m, "no CSRF field on the page"
    return m.group(1)


def signed_in(world: World, who: str) -> httpx.Client:
    """A client holding a session for ``who`` (the HTTP sign-in itself is tested below)."""
    with world.sessions.begin() as s:
        token = auth._open_session(s, SECRET.encode(), world.ids[who], "code", dt.datetime.now(dt.timezone.utc))
    client = httpx.Client(base_url=world.url, follow_redirects=False, timeout=30)
    client.cookies.set(auth.SESSION_COOKIE, token, path="/staff")
    return client


def signin_messages(world: World, n: int) -> list[str]:
    """The first ``n`` sign-in messages sent to the officer's chat (the seeded alert's notice
    reaches the same chat, before or after them), waiting up to 30 s for them."""
    deadline = time.monotonic() + 30
    while True:
        texts = [m["text"] for m in world.fake.sent(OFFICER_CHAT) if "/staff/login/link" in m["text"]]
        if len(texts) >= n or time.monotonic() > deadline:
            return texts


def audits(world: World, action: str) -> list[AuditEntry]:
    with world.sessions() as s:
        return list(s.scalars(select(AuditEntry).where(AuditEntry.action == action)))


# --- sign-in -------------------------------------------------------------------------------------


def test_sign_in_by_a_code_sent_to_the_telegram_chat(world):
    with httpx.Client(base_url=world.url, follow_redirects=False, timeout=30) as c:
        page = c.get("/staff/login")
        assert page.status_code == 200 and 'lang="vi"' in page.text and "Đăng nhập" in page.text
        r = c.post("/staff/login", data={"csrf": csrf_of(page.text), "name": "  trần văn cán "})
        assert r.status_code == 303 and r.headers["location"] == "/staff/login/code"
        sent = signin_messages(world, 1)
        assert sent, "the sign-in code never reached the officer's Telegram chat"
        text = sent[-1]
        code = re.search(r"\b([A-Z2-9]{6})\b", text).group(1)
        link = re.search(r"(http://\S+/staff/login/link\?t=\S+)", text).group(1)
        form = c.get("/staff/login/code")
        wrong = c.post("/staff/login/code", data={"csrf": csrf_of(form.text), "code": "AAAAAA"})
        assert wrong.status_code == 401
        ok = c.post("/staff/login/code", data={"csrf": csrf_of(form.text), "code": code.lower()})
        assert ok.status_code == 303 and ok.headers["location"] == "/staff/caseload"
        caseload = c.get("/staff/caseload")
        assert caseload.status_code == 200 and "Nguyễn Văn Một" in caseload.text
        assert "Đỗ Văn Hai" not in caseload.text      # another commune's person
        # The same code, and the link of the same sign-in, work once only.
        again = c.post("/staff/login/code", data={"csrf": csrf_of(form.text), "code": code})
        assert again.status_code == 401
        assert c.get(link.replace(world.url, "")).status_code == 410
    assert [e.subject_id for e in audits(world, "console_signin")] == [world.ids["officer"]]
    assert audits(world, "console_signin_refused")


def test_a_link_signs_in_once_through_a_post_and_expires(world):
    secret = SECRET.encode()
    now = dt.datetime.now(dt.timezone.utc)
    with world.sessions.begin() as s:
        auth.request_signin(s, secret, "Trần Văn Cán", "10.0.0.1", world.url, now)
    text = signin_messages(world, 1)[-1]
    token = re.search(r"link\?t=(\S+)", text).group(1)
    with httpx.Client(base_url=world.url, follow_redirects=False, timeout=30) as c:
        page = c.get(f"/staff/login/link?t={token}")        # a preview fetching the link uses nothing up
        assert page.status_code == 200
        assert c.get(f"/staff/login/link?t={token}").status_code == 200
        r = c.post("/staff/login/link", data={"csrf": csrf_of(page.text), "t": token})
        assert r.status_code == 303 and c.get("/staff/caseload").status_code == 200
        assert c.post("/staff/login/link", data={"csrf": csrf_of(page.text), "t": token}).status_code == 410
    # Expired: a new sign-in, used after its minutes are up.
    with world.sessions.begin() as s:
        auth.request_signin(s, secret, world.ids["officer"], "10.0.0.1", world.url, now)
    text = signin_messages(world, 2)[-1]
    token = re.search(r"link\?t=(\S+)", text).group(1)
    with world.sessions.begin() as s:
        assert auth.redeem_link(s, secret, token, now + auth.SIGNIN_VALID + dt.timedelta(seconds=1)) is None
        assert auth.redeem_link(s, secret, token, now + dt.timedelta(minutes=1)) is not None


def test_unknown_names_get_the_same_answer_and_requests_are_rate_limited(world):
    with httpx.Client(base_url=world.url, follow_redirects=False, timeout=30) as c:
        csrf = csrf_of(c.get("/staff/login").text)
        unknown = c.post("/staff/login", data={"csrf": csrf, "name": "Không Có Ai"})
        assert unknown.status_code == 303 and unknown.headers["location"] == "/staff/login/code"
        supervisee = c.post("/staff/login", data={"csrf": csrf, "name": "Nguyễn Văn Một"})
        assert supervisee.status_code == 303        # a supervisee is not staff: nothing sent, same answer
        statuses = [c.post("/staff/login", data={"csrf": csrf, "name": "x"}).status_code
                    for _ in range(auth.REQUESTS_PER_SOURCE)]
        assert statuses[-1] == 429
        assert c.post("/staff/login", data={"csrf": "forged", "name": "Trần Văn Cán"}).status_code == 403
    assert signin_messages(world, 0) == []     # (the seeded alert's notice is not a sign-in)


def test_admin_password_sign_in_and_revoked_sessions(world):
    with world.sessions.begin() as s:
        auth.set_password(s, world.ids["admin"], "một mật khẩu dài đủ", "test")
        with pytest.raises(people.Invalid):
            auth.set_password(s, world.ids["officer"], "một mật khẩu dài đủ", "test")
    with httpx.Client(base_url=world.url, follow_redirects=False, timeout=30) as c:
        csrf = csrf_of(c.get("/staff/login").text)
        bad = c.post("/staff/login", data={"csrf": csrf, "name": "quản trị", "password": "sai"})
        assert bad.status_code == 401
        ok = c.post("/staff/login", data={"csrf": csrf, "name": "quản trị", "password": "một mật khẩu dài đủ"})
        assert ok.status_code == 303
        assert c.get("/staff/admin").status_code == 200
        with world.sessions.begin() as s:
            assert auth.revoke_sessions(s, world.ids["admin"], "test") == 1
        assert c.get("/staff/admin").status_code == 302
    with world.sessions() as s:
        assert all(row.revoked_at for row in s.scalars(select(StaffSession)))


# --- scope, CSRF, anonymous access, malformed input -------------------------------------------------


PAGES = ["/staff", "/staff/caseload", "/staff/alerts", "/staff/enroll", "/staff/charts", "/staff/admin",
         "/staff/people/{mine}", "/staff/people/{mine}/export", "/staff/people/{mine}/erase"]
FORMS = ["/staff/logout", "/staff/alerts/1", "/staff/enroll", "/staff/people/{mine}/schedule",
         "/staff/people/{mine}/status", "/staff/people/{mine}/mentor", "/staff/people/{mine}/code",
         "/staff/people/{mine}/erase", "/staff/admin/communes", "/staff/people/{mine}/conversation"]


def test_anonymous_access_is_sent_to_sign_in(world):
    with httpx.Client(base_url=world.url, follow_redirects=False, timeout=30) as c:
        for page in PAGES:
            r = c.get(page.format(**world.ids))
            assert (r.status_code, r.headers.get("location")) == (302, "/staff/login"), page
        for form in FORMS:
            assert c.post(form.format(**world.ids), data={"csrf": "x"}).status_code == 401, form
        c.cookies.set(auth.SESSION_COOKIE, "forged-token", path="/staff")
        assert c.get("/staff/caseload").status_code == 302


def test_another_communes_person_is_refused_by_url_and_by_form(world):
    theirs, alert = world.ids["theirs"], world.alerts["theirs"]
    with signed_in(world, "officer") as c:
        csrf = csrf_of(c.get("/staff/caseload").text)
        for page in (f"/staff/people/{theirs}", f"/staff/people/{theirs}/export"):
            assert c.get(page).status_code == 404, page
        forms = {f"/staff/alerts/{alert}": {"status": "resolved", "reason": "contacted"},
                 f"/staff/people/{theirs}/schedule": {"kind": "weekly", "weekday": "1", "reason": "r"},
                 f"/staff/people/{theirs}/status": {"status": "completed", "reason": "r"},
                 f"/staff/people/{theirs}/mentor": {"mentor": world.ids["mentor"], "reason": "r"},
                 f"/staff/people/{theirs}/code": {},
                 # tampering: a mentor and a commune that are not the officer's
                 f"/staff/people/{world.ids['mine']}/mentor": {"mentor": world.ids["other_officer"], "reason": "r"}}
        for path, data in forms.items():
            assert c.post(path, data={"csrf": csrf, **data}).status_code == 404, path
        with world.sessions() as s:
            other_commune = str(s.get(people.Person, theirs).commune_id)
        r = c.post("/staff/enroll", data={"csrf": csrf, "role": "supervisee", "name": "X", "commune": other_commune})
        assert r.status_code == 404
        assert c.get(f"/staff/charts?commune={other_commune}").status_code == 404
        assert c.get("/staff/admin").status_code == 403                  # not an admin
        assert c.get(f"/staff/people/{theirs}/erase").status_code == 403
    with world.sessions() as s:
        assert s.get(Alert, alert).status == "open"
    # The mentor sees their supervisee only, and cannot edit the schedule.
    with signed_in(world, "mentor") as c:
        text = c.get("/staff/caseload").text
        assert "Nguyễn Văn Một" in text and "Đỗ Văn Hai" not in text
        csrf = csrf_of(text)
        r = c.post(f"/staff/people/{world.ids['mine']}/schedule",
                   data={"csrf": csrf, "kind": "weekly", "weekday": "1", "reason": "r"})
        assert r.status_code == 403


def test_forged_csrf_is_refused_and_the_alert_stays_open(world):
    alert = world.alerts["mine"]
    with signed_in(world, "officer") as c:
        real = csrf_of(c.get("/staff/alerts").text)
        for token in ("", "forged", real[:-1] + ("0" if real[-1] != "0" else "1")):
            r = c.post(f"/staff/alerts/{alert}", data={"csrf": token, "status": "resolved", "reason": "contacted"})
            assert r.status_code == 403
        r = c.post(f"/staff/alerts/{alert}", data={"csrf": real, "status": "resolved", "reason": "contacted"},
                   headers={"Origin": "http://evil.example"})
        assert r.status_code == 403
        with world.sessions() as s:
            assert s.get(Alert, alert).status == "open"
        r = c.post(f"/staff/alerts/{alert}", data={"csrf": real, "status": "acknowledged", "reason": "contacted"})
        assert r.status_code == 303
    with world.sessions() as s:
        a = s.get(Alert, alert)
        assert (a.status, a.reason_code, a.updated_by) == ("acknowledged", "contacted", world.ids["officer"])
    # Another staff member's CSRF token does not work with this session.
    with signed_in(world, "mentor") as c:
        assert c.post(f"/staff/alerts/{alert}", data={"csrf": real, "status": "resolved",
                                                      "reason": "contacted"}).status_code == 403


def test_reads_of_a_person_are_audited_with_the_staff_member(world):
    mine = world.ids["mine"]
    with signed_in(world, "officer") as c:
        assert c.get("/staff/caseload").status_code == 200
        page = c.get(f"/staff/people/{mine}")
        assert page.status_code == 200
        assert "Tôi mất việc, cần giúp đỡ" in page.text and "<svg" in page.text
        assert c.get(f"/staff/people/{mine}/export").json()["person"]["id"] == mine
    actor = f"person:{world.ids['officer']}"
    assert [(e.actor, e.subject_id) for e in audits(world, "console_view_person")] == [(actor, mine)]
    assert [(e.actor, e.subject_id) for e in audits(world, "export_person")] == [(actor, mine)]
    assert any(e.actor == actor for e in audits(world, "console_caseload"))


def test_malformed_input_is_answered_4xx(world):
    mine = world.ids["mine"]
    with signed_in(world, "admin") as c:
        csrf = csrf_of(c.get("/staff/caseload").text)
        checks = [
            c.get("/staff/people/not-an-id"),
            c.get("/staff/people/" + "z" * 32),
            c.get("/staff/charts?mentor=nobody"),
            c.post("/staff/alerts/abc", data={"csrf": csrf, "status": "resolved", "reason": "contacted"}),
            c.post("/staff/alerts/99999999999999999999", data={"csrf": csrf, "status": "resolved", "reason": "x"}),
            c.post(f"/staff/alerts/{world.alerts['mine']}", data={"csrf": csrf, "status": "open", "reason": "other"}),
            c.post(f"/staff/people/{mine}/status", data={"csrf": csrf, "status": "completed", "until": "31/12/2026",
                                                          "reason": "r"}),
            c.post(f"/staff/people/{mine}/status", data={"csrf": csrf, "status": "suspended", "reason": "r"}),
            c.post(f"/staff/people/{mine}/schedule", data={"csrf": csrf, "kind": "weekly", "weekday": "9",
                                                            "reason": "r"}),
            c.post(f"/staff/people/{mine}/schedule", data={"csrf": csrf, "kind": "weekly", "weekday": "1"}),
            c.post("/staff/enroll", data={"csrf": csrf, "role": "king", "name": "X", "commune": "1"}),
            c.post("/staff/enroll", data={"csrf": csrf, "role": "supervisee", "name": "", "commune": "1"}),
            c.post(f"/staff/people/{mine}/erase", data={"csrf": csrf, "confirm_name": "someone else"}),
            c.post("/staff/enroll", content=b"csrf=" + csrf.encode() + b"&name=\xff\xfe%ZZ",
                   headers={"Content-Type": "application/x-www-form-urlencoded"}),
            c.post("/staff/enroll", content=b'{"json": 1}', headers={"Content-Type": "application/json"}),
            c.post("/staff/enroll", content=b"a=" + b"x" * 40000,
                   headers={"Content-Type": "application/x-www-form-urlencoded"}),
            c.put("/staff/caseload"),
        ]
        for r in checks:
            assert 400 <= r.status_code < 500, (r.request.method, r.request.url, r.status_code)
        assert c.get(f"/staff/people/{mine}").status_code == 200       # erase refused: still there
        # Unknown list and sort names are ignored, a long search is cut: the page still answers.
        assert c.get("/staff/caseload?list=%00&sort=<script>&q=" + "x" * 5000).status_code == 200


def test_every_page_renders_in_vietnamese_and_in_english(world):
    mine = world.ids["mine"]
    with signed_in(world, "admin") as c:
        for lang, word in (("vi", "Cần chú ý"), ("en", "Needs attention")):
            assert word in c.get(f"/staff/caseload?lang={lang}").text
        for page in ("/staff/caseload?list=attention", "/staff/caseload?sort=alerts", "/staff/alerts",
                     "/staff/alerts?handled=1", "/staff/enroll", "/staff/charts", f"/staff/people/{mine}",
                     f"/staff/people/{mine}/erase", "/staff/admin", f"/staff/charts?mentor={world.ids['mentor']}"):
            for lang in ("vi", "en"):
                r = c.get(page + ("&" if "?" in page else "?") + f"lang={lang}")
                assert r.status_code == 200, (page, lang)
        csrf = csrf_of(c.get("/staff/enroll").text)
        code = c.post(f"/staff/people/{mine}/code", data={"csrf": csrf})
        assert code.status_code == 200 and "<svg" in code.text and "Phiếu đăng ký" in code.text
        assert re.search(r'id="enroll-code">([A-Z2-9]{10})<', code.text)


def test_an_admin_erases_after_typing_the_name_and_an_officer_cannot(world):
    mine = world.ids["mine"]
    with signed_in(world, "officer") as c:
        csrf = csrf_of(c.get("/staff/caseload").text)
        assert c.post(f"/staff/people/{mine}/erase", data={"csrf": csrf, "confirm_name": "Nguyễn Văn Một"}
                      ).status_code == 403
    with signed_in(world, "admin") as c:
        page = c.get(f"/staff/people/{mine}/erase")
        r = c.post(f"/staff/people/{mine}/erase", data={"csrf": csrf_of(page.text), "confirm_name": "nguyễn văn một"})
        assert r.status_code == 200 and "Đã xóa" in r.text
        assert c.get(f"/staff/people/{mine}").status_code == 404
        assert "Nguyễn Văn Một" not in c.get("/staff/caseload").text
    assert [e.actor for e in audits(world, "erase_person")] == [f"person:{world.ids['admin']}"]


def test_codes_do_not_stay_in_the_outbox(world):
    secret = SECRET.encode()
    now = dt.datetime.now(dt.timezone.utc)
    with world.sessions.begin() as s:
        auth.request_signin(s, secret, "Trần Văn Cán", "10.0.0.2", world.url, now)
    signin_messages(world, 1)
    with world.sessions.begin() as s:       # the next request (anyone's, later) clears the sent text
        auth.request_signin(s, secret, "Trần Văn Cán", "10.0.0.2", world.url, now + auth.SIGNIN_VALID * 2)
    from bot.storage.models import OutboxMessage
    with world.sessions() as s:
        bodies = [r.body for r in s.scalars(select(OutboxMessage).where(OutboxMessage.kind == "staff_signin")
                                            .order_by(OutboxMessage.id))]
    assert bodies[0] is None and bodies[1] is not None


# --- relayed conversations (issue 15) -----------------------------------------------------------------


MENTOR_CHAT = 5502


def test_a_mentor_opens_the_conversation_with_their_supervisee_only(world):
    mine, theirs = world.ids["mine"], world.ids["theirs"]
    with world.sessions.begin() as s:
        other = people.add_person(s, "supervisee", "Bùi Văn Ba", "Xã An Bình", "test").id   # not the mentor's
        s.add(ChannelIdentity(channel="telegram", external_id=str(MENTOR_CHAT), person_id=world.ids["mentor"]))
    with signed_in(world, "mentor") as c:
        page = c.get(f"/staff/people/{mine}")
        assert page.status_code == 200 and "Nhắn cho anh/chị Nguyễn Văn Một" in page.text
        assert "Không có cuộc trò chuyện nào đang mở." in page.text and "Telegram" in page.text
        csrf = csrf_of(page.text)
        # Not theirs, by URL and by a tampered form; a forged token; a staff member, not a supervisee.
        for pid in (other, theirs, world.ids["officer"], "x" * 32, "short"):
            r = c.post(f"/staff/people/{pid}/conversation", data={"csrf": csrf})
            assert r.status_code == 404, pid
        assert c.post(f"/staff/people/{mine}/conversation", data={"csrf": "forged"}).status_code == 403
        with world.sessions() as s:
            assert s.scalars(select(RelayConversation)).all() == []
        r = c.post(f"/staff/people/{mine}/conversation", data={"csrf": csrf})
        assert (r.status_code, r.headers["location"]) == (303, f"/staff/people/{mine}?done=conversation")
        done = c.get(r.headers["location"] + "&lang=en")
        assert "Write your reply in your own chat with Lối Về (Telegram)" in done.text
        assert "Open since" in done.text and "with Phạm Hướng" in done.text
        caseload = c.get("/staff/caseload?lang=en").text
        assert f'href="/staff/people/{mine}#conversation" class="tag">open<' in caseload
    with world.sessions() as s:
        convs = s.scalars(select(RelayConversation)).all()
        assert [(x.person_id, x.staff_id, x.opened_by, x.status) for x in convs] == [
            (mine, world.ids["mentor"], "staff", "open")]
    actor = f"person:{world.ids['mentor']}"
    assert [(e.actor, e.subject_id) for e in audits(world, "relay_open")] == [(actor, mine)]
    assert [(e.actor, e.subject_id) for e in audits(world, "relay_read")] == [(actor, mine)]   # the page after
    assert {e.subject_id for e in audits(world, "console_relay_open")} == {mine}


def test_a_staff_member_without_a_chat_is_told_to_link_one_first(world):
    mine = world.ids["mine"]
    with signed_in(world, "officer") as c:    # the officer's Telegram chat is unreachable now
        with world.sessions.begin() as s:
            for ci in s.scalars(select(ChannelIdentity).where(ChannelIdentity.person_id == world.ids["officer"])):
                ci.unreachable_at = dt.datetime.now(dt.timezone.utc)
        page = c.get(f"/staff/people/{mine}?lang=en")
        assert "You have no chat with Lối Về that can be reached" in page.text and "Message Nguyễn" not in page.text
        r = c.post(f"/staff/people/{mine}/conversation", data={"csrf": csrf_of(page.text)})
        assert r.status_code == 400
    with world.sessions() as s:
        assert s.scalars(select(RelayConversation)).all() == []


def test_the_person_page_reads_a_request_and_admin_and_charts_count_it(world):
    mine = world.ids["mine"]
    now = dt.datetime.now(dt.timezone.utc)
    with world.sessions.begin() as s:
        p, mentor = s.get(people.Person, mine), s.get(people.Person, world.ids["mentor"])
        conv = conversations.request(s, p, "k1", [], now - dt.timedelta(hours=2), staff=mentor).conversation
        conversations.append(s, conv, "person", "Anh ơi em cần người nói chuyện", "m1", now - dt.timedelta(hours=2))
    with signed_in(world, "officer") as c:
        page = c.get(f"/staff/people/{mine}?lang=en")
        assert "Anh ơi em cần người nói chuyện" in page.text and "waiting for a reply" in page.text
        assert 'class="tag bad">waiting for a reply<' in c.get("/staff/caseload?lang=en").text
        charts = c.get("/staff/charts?lang=en").text
        assert "Handoff response times" in charts and 'id="table-handoff"' in charts
        asked = vietnam_date(now - dt.timedelta(hours=2))
        week = format_date(asked - dt.timedelta(days=asked.weekday()), "en")[:5]
        assert f"<tr><td>{week}</td><td>1</td><td>—</td><td>1</td></tr>" in charts    # 1 request, not answered in time
    with signed_in(world, "admin") as c:
        admin = c.get("/staff/admin?lang=en").text
        assert "1 open · 1 requests waiting for a first reply" in admin and "1 waiting longer than 30 minutes" in admin
    assert [e.actor for e in audits(world, "relay_read")] == [f"person:{world.ids['officer']}"]
