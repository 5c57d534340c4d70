"""Settings, read once from the environment. Every knob has a safe local default.

Nothing here requires PostgreSQL or Redis: they are used only when configured.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from bot import PROJECT_ROOT


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, got {raw!r}") from None


@dataclass(frozen=True)
class Settings:
    host: str = "127.0.0.1"
    port: int = 8000
    rasa_port: int = 5005
    actions_port: int = 5055
    var_dir: Path = PROJECT_ROOT / "var"
    models_dir: Path = PROJECT_ROOT / "models"
    database_url: str = ""
    # Rasa's tracker store; defaults to DATABASE_URL when that is PostgreSQL,
    # otherwise to a SQLite file next to the app database.
    rasa_tracker_url: str = ""
    # Redis lock store for several Rasa replicas; in-memory when empty.
    redis_url: str = ""
    locale: str = "vi"
    # Token for Rasa's HTTP API (--auth-token); the run command makes a random
    # one per run when this is empty.
    rasa_token: str = ""
    rasa_timeout_s: float = 30.0
    # Key for hashing enrollment codes (HMAC); shared by every replica. When
    # empty, a random key is created once in var/secret.key.
    secret_key: str = ""
    enroll_code_days: int = 7
    # Brute-force limit: failed code attempts per chat within an hour.
    enroll_max_failures: int = 5
    telegram_bot_username: str = ""
    log_level: str = "INFO"

    @property
    def rasa_url(self) -> str:
        return f"http://127.0.0.1:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return f"http://127.0.0.1:{self.actions_port}"

    def secret(self) -> bytes:
        if self.secret_key:
            return self.secret_key.encode()
        path = self.var_dir / "secret.key"
        if not path.exists():
            import secrets

            self.var_dir.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_hex(32))
        return path.read_text().strip().encode()

    @property
    def effective_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.var_dir / 'loive.db'}"


def load_settings(env: Mapping[str, str] | None = None) -> Settings:
    e = os.environ if env is None else env
    var_dir = Path(e.get("LOIVE_VAR_DIR") or PROJECT_ROOT / "var").resolve()
    return Settings(
        host=e.get("LOIVE_HOST", "127.0.0.1"),
        port=_int(e, "LOIVE_PORT", 8000),
        rasa_port=_int(e, "LOIVE_RASA_PORT", 5005),
        actions_port=_int(e, "LOIVE_ACTIONS_PORT", 5055),
        var_dir=var_dir,
        models_dir=Path(e.get("LOIVE_MODELS_DIR") or PROJECT_ROOT / "models").resolve(),
        database_url=e.get("DATABASE_URL", ""),
        rasa_tracker_url=e.get("RASA_TRACKER_URL", ""),
        redis_url=e.get("REDIS_URL", ""),
        locale=e.get("LOIVE_LOCALE", "vi"),
        rasa_token=e.get("LOIVE_RASA_TOKEN", ""),
        rasa_timeout_s=float(e.get("LOIVE_RASA_TIMEOUT", "30")),
        log_level=e.get("LOG_LEVEL", "INFO").upper(),
        secret_key=e.get("LOIVE_SECRET_KEY", ""),
        enroll_code_days=_int(e, "LOIVE_ENROLL_CODE_DAYS", 7),
        enroll_max_failures=_int(e, "LOIVE_ENROLL_MAX_FAILURES", 5),
        telegram_bot_username=e.get("TELEGRAM_BOT_USERNAME", ""),
    )
