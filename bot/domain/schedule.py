"""Check-in windows: which reporting period a day falls in. Pure rules.

kinds: ``weekly`` (one day a week, weekday 0 = Monday), ``monthly`` (one day a
month), ``monthly_window`` (the first N days of each month: the monthly roll-call
window). A window is (first day, last day); the grace period runs after it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True)
class Window:
    start: dt.date
    end: dt.date

    def contains(self, day: dt.date) -> bool:
        return self.start <= day <= self.end


def window_on_or_before(kind: str, day: dt.date, *, weekday: int | None = None,
                        day_of_month: int | None = None, window_days: int = 1) -> Window:
    """The window containing ``day``, or else the latest one before it."""
    if kind == "weekly":
        assert weekday is not None
        start = day - dt.timedelta(days=(day.weekday() - weekday) % 7)
        return Window(start, start)
    if kind == "monthly":
        assert day_of_month is not None
        month = day.replace(day=1) if day.day >= day_of_month else (day.replace(day=1) - dt.timedelta(days=1)).replace(day=1)
        start = month.replace(day=day_of_month)
        return Window(start, start)
    if kind == "monthly_window":
        start = day.replace(day=1)
        return Window(start, start + dt.timedelta(days=window_days - 1))
    raise ValueError(f"unknown schedule kind {kind!r}")


def next_window(kind: str, day: dt.date, **kw: int | None) -> Window:
    """The first window that starts after ``day``."""
    current = window_on_or_before(kind, day, **kw)
    if kind == "weekly":
        return window_on_or_before(kind, current.start + dt.timedelta(days=7), **kw)
    following_month = (current.start.replace(day=1) + dt.timedelta(days=32)).replace(day=1)
    if kind == "monthly":
        following_month = following_month.replace(day=kw["day_of_month"])  # type: ignore[arg-type]
    return window_on_or_before(kind, following_month, **kw)
