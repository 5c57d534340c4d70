"""Test helpers: free ports, process trees, and a real running product."""

from __future__ import annotations

import contextlib
import itertools
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from sqlalchemy.orm import Session, sessionmaker

from bot import PROJECT_ROOT

TODAY = "2026-11-22"
TOPIC_TITLES_VI = ["Vay vốn", "Xóa án tích", "Giấy tờ", "Báo cáo định kỳ", "Gặp cán bộ"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def descendants(pid: int) -> set[int]:
    """All live descendant pids of ``pid`` (from /proc)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    found: set[int] = set()
    stack = [pid]
    while stack:
        for child in children.get(stack.pop(), []):
            if child not in found:
                found.add(child)
                stack.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def process_group(pgid: int) -> set[int]:
    members = set()
    for entry in os.listdir("/proc"):
        if entry.isdigit() and alive(int(entry)):
            try:
                if os.getpgid(int(entry)) == pgid:
                    members.add(int(entry))
            except OSError:
                pass
    return members


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


class WebChat:
    """A browser's web chat: ``GET /`` for the ``loive_web`` cookie, then
    same-origin requests carrying it (the ``user`` field is not sent: the cookie
    says who is writing)."""

    def __init__(self, url: str, origin: str | None = None) -> None:
        self.url = url
        self.http = httpx.Client(base_url=url, timeout=60, headers={"Origin": origin or url})
        r = self.http.get("/")
        assert r.status_code == 200 and "loive_web" in self.http.cookies, (r.status_code, r.headers)

    @property
    def cookie(self) -> str:
        return self.http.cookies["loive_web"]

    def post(self, text: str, **extra: str) -> httpx.Response:
        return self.http.post("/api/messages", json={"text": text, **extra})

    def say(self, text: str, **extra: str) -> list[dict]:
        r = self.post(text, **extra)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()["replies"]

    def inbox(self, after: int = 0) -> list[dict]:
        r = self.http.get("/api/inbox", params={"after": after})
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()["messages"]

    def external_id(self, secret: bytes) -> str:
        """What channel_identities.external_id holds for this browser."""
        from bot.channels import web_session

        return web_session.external_id(secret, web_session.verify(secret, self.cookie))

    def conversation(self, sessions: sessionmaker[Session], secret: bytes) -> str | None:
        """This browser's conversation id (channel_identities.id), if it wrote."""
        from sqlalchemy import select

        from bot.storage.models import ChannelIdentity

        with sessions() as s:
            return s.scalar(select(ChannelIdentity.id).where(ChannelIdentity.channel == "web",
                                                             ChannelIdentity.external_id == self.external_id(secret)))


@dataclass
class Product:
    url: str
    proc: subprocess.Popen[bytes]
    log_path: Path
    env: dict[str, str]
    var_dir: Path
    chats: dict[str, WebChat] = field(default_factory=dict)

    def rasa_parse(self, text: str) -> dict:
        r = httpx.post(f"http://127.0.0.1:{self.env['LOIVE_RASA_PORT']}/model/parse",
                       params={"token": self.env["LOIVE_RASA_TOKEN"]}, json={"text": text}, timeout=30)
        r.raise_for_status()
        return r.json()

    def log(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def say(self, user: str, text: str, **extra: str) -> list[dict]:
        """The anonymous contract: no cookie, the conversation named by ``user``
        (questions and answers only)."""
        r = httpx.post(f"{self.url}/api/messages", json={"user": user, "text": text, **extra}, timeout=60)
        assert r.status_code == 200, (r.status_code, r.text)
        return r.json()["replies"]

    def chat(self, name: str) -> WebChat:
        """The cookie-bound web chat of one browser, by a test's name for it
        (the same name gives the same browser): enrollment, reminders, alerts."""
        if name not in self.chats:
            self.chats[name] = WebChat(self.url)
        return self.chats[name]

    def secret(self) -> bytes:
        from bot.config import load_settings

        return load_settings(self.env).secret()

    def wait_ready(self, timeout: float = 600.0) -> float:
        started = time.monotonic()
        while time.monotonic() - started < timeout:
            if self.proc.poll() is not None:
                raise AssertionError(f"run command exited ({self.proc.returncode}):\n{self.log()[-4000:]}")
            try:
                if httpx.get(f"{self.url}/healthz", timeout=3).status_code == 200:
                    return time.monotonic() - started
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
        raise AssertionError(f"not ready after {timeout} s:\n{self.log()[-4000:]}")

    def stop(self, timeout: float = 60.0) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
            try:
                return self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                raise
        return self.proc.returncode


CURRENT_TEST = None   # the pytest item being set up or run (tests/conftest.py keeps it)


# Conversations with the running product (the acceptance sets' stack tests).
_conversations = itertools.count()
# A reply on the English page fails when it carries one of these (the product name "Lối Về" aside).
VIETNAMESE_LETTERS = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]", re.I)


def both(*turns: str) -> list[tuple[str, ...]]:
    """A conversation as written and folded (no diacritics): the two ways the acceptance sets
    send it (bench/acceptance.py), as parameters of a stack test."""
    from vietnamese.text import fold

    return [turns, tuple(fold(t) for t in turns)]


def chat(product: Product, *turns: str, **extra: str) -> list[list[dict]]:
    """A new anonymous conversation: each turn said in order, the replies to each
    (``extra`` goes with every message, e.g. ``locale="en"``)."""
    user = f"chat-{next(_conversations)}"
    return [product.say(user, t, **extra) for t in turns]


def text(replies: list[dict]) -> str:
    """The texts of one turn's replies, one bubble a line, no-break spaces as spaces."""
    return "\n".join(r["text"] for r in replies).replace("\xa0", " ")


def payloads(replies: list[dict]) -> list[str]:
    """The payloads of one turn's buttons, in order."""
    return [b["payload"] for r in replies for b in r.get("buttons") or []]


def require_stack_mark(what: str) -> None:
    """Stop a test that reaches Rasa or the running product without the ``stack``
    mark: ``make test-fast`` (``-m "not stack"``) must never start them."""
    item = CURRENT_TEST
    if item is not None and item.get_closest_marker("stack") is None:
        raise RuntimeError(f"{item.nodeid} uses {what}: mark it @pytest.mark.stack")


def start_product(tmp: Path, database_url: str, extra_env: dict[str, str] | None = None) -> Product:
    require_stack_mark("the running product")
    port = free_port()
    var_dir = tmp / "var"
    env = {
        **os.environ,
        "LOIVE_PORT": str(port),
        "LOIVE_RASA_PORT": str(free_port()),
        "LOIVE_ACTIONS_PORT": str(free_port()),
        "LOIVE_VAR_DIR": str(var_dir),
        "LOIVE_RASA_TOKEN": "test-" + os.urandom(8).hex(),
        "LOIVE_TODAY": TODAY,  # answers depend on the law in force that day
        "DATABASE_URL": database_url,
        "PYTHONUNBUFFERED": "1",
    }
    env.pop("RASA_TRACKER_URL", None)
    env.pop("REDIS_URL", None)
    env.update(extra_env or {})
    log_path = tmp / "run.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot", "run"],
        cwd=PROJECT_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
    )
    return Product(f"http://127.0.0.1:{port}", proc, log_path, env, var_dir)


