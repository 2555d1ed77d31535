"""How source systems spell the same valid value differently: phones, dates, times and money.

These are legitimate variants an ingest must normalise, not errors; errors live in ``flaws``.
"""

from __future__ import annotations

import datetime as dt
import random

from huaxiang.demo.timeline import to_local


def phone_variant(rng: random.Random, phone: str, messy: float) -> str:
    """The phone as typed into a system: plain most of the time, else spaced, dashed or +86."""
    if rng.random() >= messy:
        return phone
    return rng.choice(
        (
            f"{phone[:3]} {phone[3:7]} {phone[7:]}",
            f"+86 {phone}",
            f"+86{phone}",
            f"{phone[:3]}-{phone[3:7]}-{phone[7:]}",
            f"86-{phone}",
            f" {phone} ",
        )
    )


def birth_date_variant(rng: random.Random, day: dt.date) -> str:
    """A birth date in one of the formats CRM clerks have used over the years."""
    return rng.choices(
        (
            f"{day:%Y-%m-%d}",
            f"{day.year}/{day.month}/{day.day}",
            f"{day:%Y%m%d}",
            f"{day.year}年{day.month}月{day.day}日",
            f"{day:%Y.%m.%d}",
        ),
        weights=(50, 20, 12, 12, 6),
    )[0]


def standard_time(seconds: int) -> str:
    """``2025-03-01 14:05:09``: the format every system can read."""
    return f"{to_local(seconds):%Y-%m-%d %H:%M:%S}"


def register_time_variant(rng: random.Random, seconds: int) -> str:
    """A CRM registration time: standard, slashed without seconds, or ISO with a ``T``."""
    moment = to_local(seconds)
    return rng.choices(
        (
            f"{moment:%Y-%m-%d %H:%M:%S}",
            f"{moment.year}/{moment.month}/{moment.day} {moment:%H:%M}",
            f"{moment:%Y-%m-%dT%H:%M:%S}",
            f"{moment:%Y-%m-%d}",
        ),
        weights=(55, 20, 15, 10),
    )[0]


def iso_time_variant(rng: random.Random, seconds: int) -> str:
    """An online order time: ISO 8601 with the +08:00 offset, or naive local time."""
    moment = to_local(seconds)
    if rng.random() < 0.7:
        return f"{moment:%Y-%m-%dT%H:%M:%S}+08:00"
    return f"{moment:%Y-%m-%dT%H:%M:%S}" if rng.random() < 0.7 else f"{moment:%Y-%m-%d %H:%M:%S}"


def till_time_variant(rng: random.Random, seconds: int) -> str:
    """A store till's naive local time: ``2025/03/01 14:05`` or ``2025-03-01 14:05:09``."""
    moment = to_local(seconds)
    return f"{moment:%Y/%m/%d %H:%M}" if rng.random() < 0.5 else f"{moment:%Y-%m-%d %H:%M:%S}"


def yuan_online(amount: float) -> str:
    """``¥1,299.00``."""
    sign = "-" if amount < 0 else ""
    return f"{sign}¥{abs(amount):,.2f}"


def yuan_till(rng: random.Random, amount: float) -> str:
    """``1,299.00`` or ``¥89.5``: tills differ in symbol and trailing zeros."""
    sign = "-" if amount < 0 else ""
    if rng.random() < 0.6:
        return f"{sign}{abs(amount):,.2f}"
    text = f"{abs(amount):.2f}".rstrip("0").rstrip(".")
    return f"{sign}¥{text}"
