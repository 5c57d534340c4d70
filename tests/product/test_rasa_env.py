"""How the app configures and trains Rasa."""

from __future__ import annotations

import shutil
import stat

import pytest
import yaml

import bot.runtime.rasa_env as rasa_env
from bot.config import load_settings


def settings(tmp_path, **env):
    return load_settings({"LOIVE_VAR_DIR": str(tmp_path), **env})


def test_default_tracker_store_is_sqlite_in_var(tmp_path):
    cfg = rasa_env.tracker_store_config(settings(tmp_path))
    assert cfg == {"type": "SQL", "dialect": "sqlite", "db": str(tmp_path / "rasa-trackers.db")}


def test_postgres_database_url_is_used_for_trackers(tmp_path):
    cfg = rasa_env.tracker_store_config(
        settings(tmp_path, DATABASE_URL="postgresql+psycopg://loive:s%40cret@db.local:5433/app?sslmode=require")
    )
    assert cfg == {"type": "SQL", "dialect": "postgresql", "url": "db.local", "port": 5433, "db": "app",
                   "username": "loive", "password": "s@cret", "query": {"sslmode": "require"}}


def test_explicit_tracker_url_wins(tmp_path):
    cfg = rasa_env.tracker_store_config(
        settings(tmp_path, DATABASE_URL="postgresql://a@h/app", RASA_TRACKER_URL="sqlite:////tmp/t.db")
    )
    assert cfg["dialect"] == "sqlite" and cfg["db"] == "/tmp/t.db"


def test_redis_lock_store_only_when_configured(tmp_path):
    assert rasa_env.lock_store_config(settings(tmp_path)) is None
    cfg = rasa_env.lock_store_config(settings(tmp_path, REDIS_URL="redis://:pw@127.0.0.1:6380/3"))
    assert cfg == {"type": "redis", "url": "127.0.0.1", "port": 6380, "db": 3, "key_prefix": "loive",
                   "use_ssl": False, "password": "pw"}


def test_rendered_endpoints_are_private_and_complete(tmp_path):
    s = settings(tmp_path, LOIVE_ACTIONS_PORT="5999", REDIS_URL="redis://127.0.0.1:6379/1")
    path = rasa_env.render_endpoints(s)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    cfg = yaml.safe_load(path.read_text())
    assert cfg["action_endpoint"]["url"] == "http://127.0.0.1:5999/webhook"
    assert not cfg["action_endpoint"].get("enable_selective_domain")
    assert cfg["tracker_store"]["type"] == "SQL"
    assert cfg["lock_store"]["type"] == "redis"


