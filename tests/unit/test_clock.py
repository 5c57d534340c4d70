"""The one source of time (vietnamese/clock.py), the ``clock`` fixture and the
time-shifted passes of ``make test``."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys

from bot import PROJECT_ROOT
from vietnamese.clock import VIETNAM_TZ, today_in_vietnam, utcnow, vietnam_date, vietnam_time

PROBE = "tests/timeshift/probe_wall_clock.py"
CHILD = "from vietnamese.clock import utcnow; print(utcnow().timestamp())"


def test_the_clock_fixture_freezes_every_reader(clock, monkeypatch):
    monkeypatch.delenv("LOIVE_TODAY", raising=False)
    clock.now = dt.datetime(2028, 2, 29, 16, 59, 59, tzinfo=dt.timezone.utc)   # 23:59:59 in Vietnam
    assert utcnow() == clock() == dt.datetime.now(dt.timezone.utc)
    assert today_in_vietnam() == dt.date(2028, 2, 29)
    assert vietnam_time(utcnow()) == dt.time(23, 59, 59)
    clock.now += dt.timedelta(seconds=1)                                       # midnight in Vietnam
    assert today_in_vietnam() == dt.date(2028, 3, 1) and vietnam_date(utcnow()) == dt.date(2028, 3, 1)
    assert utcnow().date() == dt.date(2028, 2, 29)                             # still the 29th in UTC


def test_today_can_be_pinned_for_evaluations(clock, monkeypatch):
    monkeypatch.setenv("LOIVE_TODAY", "2026-11-22")
    clock.now = dt.datetime(2030, 1, 1, tzinfo=VIETNAM_TZ)
    assert today_in_vietnam() == dt.date(2026, 11, 22)


def test_python_children_share_the_test_process_clock():
    """In a time-shifted pass a child started now reads the same (moved) time as
    this process; in an ordinary pass both read the real clock."""
    out = subprocess.run([sys.executable, "-c", CHILD], cwd=PROJECT_ROOT, capture_output=True, text=True,
                         check=True, env=os.environ.copy())
    assert abs(float(out.stdout) - utcnow().timestamp()) < 30


def test_a_test_that_reads_the_wall_clock_fails_in_a_shifted_pass():
    """The probe assumes it is daytime. Moved to 22:30 in Vietnam it fails, and
    at 10:00 it passes: the shifted passes catch such a test every time."""
    env = {k: v for k, v in os.environ.items() if k not in ("LOIVE_TEST_CLOCK_OFFSET_S", "PYTEST_XDIST_WORKER")}

    def run(at: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", f"--clock-at={at}",
                               PROBE], cwd=PROJECT_ROOT, capture_output=True, text=True, env=env, timeout=120)

    night = run("2026-12-31T22:30:00+07:00")
    assert night.returncode == 1 and "1 failed" in night.stdout, night.stdout[-2000:]
    day = run("2029-03-01T10:00:00+07:00")
    assert day.returncode == 0 and "1 passed" in day.stdout, day.stdout[-2000:]
