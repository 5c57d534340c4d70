"""Logs keep nothing personal, in every process of the product.

Rasa and rasa-sdk log what people wrote and what the bot knows about them:
Rasa's structured (structlog) errors render every frame's local variables, so
an interpolated button payload logs all slot values; a failing custom action
makes rasa-sdk answer with the whole tracker, which Rasa then logs inside its
exception; SQLAlchemy errors carry their statement parameters. So every log
record is made safe **when it is created** (a log-record factory), whatever
handlers Rasa or Sanic install later (coloredlogs replaces the root handler):

- a record of another library keeps its logger, level and a short message with
  anything between braces (JSON, dicts, trackers) and quoted values removed; a
  structlog JSON message keeps only its event name and a few safe keys;
- our own records (``bot``, ``actions``, ``nlu``) keep their message: it is
  written with opaque ids and counts only (reviewed code);
- every traceback keeps its frames (file, line, function) and exception types,
  never the exception messages.

Rasa loads this through ``--logging-config-file`` (``logging.yml``: the filter
class installs the factory); the action server when it imports ``actions``
(in each of its Sanic worker processes);
our own processes call :func:`install`. Pure standard library, importable in
both environments (``bot/__init__.py`` imports nothing; not under ``nlu/``, whose
every file is a model input).
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
import traceback
from typing import Any

OWN_LOGGERS = ("bot", "actions", "nlu", "vietnamese", "__main__")
MAX_MESSAGE_CHARS = 300
# structlog keys that never hold what a person wrote or a slot value.
SAFE_KEYS = ("event", "level", "action_name", "policy_name", "intent_name", "status", "exc_type")

_BRACES = re.compile(r"\{.*\}", re.DOTALL)
_QUOTED = re.compile(r"'[^'\n]*'|\"[^\"\n]*\"")
# Quoted names that stay: snake_case identifiers (actions, forms, slots) and
# loopback URLs. Anything else quoted (texts, values, codes, ids) is withheld.
_NAME = re.compile(r"[a-z]+(?:_[a-z]+)+|https?://(?:127\.0\.0\.1|localhost)[\w.:/-]*")
_installed = False


def _safe_structlog(message: str) -> str | None:
    """The event name and safe keys of a structlog JSON message, else None."""
    if not message.startswith("{"):
        return None
    try:
        data = json.loads(message)
    except ValueError:
        return None
    if not isinstance(data, dict) or "event" not in data:
        return None
    kept: dict[str, Any] = {k: data[k] for k in SAFE_KEYS if isinstance(data.get(k), (str, int, float))}
    exceptions = data.get("exception")
    if isinstance(exceptions, list):
        kept["exception"] = [e.get("exc_type") for e in exceptions if isinstance(e, dict)]
    return json.dumps(kept, ensure_ascii=False)


def _quoted(match: re.Match[str]) -> str:
    text = match.group(0)
    return text if _NAME.fullmatch(text[1:-1]) else text[0] + "…" + text[0]


def safe_message(message: str) -> str:
    """A third-party log message without the values it may carry."""
    structured = _safe_structlog(message)
    if structured is not None:
        return structured
    message = _QUOTED.sub(_quoted, _BRACES.sub("{…}", message))
    if len(message) > MAX_MESSAGE_CHARS:
        message = message[:MAX_MESSAGE_CHARS] + "…"
    return message


def safe_traceback(exc_info: Any) -> str:
    """The frames and exception types of a traceback, without the messages
    (they quote SQL parameters, HTTP bodies, trackers)."""
    if not isinstance(exc_info, tuple) or exc_info[0] is None:
        return ""
    parts: list[str] = []

    def walk(te: traceback.TracebackException, seen: set[int]) -> None:
        if id(te) in seen:
            return
        seen.add(id(te))
        if te.__cause__ is not None:
            walk(te.__cause__, seen)
            parts.append("\nThe above exception was the direct cause of the following exception:\n\n")
        elif te.__context__ is not None and not te.__suppress_context__:
            walk(te.__context__, seen)
            parts.append("\nDuring handling of the above exception, another exception occurred:\n\n")
        if te.stack:  # file, line and function; no source lines (a test's source holds its data)
            parts.append("Traceback (most recent call last):\n")
            parts.extend(f'  File "{f.filename}", line {f.lineno}, in {f.name}\n' for f in te.stack)
        exc_type = te.exc_type
        name = f"{exc_type.__module__}.{exc_type.__qualname__}" if exc_type else "Exception"
        parts.append(f"{name} (message withheld: it may hold personal data)\n")

    try:
        walk(traceback.TracebackException(*exc_info, capture_locals=False, lookup_lines=False), set())
    except Exception:  # noqa: BLE001 - never let logging fail
        return f"{getattr(exc_info[0], '__name__', 'Exception')} (traceback withheld)"
    return "".join(parts).rstrip("\n")


def sanitize(record: logging.LogRecord) -> logging.LogRecord:
    """Make one record safe, in place (idempotent)."""
    if getattr(record, "_loive_safe", False):
        return record
    own = record.name.split(".", 1)[0] in OWN_LOGGERS
    try:
        message = record.getMessage()
    except Exception:  # noqa: BLE001 - a broken format string
        message = str(record.msg)
    record.msg = message if own else safe_message(message)
    record.args = ()
    if record.exc_info:
        record.exc_text = safe_traceback(record.exc_info)
        record.exc_info = None
    elif record.exc_text and not own:
        record.exc_text = "(traceback withheld)"
    record._loive_safe = True  # type: ignore[attr-defined]
    return record


def install() -> None:
    """Sanitize every log record this process creates from now on."""
    global _installed
    if _installed:
        return
    previous = logging.getLogRecordFactory()

    def factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
        return sanitize(previous(*args, **kwargs))

    logging.setLogRecordFactory(factory)
    # Rasa warns with the text it failed to parse: warnings become records too.
    logging.captureWarnings(True)
    # An exception nobody caught is printed by Python itself, message and all.
    sys.excepthook = _uncaught
    threading.excepthook = lambda args: _uncaught(args.exc_type, args.exc_value, args.exc_traceback)
    _installed = True


def _uncaught(exc_type: Any, exc: Any, tb: Any) -> None:
    if issubclass(exc_type, KeyboardInterrupt):
        sys.__excepthook__(exc_type, exc, tb)
        return
    sys.stderr.write("Uncaught exception\n" + safe_traceback((exc_type, exc, tb)) + "\n")
    sys.stderr.flush()


class PrivateLogFilter(logging.Filter):
    """For ``logging.config.dictConfig`` (Rasa's ``--logging-config-file``):
    creating it installs the record factory for the whole process; as a filter
    it also sanitizes any record that reaches its handler some other way."""

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        install()

    def filter(self, record: logging.LogRecord) -> bool:
        sanitize(record)
        return True
