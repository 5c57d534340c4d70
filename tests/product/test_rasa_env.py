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
