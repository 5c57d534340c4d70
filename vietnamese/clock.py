"""The one source of time for the product: every "now" and "today" in ``bot/``,
``actions/`` and ``nlu/`` comes from here.

Vietnam has one time zone and no daylight saving time (UTC+7).

- ``utcnow()`` is the current instant, timezone-aware in UTC. It reads the
  process clock through ``datetime.now``, so a test moves it with
  ``time-machine`` (the ``clock`` fixture in ``tests/conftest.py``), and CI's
  time-shifted passes move it for the whole test process and every Python
  child the tests start.
- ``today_in_vietnam()`` is today's date in Vietnam. ``LOIVE_TODAY=YYYY-MM-DD``
  pins it, for evaluations and conversation tests whose expected answers
  depend on the date ("năm ngoái", which rule is in force).
- ``vietnam_date(at)`` / ``vietnam_time(at)``: the Vietnamese calendar day
  and wall time of an instant.

Code that runs many steps against one instant (a reminder tick, a dispatcher
batch) takes ``now`` or a ``clock`` callable as a parameter, defaulting to
``utcnow``, so a test can also hand it an instant directly."""

from __future__ import annotations

import datetime as dt
import os

VIETNAM_TZ = dt.timezone(dt.timedelta(hours=7), "Asia/Ho_Chi_Minh")
TODAY_ENV = "LOIVE_TODAY"


def utcnow() -> dt.datetime:
    """The current instant, aware, in UTC."""
    return dt.datetime.now(dt.timezone.utc)


def vietnam_date(at: dt.datetime) -> dt.date:
    """The calendar day in Vietnam at an aware instant."""
    return at.astimezone(VIETNAM_TZ).date()


def vietnam_time(at: dt.datetime) -> dt.time:
    """The wall-clock time in Vietnam at an aware instant."""
    return at.astimezone(VIETNAM_TZ).time()


def today_in_vietnam() -> dt.date:
    pinned = os.environ.get(TODAY_ENV)
    if pinned:
        return dt.date.fromisoformat(pinned)
    return vietnam_date(utcnow())