@pytest.fixture
def project_copy(tmp_path, monkeypatch):
    root = tmp_path / "proj"
    for rel in rasa_env.MODEL_INPUTS:
        src = rasa_env.PROJECT_ROOT / rel
        if "*" in rel:
            for f in rasa_env.PROJECT_ROOT.glob(rel):
                (root / f.relative_to(rasa_env.PROJECT_ROOT)).parent.mkdir(parents=True, exist_ok=True)
                shutil.copy(f, root / f.relative_to(rasa_env.PROJECT_ROOT))
        elif src.is_dir():
            shutil.copytree(src, root / rel, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (root / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(src, root / rel)
    monkeypatch.setattr(rasa_env, "PROJECT_ROOT", root)
    return root


def test_model_inputs_digest_tracks_every_input(project_copy):
    before = rasa_env.inputs_digest()
    assert rasa_env.inputs_digest() == before
    for rel in ("data/normalization/abbreviations.yml", "data/nlu/conversation.yml", "vietnamese/text.py", "domain.yml"):
        path = project_copy / rel
        original = path.read_bytes()
        path.write_bytes(original + b"\n# changed\n")
        assert rasa_env.inputs_digest() != before, rel
        path.write_bytes(original)
    assert rasa_env.inputs_digest() == before


@pytest.mark.stack
def test_trained_model_is_fresh(trained_model):
    assert rasa_env.model_is_fresh(load_settings())


def test_several_rasa_workers_without_redis_share_a_file_lock_store(tmp_path):
    s = settings(tmp_path, LOIVE_RASA_WORKERS="2")
    cfg = yaml.safe_load(rasa_env.render_endpoints(s).read_text())
    assert cfg["lock_store"] == {"type": "bot.runtime.rasa_locks.FileLockStore", "path": str(tmp_path / "rasa-locks")}
    one = yaml.safe_load(rasa_env.render_endpoints(settings(tmp_path, LOIVE_RASA_WORKERS="1")).read_text())
    assert "lock_store" not in one   # Rasa's in-memory lock store: enough for one process
    with_redis = settings(tmp_path, LOIVE_RASA_WORKERS="2", REDIS_URL="redis://127.0.0.1:6379/1")
    assert yaml.safe_load(rasa_env.render_endpoints(with_redis).read_text())["lock_store"]["type"] == "redis"


def test_the_sqlite_tracker_store_uses_write_ahead_logging(tmp_path):
    import sqlite3

    rasa_env.render_endpoints(settings(tmp_path))
    con = sqlite3.connect(tmp_path / "rasa-trackers.db")
    try:
        assert con.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    finally:
        con.close()
    assert stat.S_IMODE((tmp_path / "rasa-trackers.db").stat().st_mode) == 0o600


RASA_SIDE = r'''
import asyncio, json, os, sys, time
from bot.runtime import rasa_server
from rasa.core.actions.action import RemoteAction
from jsonschema import ValidationError

from rasa.shared.core.domain import Domain
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker
from rasa.shared.core.events import UserUttered, ActionExecuted, SlotSet, BotUttered, SessionStarted

domain = Domain.load("domain.yml")
slot = domain.slots[0].name
def turns(n, start=0):
    return [e for i in range(start, start + n) for e in (
        UserUttered(f"xin chào {i}", {"name": "greet", "confidence": 0.9}), SlotSet(slot, f"v{i}"),
        ActionExecuted("utter_greet"), BotUttered(f"chào {i}"), ActionExecuted("action_listen"))]
def trackers(db):
    store = SQLTrackerStore(domain, dialect="sqlite", db=db)
    first = [ActionExecuted("action_session_start"), SessionStarted(), ActionExecuted("action_listen")]
    asyncio.run(store.save(DialogueStateTracker.from_events("c1", first + turns(3), domain.slots)))
    tracker = asyncio.run(store.retrieve("c1"))
    for e in [ActionExecuted("action_session_start"), SessionStarted()] + turns(2, 3):
        tracker.update(e)
    asyncio.run(store.save(tracker))
    again = asyncio.run(store.retrieve("c1"))
    return {"events": [{k: v for k, v in e.as_dict().items() if k != "timestamp"} for e in again.events],
            "slots": again.current_slot_values(), "none": asyncio.run(store.retrieve("nobody")) is None}

from rasa.core.lock_store import InMemoryLockStore
def waiter_after_a_dead_holder():
    """A holder that died leaves a ticket expiring in 1 s; the waiter's expires 0.2 s later."""
    store = InMemoryLockStore()
    store.issue_ticket("c", 1.0)
    time.sleep(0.2)
    async def wait():
        async with store.lock("c", lock_lifetime=1.0, wait_time_in_seconds=1):
            return "acquired"
    try:
        return asyncio.run(asyncio.wait_for(wait(), 5))
    except asyncio.TimeoutError:
        return "hung"

out = {}
out["lock_before"] = waiter_after_a_dead_holder()
out["trackers_before"] = trackers(sys.argv[1] + "-before.db")
act = RemoteAction("action_x", None)
good = {"events": [{"event": "slot", "name": "a", "value": 1}], "responses": [{"text": "hi"}]}
bad = {"events": [{"event": "slot", "name": 3}], "responses": []}
def outcome(result):
    try:
        return act._validate_action_result(result)
    except ValidationError as e:
        return "error: " + e.message
import random
def cases(n=1500):
    """Action results of every shape, valid and not (a fixed seed): events of each type
    with fields of every JSON type, unknown or missing event names, bad responses."""
    rnd = random.Random(17)
    names = ["user", "action", "slot", "bot", "followup", "active_loop", "reset_slots", "restart",
             "session_started", "loop_interrupted", "reminder", "bogus", None, 3]
    values = [None, 1, 1.5, "x", True, [], {}, [1], {"a": 1}, {"intent": {"name": "x"}, "entities": []},
              [{"start": 0, "end": 1, "entity": "e", "value": "v"}]]
    keys = ["timestamp", "metadata", "name", "value", "text", "parse_data", "policy", "confidence",
            "entities", "input_channel", "message_id", "hide_rule_turn", "data"]
    out = []
    for _ in range(n):
        events = []
        for _ in range(rnd.randint(0, 4)):
            e = {} if rnd.random() < 0.1 else {"event": rnd.choice(names)}
            e.update({k: rnd.choice(values) for k in keys if rnd.random() < 0.3})
            events.append(e)
        out.append(rnd.choice([{"events": events, "responses": rnd.choice([[], [{"text": "x"}], "bad"])},
                               {"events": events}, {"events": "x"}, [], {}]))
    return out
out["before"] = [outcome(good), outcome(bad)] + [outcome(c) for c in cases()]
rasa_server.apply_patches()
out["after"] = [outcome(good), outcome(bad)] + [outcome(c) for c in cases()]
out["trackers_after"] = trackers(sys.argv[1] + "-after.db")
out["lock_after"] = waiter_after_a_dead_holder()
t = time.process_time()
for _ in range(20):
    act._validate_action_result(good)
out["patched_ms"] = (time.process_time() - t) / 20 * 1000

from bot.runtime.rasa_locks import FileLockStore
store = FileLockStore(path=sys.argv[3], stripes=4)
async def turns():
    async def one():
        async with store.lock("conversation-1"):
            with open(sys.argv[2], "a") as f:
                f.write("in\n")
            await asyncio.sleep(0.005)
            with open(sys.argv[2], "a") as f:
                f.write("out\n")
    await asyncio.gather(*(one() for _ in range(10)))
asyncio.run(turns())
with open(sys.argv[4], "w") as f:   # a file, not stdout: nothing else can land in it
    json.dump(out, f)
'''


@pytest.mark.stack
def test_rasa_side_patch_validates_as_rasa_does_and_file_locks_serialise_processes(tmp_path):
    """In Rasa's environment: the action-result validation gives the same answers
    (and error message), and the SQL tracker store the same events, before and
    after bot.runtime.rasa_server's patches; three
    processes taking the same conversation's lock never overlap."""
    import json
    import subprocess

    script = tmp_path / "rasa_side.py"
    script.write_text(RASA_SIDE)
    trace = tmp_path / "trace"
    env = rasa_env.rasa_env()
    # The result goes to a file of each process's own: read from stdout it once came back cut short
    # (an unterminated JSON string at 327,474 characters) while the machine was overloaded.
    procs = [subprocess.Popen([str(rasa_env.rasa_python()), str(script), str(tmp_path / f"trackers{i}"), str(trace),
                               str(tmp_path / "locks"), str(tmp_path / f"result{i}.json")],
                              cwd=rasa_env.PROJECT_ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
             for i in range(3)]
    codes = [p.wait(timeout=300) for p in procs]
    assert codes == [0, 0, 0], codes
    result = json.loads((tmp_path / "result0.json").read_text())
    assert result["before"] == result["after"]   # 1,502 results, valid or with Rasa's own error
    assert 100 < result["after"].count(True) < 1400
    # Rasa's ticket lock leaves a waiter whose own ticket expired waiting forever; patched, it gets in.
    assert (result["lock_before"], result["lock_after"]) == ("hung", "acquired")
    # The tracker store reads and writes the same events (the latest session only) before and after.
    assert result["trackers_before"] == result["trackers_after"]
    events = result["trackers_after"]["events"]
    assert 10 < len(events) < 18 and events[-2]["event"] == "bot" and events[-2]["text"] == "chào 4"
    assert result["trackers_after"]["none"] is True
    assert result["after"][0] is True and result["after"][1].startswith("error: {'event': 'slot', 'name': 3} is not valid under any")
    assert "Failed to validate Action server response" in result["after"][1]
    lines = trace.read_text().split()
    assert len(lines) == 60 and lines == ["in", "out"] * 30


TABLES_RACE = r'''
import io, logging, os, sys, time
stream = io.StringIO()
logging.basicConfig(stream=stream, level=logging.WARNING)
from bot.runtime import rasa_server
rasa_server._patch_tracker_table_creation()
from rasa.core.tracker_store import SQLTrackerStore
from rasa.shared.core.domain import Domain
target, go = sys.argv[1], sys.argv[2]
print("ready", flush=True)        # Rasa imported; every process creates its store at the same moment
while not os.path.exists(go):
    time.sleep(0.0005)
if target.endswith(".db"):
    SQLTrackerStore(Domain.empty(), dialect="sqlite", db=target)
else:
    SQLTrackerStore(Domain.empty(), dialect="postgresql", host="127.0.0.1", port=5432, username="root", db=target)
print("LOGGED-DDL" if "CREATE TABLE" in stream.getvalue() or "sender_id" in stream.getvalue() else "clean")
'''


@pytest.mark.stack
def test_workers_starting_together_create_the_tracker_tables_without_logging_them(tmp_path, request):
    """Four Rasa processes creating the tracker store at the same instant on a fresh
    database: unpatched, the losers of the race log the CREATE TABLE statement
    (column names, seen 2 of 4 on PostgreSQL and 1 of 4 on SQLite); patched, none."""
    import subprocess

    from harness.helpers import private_database
    from tests.conftest import PG_URL

    script = tmp_path / "tables_race.py"
    script.write_text(TABLES_RACE)
    targets = [str(tmp_path / "trackers.db")]
    with (private_database(request.getfixturevalue("pg_url")) if PG_URL else __import__("contextlib").nullcontext()) as pg:
        if pg:
            from sqlalchemy.engine import make_url
            targets.append(make_url(pg).database)
        for i, target in enumerate(targets):
            go = tmp_path / f"go{i}"
            procs = [subprocess.Popen([str(rasa_env.rasa_python()), str(script), target, str(go)],
                                      cwd=rasa_env.PROJECT_ROOT, env=rasa_env.rasa_env(), stdout=subprocess.PIPE,
                                      stderr=subprocess.DEVNULL, text=True) for _ in range(4)]
            assert [p.stdout.readline().strip() for p in procs] == ["ready"] * 4
            go.touch()
            outs = [p.communicate(timeout=300)[0].strip().splitlines()[-1:] for p in procs]
            assert outs == [["clean"]] * 4, (target, outs)