@contextlib.contextmanager
def serve(app, port: int | None = None) -> Iterator[str]:  # noqa: ANN001
    """Serve an ASGI app with uvicorn on loopback in a thread; yield its base URL."""
    import uvicorn

    port = port or free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("test server did not start")
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)


@contextlib.contextmanager
def private_database(db_url: str) -> Iterator[str]:
    """``db_url`` itself for SQLite (a file of this test's own); for PostgreSQL a
    fresh database on the same server, dropped afterwards. The session's shared
    PostgreSQL database also holds the running product's outbox, whose
    dispatcher would claim (or cancel) rows a test means to handle itself."""
    from sqlalchemy.engine import make_url

    url = make_url(db_url)
    if url.get_backend_name() != "postgresql":
        yield db_url
        return
    import psycopg

    name = f"loive_private_{secrets.token_hex(5)}"
    admin = url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


_SQLITE_TEMPLATE: Path | None = None   # one migrated SQLite file per test process


def _copy_migrated_sqlite(path: Path) -> None:
    """Put a migrated, empty database at ``path``: the migrations run once per
    test process into a template, which each test then copies (0.13 s of
    Alembic per test otherwise; tests/db/test_storage.py runs the migrations
    themselves on both databases)."""
    global _SQLITE_TEMPLATE
    from bot.storage.db import make_engine
    from bot.storage.migrate import upgrade

    if _SQLITE_TEMPLATE is None:
        template = Path(tempfile.mkdtemp(prefix="loive-migrated-")) / "template.db"
        engine = make_engine(f"sqlite:///{template}")
        upgrade(engine)
        engine.dispose()
        _SQLITE_TEMPLATE = template
    shutil.copyfile(_SQLITE_TEMPLATE, path)


@contextlib.contextmanager
def migrated_sessions(url: str) -> Iterator[sessionmaker[Session]]:
    """A sessionmaker on ``url`` after running the migrations; the engine is
    disposed afterwards."""
    from sqlalchemy.engine import make_url

    from bot.storage.db import make_engine, make_sessionmaker
    from bot.storage.migrate import upgrade

    parsed = make_url(url)
    fresh_file = parsed.get_backend_name() == "sqlite" and parsed.database and not Path(parsed.database).exists()
    if fresh_file:
        _copy_migrated_sqlite(Path(parsed.database))
    engine = make_engine(url)
    if not fresh_file:
        upgrade(engine)
    try:
        yield make_sessionmaker(engine)
    finally:
        engine.dispose()
