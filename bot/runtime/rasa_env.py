"""Everything the app knows about running Rasa: paths, the effective endpoints
file, and training the model when its inputs changed.

Rasa lives in its own environment (``.venv-rasa``); we only ever run it as a
subprocess and talk to it over HTTP.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit

import yaml
from sqlalchemy.engine import make_url

from bot import PROJECT_ROOT
from bot.config import Settings
from bot.runtime import question_intents
from vietnamese import augment

log = logging.getLogger(__name__)

MODEL_NAME = "loive"
DATA_PATHS = ("data/nlu", "data/rules.yml", "data/stories.yml")
# Everything a trained model depends on. If any of these changes, retrain
# (Rasa's own fingerprinting then decides which graph nodes really rerun).
MODEL_INPUTS = (
    "config.yml",
    "domain.yml",
    *DATA_PATHS,
    "data/normalization",
    "nlu",
    "vietnamese",
    "requirements/rasa.lock",
    # Question entries' examples train nlu.components.QuestionRetriever.
    "data/knowledge/questions_*.yml",
)


def rasa_python() -> Path:
    return Path(os.environ.get("LOIVE_RASA_PYTHON") or PROJECT_ROOT / ".venv-rasa" / "bin" / "python")


def rasa_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    """Environment for Rasa subprocesses."""
    env = dict(os.environ)
    env.update(
        {
            "PYTHONPATH": str(PROJECT_ROOT),  # custom components: nlu.components
            "RASA_TELEMETRY_ENABLED": "false",
            "TF_CPP_MIN_LOG_LEVEL": "2",
            "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
            # Rasa's default pool (50 + 100 overflow) per replica exceeds
            # PostgreSQL's default max_connections with only a few replicas.
            "SQL_POOL_SIZE": env.get("SQL_POOL_SIZE", "5"),
            "SQL_MAX_OVERFLOW": env.get("SQL_MAX_OVERFLOW", "10"),
        }
    )
    env.pop("VIRTUAL_ENV", None)
    if extra:
        env.update(extra)
    return env


# --- endpoints ---------------------------------------------------------------


def tracker_store_config(settings: Settings) -> dict[str, Any]:
    url = settings.rasa_tracker_url
    if not url and settings.database_url and settings.database_url.startswith(("postgres", "postgresql")):
        url = settings.database_url
    if not url:
        return {"type": "SQL", "dialect": "sqlite", "db": str(settings.var_dir / "rasa-trackers.db")}
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    u = make_url(url)
    backend = u.get_backend_name()
    if backend == "sqlite":
        return {"type": "SQL", "dialect": "sqlite", "db": u.database}
    if backend != "postgresql":
        raise SystemExit(f"unsupported tracker store database: {backend} (use PostgreSQL or SQLite)")
    cfg: dict[str, Any] = {
        "type": "SQL",
        "dialect": "postgresql",  # Rasa 3.6 ships psycopg2
        "url": u.host or "127.0.0.1",
        "port": u.port or 5432,
        "db": u.database,
    }
    if u.username:
        cfg["username"] = u.username
    if u.password:
        cfg["password"] = u.password
    if u.query:
        cfg["query"] = dict(u.query)
    return cfg


def lock_store_config(settings: Settings) -> dict[str, Any] | None:
    if not settings.redis_url:
        return None
    u = urlsplit(settings.redis_url)
    if u.scheme not in ("redis", "rediss"):
        raise SystemExit("REDIS_URL must look like redis://host:6379/1")
    db = u.path.strip("/")
    cfg: dict[str, Any] = {
        "type": "redis",
        "url": u.hostname or "127.0.0.1",
        "port": u.port or 6379,
        "db": int(db) if db else 1,
        "key_prefix": "loive",
        "use_ssl": u.scheme == "rediss",
    }
    if u.password:
        cfg["password"] = unquote(u.password)
    return cfg


def file_lock_store_config(settings: Settings) -> dict[str, Any]:
    """Several Rasa workers on this machine without Redis: bot/runtime/rasa_locks.py."""
    return {"type": "bot.runtime.rasa_locks.FileLockStore", "path": str(settings.var_dir / "rasa-locks")}


def sqlite_wal(path: Path) -> None:
    """Write-ahead logging: readers do not wait for a writer, and writers from
    several Rasa workers wait for each other less (the mode stays with the file)."""
    import sqlite3

    con = sqlite3.connect(path, timeout=30)
    try:
        con.execute("PRAGMA journal_mode=WAL")
    finally:
        con.close()


def render_endpoints(settings: Settings) -> Path:
    base = yaml.safe_load((PROJECT_ROOT / "endpoints.yml").read_text(encoding="utf-8")) or {}
    base["action_endpoint"] = {**(base.get("action_endpoint") or {}), "url": f"{settings.actions_url}/webhook"}
    base["tracker_store"] = tracker_store_config(settings)
    lock = lock_store_config(settings)
    if lock is None and settings.rasa_workers > 1:
        lock = file_lock_store_config(settings)
    if lock:
        base["lock_store"] = lock
    else:
        base.pop("lock_store", None)
    settings.var_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(settings.var_dir, 0o700)  # databases, secret key, endpoints: the owner's only
    if base["tracker_store"]["dialect"] == "sqlite":  # Rasa would create it with the umask's mode
        from bot.storage.db import private_sqlite_file

        private_sqlite_file(Path(base["tracker_store"]["db"]))
        sqlite_wal(Path(base["tracker_store"]["db"]))
    out = settings.var_dir / "rasa-endpoints.yml"
    tmp = out.with_suffix(".tmp")
    tmp.write_text(
        "# Written by `python -m bot run` from endpoints.yml and the environment.\n"
        + yaml.safe_dump(base, sort_keys=False, allow_unicode=True),
        encoding="utf-8",
    )
    os.chmod(tmp, 0o600)  # may hold a database password
    tmp.replace(out)
    return out


# --- model -------------------------------------------------------------------


def _input_files() -> Iterator[Path]:
    for rel in MODEL_INPUTS:
        p = PROJECT_ROOT / rel
        if "*" in rel:
            yield from sorted(PROJECT_ROOT.glob(rel))
        elif p.is_dir():
            yield from sorted(
                f for f in p.rglob("*") if f.is_file() and "__pycache__" not in f.parts
            )
        elif p.exists():
            yield p


def inputs_digest() -> str:
    h = hashlib.sha256()
    for f in _input_files():
        h.update(str(f.relative_to(PROJECT_ROOT)).encode() + b"\0")
        h.update(f.read_bytes() + b"\0")
    return h.hexdigest()


def model_path(settings: Settings) -> Path:
    return settings.models_dir / f"{MODEL_NAME}.tar.gz"


def _digest_path(settings: Settings) -> Path:
    return settings.models_dir / f"{MODEL_NAME}.inputs.sha256"


def model_is_fresh(settings: Settings) -> bool:
    digest_file = _digest_path(settings)
    return (
        model_path(settings).exists()
        and digest_file.exists()
        and digest_file.read_text().strip() == inputs_digest()
    )


def ensure_model(
    settings: Settings,
    force: bool = False,
    on_start: Callable[[subprocess.Popen[bytes]], None] | None = None,
) -> Path:
    """Train the model if it is missing or its inputs changed; return its path.

    Holds a file lock so that a test session and a running product never train
    into the same file at once. ``on_start`` receives the training process (so
    a supervisor can stop it).
    """
    settings.models_dir.mkdir(parents=True, exist_ok=True)
    with open(settings.models_dir / ".train.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        # The topic intents learn their questions' examples; the generated
        # no-diacritics/abbreviation copies follow the hand-written data.
        if question_intents.write_if_changed():
            log.info("regenerated %s", question_intents.OUTPUT.relative_to(PROJECT_ROOT))
        if augment.write_if_changed():
            log.info("regenerated %s", augment.OUTPUT.relative_to(PROJECT_ROOT))
        if not force and model_is_fresh(settings):
            return model_path(settings)
        digest = inputs_digest()
        cmd = [
            str(rasa_python()), "-m", "rasa", "train",
            "--config", "config.yml", "--domain", "domain.yml",
            "--data", *DATA_PATHS,
            "--out", str(settings.models_dir), "--fixed-model-name", MODEL_NAME,
        ]
        if force:
            cmd.append("--force")
        log.info("training the Rasa model (inputs changed or model missing)…")
        proc = subprocess.Popen(cmd, cwd=PROJECT_ROOT, env=rasa_env(), stdout=sys.stdout, stderr=sys.stderr)
        if on_start:
            on_start(proc)
        code = proc.wait()
        if code != 0 or not model_path(settings).exists():
            raise SystemExit(f"rasa train failed (exit code {code})")
        _digest_path(settings).write_text(digest + "\n")
        return model_path(settings)
