"""The one clock of Lotse.

Every part of Lotse that needs "now" for domain time (requests, offers, reminders, retention,
the scheduler's wake-ups) asks `utcnow()` here, never `datetime.now()` or `date.today()`.  Tests
install a ManualClock and move it; the scheduler listens to it, so jobs fall due when the test's
time passes them, not when the machine's does.

This module imports nothing from Lotse: every layer (store, services, handlers) may use it.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, tzinfo
from typing import Protocol


class Clock(Protocol):
    def __call__(self) -> datetime:
        """The current moment, aware, in UTC."""


class SystemClock:
    """The machine's clock (which libfaketime may move for a whole process)."""

    def __call__(self) -> datetime:
        return datetime.now(UTC)


class ManualClock:
    """A clock that stands still until it is moved (tests, demos): set `now` or call advance();
    the scheduler hears every move."""

    def __init__(self, now: datetime) -> None:
        self._now = _aware(now)

    def __call__(self) -> datetime:
        return self._now

    @property
    def now(self) -> datetime:
        return self._now

    @now.setter
    def now(self, moment: datetime) -> None:
        self._now = _aware(moment)
        _moved()

    def advance(self, delta: timedelta) -> None:
        self.now = self._now + delta


def _aware(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("the clock needs an aware datetime")
    return moment.astimezone(UTC)


_clock: Clock = SystemClock()
_listeners: list[Callable[[], None]] = []


def utcnow() -> datetime:
    """The current time (UTC) on Lotse's one clock."""
    return _clock()


def today(zone: tzinfo) -> date:
    """Today's date in `zone` (the configured time zone) on Lotse's one clock."""
    return utcnow().astimezone(zone).date()


def use(clock: Clock | None) -> None:
    """Install `clock` (None: the system clock again); the scheduler re-checks its jobs."""
    global _clock
    _clock = clock or SystemClock()
    _moved()


def current() -> Clock:
    return _clock


def on_move(listener: Callable[[], None]) -> Callable[[], None]:
    """Call `listener` whenever the clock is replaced or moved by hand; returns an unsubscribe."""
    _listeners.append(listener)

    def unsubscribe() -> None:
        if listener in _listeners:
            _listeners.remove(listener)

    return unsubscribe


def _moved() -> None:
    for listener in list(_listeners):
        listener()
