"""Settings, read once from the environment. Every knob has a safe local default.

Nothing here requires PostgreSQL or Redis: they are used only when configured.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from bot import PROJECT_ROOT


def _int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if raw is None or raw == "":
        return default
    try:
        return int(raw)
    except ValueError:
        raise SystemExit(f"{name} must be an integer, got {raw!r}") from None


def _flag(env: Mapping[str, str], name: str, default: bool) -> bool:
    raw = (env.get(name) or "").strip().lower()
    return default if raw == "" else raw not in ("0", "false", "no", "off")


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and localhost (host names are not resolved)."""
    name = host.strip().strip("[]").lower()
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


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
    # Rasa worker processes (Sanic workers) behind the one Rasa port: a turn is
    # single-threaded Python, so one per core. Several workers share a lock
    # store (Redis if REDIS_URL, else a file lock store on this machine).
    rasa_workers: int = 2
    # Rasa replicas the gateway talks to (comma-separated base URLs), when Rasa
    # runs elsewhere or several times; default: the local Rasa on rasa_port.
    rasa_urls: str = ""
    # Where `python -m bot rasa` / `python -m bot actions` listen (loopback unless
    # a deployment places them on other machines, behind its private network).
    rasa_host: str = "127.0.0.1"
    actions_host: str = "127.0.0.1"
    # The action server as Rasa reaches it; default: local on actions_port.
    actions_base_url: str = ""
    # Action-server worker processes (rasa-sdk Sanic workers).
    actions_workers: int = 1
    # Key for hashing enrollment codes (HMAC); shared by every replica. When
    # empty, a random key is created once in var/secret.key.
    secret_key: str = ""
    enroll_code_days: int = 7
    # Brute-force limits on failed enrollment codes, each per clock hour and
    # counted in the database (shared by every replica): per chat, per source
    # address (web chat), and across all chats (README: "Enrollment codes").
    enroll_max_failures: int = 5
    enroll_max_failures_per_source: int = 10
    enroll_max_failures_global: int = 240
    # The https URL people and platforms reach the gateway at (behind a proxy
    # or on a public address). Required when LOIVE_HOST is not loopback; the
    # web chat accepts requests from this origin only.
    public_url: str = ""
    # The web chat (/, /api/messages, /api/inbox); off for Telegram/Zalo-only deployments.
    web_chat: bool = True
    telegram_bot_username: str = ""
    log_level: str = "INFO"
    # Each gateway runs the outbox dispatcher (it also delivers replies) and,
    # unless LOIVE_SCHEDULER=0, the scheduler tick. Several may run at once.
    scheduler: bool = True
    tick_s: int = 60
    # Retention: check-ins are deleted after this many days; finished outbox
    # rows and web-chat inbox messages after LOIVE_OUTBOX_RETENTION_DAYS.
    checkin_retention_days: int = 730
    outbox_retention_days: int = 90
    # Relayed conversations (bot.supervision.conversations): texts kept this
    # many days; closed after this many idle minutes; a request not answered
    # within this many minutes is escalated and counted as late.
    relay_retention_days: int = 90
    relay_idle_minutes: int = 120
    relay_answer_within_minutes: int = 30
    # Channels: each is on only when its token is set (see README, .env.example).
    telegram_token: str = ""
    telegram_webhook_url: str = ""     # public https URL of /webhooks/telegram; empty: polling
    telegram_webhook_secret: str = ""  # X-Telegram-Bot-Api-Secret-Token; derived from the secret key if empty
    telegram_api_base: str = "https://api.telegram.org/bot"
    telegram_rate: float = 30.0        # messages/s for this replica
    zalo_oa_app_id: str = ""
    zalo_oa_secret_key: str = ""       # "OA Secret Key": webhook signatures
    zalo_app_secret_key: str = ""      # "App Secret Key": token refresh
    zalo_oa_access_token: str = ""     # first tokens; then rotated in the database
    zalo_oa_refresh_token: str = ""
    zalo_oa_api_base: str = "https://openapi.zalo.me"
    zalo_oauth_base: str = "https://oauth.zaloapp.com"
    zalo_zns_base: str = "https://business.openapi.zalo.me"
    zalo_zns_template_id: str = ""     # reminders outside the 48 h window, if set
    zalo_oa_rate: float = 10.0
    zalo_bot_token: str = ""
    zalo_bot_webhook_secret: str = ""  # X-Bot-Api-Secret-Token (8–256 chars)
    zalo_bot_webhook_url: str = ""
    zalo_bot_api_base: str = "https://bot-api.zaloplatforms.com"
    zalo_bot_rate: float = 10.0

    @property
    def rasa_url(self) -> str:
        """One base URL, or several comma-separated (RasaClient spreads and fails over)."""
        return self.rasa_urls or f"http://127.0.0.1:{self.rasa_port}"

    @property
    def actions_url(self) -> str:
        return self.actions_base_url.rstrip("/") or f"http://127.0.0.1:{self.actions_port}"

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
    def public_origin(self) -> str:
        """scheme://host[:port] of LOIVE_PUBLIC_URL, or "" when unset."""
        if not self.public_url:
            return ""
        parts = urlsplit(self.public_url)
        return f"{parts.scheme}://{parts.netloc}".lower()

    def check_exposure(self) -> None:
        """Refuse to serve on a non-loopback address unless the public https
        URL is set: the gateway carries the web chat and the webhooks, and a
        browser-facing service must be reached over TLS at a known origin."""
        if self.public_url:
            parts = urlsplit(self.public_url)
            if parts.scheme != "https" or not parts.hostname:
                raise SystemExit(f"LOIVE_PUBLIC_URL must be an https URL such as https://loive.example.gov.vn "
                                 f"(got {self.public_url!r})")
        elif not is_loopback(self.host):
            raise SystemExit(
                f"LOIVE_HOST={self.host} would serve the gateway beyond this machine, but LOIVE_PUBLIC_URL is not "
                "set. Serve it over HTTPS (a TLS proxy in front) and set LOIVE_PUBLIC_URL=https://<your host>, "
                "or keep LOIVE_HOST=127.0.0.1.")

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
        rasa_workers=max(1, _int(e, "LOIVE_RASA_WORKERS", min(2, os.cpu_count() or 1))),
        actions_workers=max(1, _int(e, "LOIVE_ACTIONS_WORKERS", 1)),
        rasa_urls=e.get("LOIVE_RASA_URLS", "").strip(),
        rasa_host=e.get("LOIVE_RASA_HOST", "127.0.0.1"),
        actions_host=e.get("LOIVE_ACTIONS_HOST", "127.0.0.1"),
        actions_base_url=e.get("LOIVE_ACTIONS_URL", "").strip(),
        log_level=e.get("LOG_LEVEL", "INFO").upper(),
        secret_key=e.get("LOIVE_SECRET_KEY", ""),
        enroll_code_days=_int(e, "LOIVE_ENROLL_CODE_DAYS", 7),
        enroll_max_failures=_int(e, "LOIVE_ENROLL_MAX_FAILURES", 5),
        enroll_max_failures_per_source=_int(e, "LOIVE_ENROLL_MAX_FAILURES_PER_SOURCE", 10),
        enroll_max_failures_global=_int(e, "LOIVE_ENROLL_MAX_FAILURES_GLOBAL", 240),
        public_url=e.get("LOIVE_PUBLIC_URL", "").strip().rstrip("/"),
        web_chat=_flag(e, "LOIVE_WEB_CHAT", True),
        telegram_bot_username=e.get("TELEGRAM_BOT_USERNAME", ""),
        scheduler=e.get("LOIVE_SCHEDULER", "1").strip().lower() not in ("0", "false", "no", "off"),
        tick_s=max(5, _int(e, "LOIVE_TICK_S", 60)),
        checkin_retention_days=max(1, _int(e, "LOIVE_RETENTION_DAYS", 730)),
        outbox_retention_days=max(1, _int(e, "LOIVE_OUTBOX_RETENTION_DAYS", 90)),
        relay_retention_days=max(1, _int(e, "LOIVE_RELAY_RETENTION_DAYS", 90)),
        relay_idle_minutes=max(1, _int(e, "LOIVE_RELAY_IDLE_MINUTES", 120)),
        relay_answer_within_minutes=max(1, _int(e, "LOIVE_RELAY_ANSWER_WITHIN_MINUTES", 30)),
        telegram_token=e.get("TELEGRAM_BOT_TOKEN", ""),
        telegram_webhook_url=e.get("TELEGRAM_WEBHOOK_URL", ""),
        telegram_webhook_secret=e.get("TELEGRAM_WEBHOOK_SECRET", ""),
        telegram_api_base=e.get("TELEGRAM_API_BASE") or "https://api.telegram.org/bot",
        telegram_rate=float(e.get("TELEGRAM_RATE") or 30.0),
        zalo_oa_app_id=e.get("ZALO_OA_APP_ID", ""),
        zalo_oa_secret_key=e.get("ZALO_OA_SECRET_KEY", ""),
        zalo_app_secret_key=e.get("ZALO_APP_SECRET_KEY", ""),
        zalo_oa_access_token=e.get("ZALO_OA_ACCESS_TOKEN", ""),
        zalo_oa_refresh_token=e.get("ZALO_OA_REFRESH_TOKEN", ""),
        zalo_oa_api_base=e.get("ZALO_OA_API_BASE") or "https://openapi.zalo.me",
        zalo_oauth_base=e.get("ZALO_OAUTH_BASE") or "https://oauth.zaloapp.com",
        zalo_zns_base=e.get("ZALO_ZNS_BASE") or "https://business.openapi.zalo.me",
        zalo_zns_template_id=e.get("ZALO_ZNS_TEMPLATE_ID", ""),
        zalo_oa_rate=float(e.get("ZALO_OA_RATE") or 10.0),
        zalo_bot_token=e.get("ZALO_BOT_TOKEN", ""),
        zalo_bot_webhook_secret=e.get("ZALO_BOT_WEBHOOK_SECRET", ""),
        zalo_bot_webhook_url=e.get("ZALO_BOT_WEBHOOK_URL", ""),
        zalo_bot_api_base=e.get("ZALO_BOT_API_BASE") or "https://bot-api.zaloplatforms.com",
        zalo_bot_rate=float(e.get("ZALO_BOT_RATE") or 10.0),
    )
