"""Explicit time.  Business code takes ``now`` from a :class:`Clock` it is given; nothing in a rule reads the wall
clock, so a 48-hour SLA can be tested in a second.  Stored datetimes are timezone-aware UTC; display is
Asia/Shanghai (the ``timezone`` setting)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

SHANGHAI = ZoneInfo("Asia/Shanghai")


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    """The real clock (UTC, aware).  Used only at the edges (API, workers, CLI)."""

    def now(self) -> datetime:
        return datetime.now(UTC)


class FrozenClock:
    """A clock for tests and simulations: stands still until moved."""

    def __init__(self, start: datetime) -> None:
        self._now = ensure_utc(start)

    def now(self) -> datetime:
        return self._now

    def advance(self, delta: timedelta) -> datetime:
        self._now += delta
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = ensure_utc(moment)


def ensure_utc(moment: datetime) -> datetime:
    """Aware UTC.  A naive datetime is refused: its zone would be a guess."""
    if moment.tzinfo is None or moment.tzinfo.utcoffset(moment) is None:
        raise ValueError("naive datetime: give a timezone-aware value / 需要带时区的时间")
    return moment.astimezone(UTC)


def to_local(moment: datetime, tz: ZoneInfo = SHANGHAI) -> datetime:
    return ensure_utc(moment).astimezone(tz)


def format_local(moment: datetime | None, tz: ZoneInfo = SHANGHAI) -> str:
    if moment is None:
        return "—"
    return to_local(moment, tz).strftime("%Y-%m-%d %H:%M")
