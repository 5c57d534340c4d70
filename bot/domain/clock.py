"""Today's date in Vietnam (one time zone, no daylight saving time).

``LOIVE_TODAY=YYYY-MM-DD`` pins the date, for tests and evaluations whose
expected answers depend on it ("năm ngoái", which rule is in force)."""

from __future__ import annotations

import datetime as dt
import os

VIETNAM_TZ = dt.timezone(dt.timedelta(hours=7), "Asia/Ho_Chi_Minh")
TODAY_ENV = "LOIVE_TODAY"


def today_in_vietnam() -> dt.date:
    pinned = os.environ.get(TODAY_ENV)
    if pinned:
        return dt.date.fromisoformat(pinned)
    return dt.datetime.now(VIETNAM_TZ).date()
