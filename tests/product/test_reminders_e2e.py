"""The running product delivers by itself: a worrying check-in made in the web
chat reaches the mentor's and the officer's web chats through the gateway's
own dispatcher, and the scheduler's heartbeat is visible in /healthz."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import httpx
import pytest

from bot import PROJECT_ROOT

pytestmark = pytest.mark.stack


def admin(product, *args: str) -> str:
    return subprocess.run([sys.executable, "-m", "bot", "admin", *args], cwd=PROJECT_ROOT, env=dict(product.env),
                          capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]


def enroll(product, person_id: str, user: str) -> None:
    product.chat(user).say(admin(product, "enroll-code", person_id))
    assert "đã được đăng ký" in product.chat(user).say("/affirm")[0]["text"]


def inbox(product, user: str, after: int = 0) -> list[dict]:
    return product.chat(user).inbox(after)


def wait_for_inbox(product, user: str, timeout: float = 60.0) -> list[dict]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        msgs = inbox(product, user)
        if msgs:
            return msgs
        time.sleep(0.5)
    return []


def test_a_worrying_check_in_reaches_mentor_and_officer_chats(product):
    tag = os.urandom(3).hex()
    commune = f"Xã E2E {tag}"
    admin(product, "add-commune", commune)
    mentor = admin(product, "add-person", "--role", "mentor", "--name", "Chị Lan", "--commune", commune)
    officer = admin(product, "add-person", "--role", "officer", "--name", "Anh CA", "--commune", commune)
    sup = admin(product, "add-person", "--role", "supervisee", "--name", "Anh Bình", "--commune", commune,
                "--mentor", mentor)
    users = {"mentor": f"m-{tag}", "officer": f"o-{tag}", "supervisee": f"s-{tag}"}
    for role, pid in (("mentor", mentor), ("officer", officer), ("supervisee", sup)):
        enroll(product, pid, users[role])

    for turn in ("báo cáo", '/inform{"choice": "none"}', "dang tim viec", "2", '/inform{"choice": "housing"}',
                 "/deny", "/affirm"):
        replies = product.chat(users["supervisee"]).say(turn)
    assert replies[0]["text"] == "Cảm ơn anh/chị, báo cáo đã được ghi nhận."

    # No shelter is critical: delivered at once, day or night.
    for role in ("mentor", "officer"):
        [alert] = wait_for_inbox(product, users[role])
        assert "Anh Bình" in alert["text"] and "không có chỗ ở" in alert["text"], alert
        assert [b["title"] for b in alert["buttons"]] == ["Đã nắm", "Miễn", "Đã xử lý", "Nhắn cho anh/chị Anh Bình"]
        assert inbox(product, users[role], after=alert["id"]) == []   # acknowledged: not shown again
    assert inbox(product, users["supervisee"]) == []
    assert inbox(product, f"nobody-{tag}") == []

    health = httpx.get(f"{product.url}/healthz", timeout=10).json()
    assert health["scheduler"]["ok"] is True and health["scheduler"]["running_here"] is True


def test_inbox_needs_the_cookie_and_rejects_bad_queries(product):
    for params in ({}, {"user": ""}, {"user": "x", "after": "-1"}, {"user": "x", "after": "abc"},
                   {"user": "x" * 200}, {"user": "x"}):
        r = httpx.get(f"{product.url}/api/inbox", params=params, timeout=10)
        assert r.status_code == 401 and "error" in r.json(), (params, r.text)
    chat = product.chat("inbox-queries")
    for after in ("-1", "abc", str(2**63)):
        r = chat.http.get("/api/inbox", params={"after": after})
        assert r.status_code == 400 and "error" in r.json(), (after, r.text)
