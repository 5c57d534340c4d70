"""ISO-8601 periods ("P2Y", "P18M", "P1Y6M") and calendar arithmetic.

Counting rule for legal waiting periods (BLDS 2015 Điều 147–148, applied by
analogy because BLHS sets none): a period starts the day after the event and
ends at the end of the corresponding day of the last month or year; when that
month has no such day (29/02 → a non-leap year), it ends on the month's last day.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from dataclasses import dataclass
from fractions import Fraction

_PERIOD_RE = re.compile(r"^P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


@dataclass(frozen=True, order=True)
class Period:
    months: int = 0
    days: int = 0

    @classmethod
    def parse(cls, text: str) -> "Period":
        m = _PERIOD_RE.match(text or "")
        if not m or not any(m.groups()):
            raise ValueError(f"not an ISO-8601 period: {text!r}")
        years, months, weeks, days = (int(g) if g else 0 for g in m.groups())
        return cls(months=12 * years + months, days=7 * weeks + days)

    def scaled(self, factor: Fraction) -> "Period":
        """A fraction of the period, in whole days where months do not divide."""
        months = Fraction(self.months) * factor
        if months.denominator == 1:
            return Period(int(months), int(Fraction(self.days) * factor))
        return Period(0, int(round(self.months * 30.4375 * factor + self.days * factor)))

    def __bool__(self) -> bool:
        return bool(self.months or self.days)


def add_months(day: dt.date, months: int) -> dt.date:
    year, month = divmod(day.month - 1 + months, 12)
    year += day.year
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def period_end(event: dt.date, period: Period) -> dt.date:
    """Last day of a period counted from the day after ``event``."""
    return add_months(event, period.months) + dt.timedelta(days=period.days)
