"""Logs keep nothing personal (bot.logsafe), record by record, and in Rasa's own
environment with its real logging set-up (logging.yml, coloredlogs, structlog)
fed the records that leaked: an interpolated button payload with every slot in
the frame locals, and rasa-sdk's 500 body with the whole tracker."""

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap

import pytest

from bot import PROJECT_ROOT
from bot.logsafe import safe_message, safe_traceback, sanitize
from bot.runtime.rasa_env import rasa_env, rasa_python

SECRETS = ("Nguyễn Văn Bình", "nhà sắp hết gạo", "K7PM2QXR", "2023-06-01", "tôi muốn tự tử", "u-platform-4242")


def _record(name: str, msg: str, *args, exc_info=None) -> logging.LogRecord:
    return logging.LogRecord(name, logging.ERROR, __file__, 1, msg, args, exc_info)


@pytest.mark.parametrize("message", [
    'Failed to parse arguments in line \'/inform{"note": "nhà sắp hết gạo"}\'',
    "Exception occurred: {'sender_id': 'x', 'slots': {'exp_completed_on': '2023-06-01'}}",
    "User said 'tôi muốn tự tử' to the bot",
    'code "K7PM2QXR" was typed',
    '{"event": "interpolator.interpolate.text", "response": "/inform{\\"a\\": 1}", "level": "error",'
    ' "exception": [{"exc_type": "KeyError", "frames": [{"locals": {"values": "Nguyễn Văn Bình"}}]}]}',
])
def test_third_party_messages_lose_values(message):
    out = safe_message(message)
    assert not any(secret in out for secret in SECRETS), out


def test_names_and_structlog_events_stay():
    assert safe_message("Failed to run custom action 'action_checkin_finish'.") == \
        "Failed to run custom action 'action_checkin_finish'."
    out = safe_message('{"event": "processor.actions.log", "level": "error", "slot_values": ["x"], '
                       '"action_name": "action_answer"}')
    assert '"event": "processor.actions.log"' in out and "action_answer" in out and "slot_values" not in out


def test_tracebacks_keep_frames_and_types_not_messages():
    try:
        try:
            raise KeyError("Nguyễn Văn Bình")
        except KeyError as exc:
            raise RuntimeError("body: {'note': 'nhà sắp hết gạo'}") from exc
    except RuntimeError:
        import sys

        text = safe_traceback(sys.exc_info())
    assert "builtins.KeyError" in text and "builtins.RuntimeError" in text and "test_logsafe.py" in text
    assert not any(secret in text for secret in SECRETS)


def test_our_own_records_keep_their_message_but_not_exception_text():
    try:
        raise ValueError("u-platform-4242")
    except ValueError:
        import sys

        record = sanitize(_record("bot.conversation.core", "turn conversation=%s replies=%d", "abc", 2,
                                  exc_info=sys.exc_info()))
    assert record.getMessage() == "turn conversation=abc replies=2"
    assert "u-platform-4242" not in record.exc_text and "ValueError" in record.exc_text
    other = sanitize(_record("sqlalchemy.engine", "[parameters: ('%s',)]", "u-platform-4242"))
    assert "u-platform-4242" not in other.getMessage()


RASA_SCRIPT = textwrap.dedent('''
    import json, logging, warnings
    from rasa.utils.common import configure_logging_and_warnings
    configure_logging_and_warnings(None, "logging.yml", warn_only_once=True, filter_repeated_logs=True)
    import rasa.utils.io
    rasa.utils.io.configure_colored_logging("INFO")   # replaces the root handler, as `rasa run` does
    from rasa.utils.log_utils import configure_structlog
    configure_structlog()
    import structlog
    from rasa.utils.endpoints import ClientResponseError
    from rasa.shared.exceptions import RasaException

    def interpolate(values):
        return values["\\"note\\": \\"nhà sắp hết gạo\\""]

    try:
        interpolate({"exp_completed_on": "2023-06-01", "name": "Nguyễn Văn Bình"})
    except KeyError as e:
        structlog.get_logger("rasa.core.nlg.interpolator").exception(
            "interpolator.interpolate.text", response="/inform{\\"note\\": \\"tôi muốn tự tử\\"}", exception=e)

    body = json.dumps({"error": "boom", "request_body": {"tracker": {"sender_id": "u-platform-4242",
        "latest_message": {"text": "tôi muốn tự tử"}, "slots": {"enrollment_code": "K7PM2QXR"}}}})
    try:
        try:
            raise ClientResponseError(500, "Internal Server Error", body)
        except ClientResponseError as e:
            raise RasaException("Failed to execute custom action 'action_checkin_finish'") from e
    except RasaException:
        logging.getLogger("rasa.core.processor").exception(
            "Encountered an exception while running action 'action_checkin_finish'.")
    logging.getLogger("rasa.core.actions.action").error(
        "Custom action rejected: " + body)
    warnings.warn("Failed to parse arguments in line '/inform{\\"x\\": \\"Nguyễn Văn Bình\\"}'", UserWarning)
    print("DONE", flush=True)
''')


def test_rasas_real_logging_keeps_nothing_personal():
    """Rasa's own logging set-up in its own environment, given logging.yml as
    `python -m bot run` gives it."""
    proc = subprocess.run([str(rasa_python()), "-c", RASA_SCRIPT], cwd=PROJECT_ROOT, env=rasa_env(),
                          capture_output=True, text=True, timeout=300)
    out = proc.stdout + proc.stderr
    assert "DONE" in proc.stdout, out[-3000:]
    assert "interpolator.interpolate.text" in out and "Encountered an exception while running action" in out
    assert "ClientResponseError" in out and "RasaException" in out
    leaked = [secret for secret in SECRETS if secret in out or json.dumps(secret)[1:-1] in out]
    assert not leaked, (leaked, out[-3000:])


def test_an_uncaught_exception_is_printed_without_its_message():
    script = ("from bot.logsafe import install; install()\n"
              "raise RuntimeError('tracker of u-platform-4242: nhà sắp hết gạo')\n")
    proc = subprocess.run([sys.executable, "-c", script], cwd=PROJECT_ROOT, capture_output=True, text=True,
                          timeout=60, check=False)
    assert proc.returncode == 1
    assert "builtins.RuntimeError" in proc.stderr
    assert "u-platform-4242" not in proc.stderr and "gạo" not in proc.stderr
