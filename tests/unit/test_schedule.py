from __future__ import annotations

import datetime as dt

import pytest

from bot.domain.schedule import Window, next_window, window_on_or_before

D = dt.date


@pytest.mark.parametrize("kind, kw, day, window", [
    ("monthly_window", {"window_days": 5}, D(2026, 11, 3), Window(D(2026, 11, 1), D(2026, 11, 5))),
    ("monthly_window", {"window_days": 5}, D(2026, 11, 22), Window(D(2026, 11, 1), D(2026, 11, 5))),
    ("weekly", {"weekday": 0}, D(2026, 11, 22), Window(D(2026, 11, 16), D(2026, 11, 16))),  # Sunday → last Monday
    ("weekly", {"weekday": 6}, D(2026, 11, 22), Window(D(2026, 11, 22), D(2026, 11, 22))),
    ("monthly", {"day_of_month": 10}, D(2026, 11, 9), Window(D(2026, 10, 10), D(2026, 10, 10))),
    ("monthly", {"day_of_month": 10}, D(2026, 1, 9), Window(D(2025, 12, 10), D(2025, 12, 10))),
])
def test_window_on_or_before(kind, kw, day, window):
    assert window_on_or_before(kind, day, **kw) == window


@pytest.mark.parametrize("kind, kw, day, start", [
    ("monthly_window", {"window_days": 5}, D(2026, 11, 22), D(2026, 12, 1)),
    ("monthly_window", {"window_days": 5}, D(2026, 12, 31), D(2027, 1, 1)),
    ("weekly", {"weekday": 0}, D(2026, 11, 22), D(2026, 11, 23)),
    ("monthly", {"day_of_month": 10}, D(2026, 11, 10), D(2026, 12, 10)),
])
def test_next_window(kind, kw, day, start):
    assert next_window(kind, day, **kw).start == start
