"""Vietnam's working days: Monday to Friday, less the public holidays (Tết included), plus the
Saturdays worked in exchange for a bridged day off — as the `holidays` package publishes them.
"""

from __future__ import annotations

from datetime import date, timedelta
from functools import lru_cache

import holidays


@lru_cache(maxsize=1)
def _calendar() -> holidays.HolidayBase:
    # years are filled in lazily on the first look-up of a date in them
    return holidays.country_holidays("VN", language="vi")


def is_working_day(day: date) -> bool:
    return bool(_calendar().is_working_day(day))


def holiday_name(day: date) -> str | None:
    """The public holiday on `day`, in Vietnamese, or None."""
    name = _calendar().get(day)
    return str(name) if name else None


def working_days_between(start: date, end: date) -> int:
    """Working days in the half-open interval (start, end]."""
    return sum(1 for i in range(1, (end - start).days + 1) if is_working_day(start + timedelta(i)))


def add_working_days(start: date, n: int) -> date:
    """The day on which `n` more working days after `start` are done."""
    day = start
    while n > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            n -= 1
    return day
