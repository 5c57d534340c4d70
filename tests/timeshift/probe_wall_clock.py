"""Not collected by the suite (the name does not start with ``test_``):
tests/unit/test_clock.py runs it under ``--clock-at`` to show that a test that reads
the wall clock fails in the time-shifted passes, every time."""

from vietnamese.clock import utcnow
from bot.outbox import in_quiet_hours


def test_reads_the_wall_clock_and_assumes_daytime():
    assert not in_quiet_hours(utcnow())
