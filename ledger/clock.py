"""Injectable time and identifiers, so tests and simulations are deterministic and replayable by seed."""
from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta, timezone
from typing import Callable, Protocol

EPOCH = datetime(1970, 1, 1, tzinfo=timezone.utc)
US_PER_DAY = 86_400_000_000


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(timezone.utc)


class ManualClock:
    """A clock that only moves when told to."""

    def __init__(self, start: datetime):
        self._now = aware(start)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        self._now = aware(moment)

    def advance(self, **delta: int) -> datetime:
        self._now += timedelta(**delta)
        return self._now


IdFactory = Callable[[], str]


def random_ids() -> str:
    return str(uuid.uuid4())


def seeded_ids(seed: int) -> IdFactory:
    rng = random.Random(seed)

    def make() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    return make


def aware(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError("timestamps must be timezone-aware")
    return moment.astimezone(timezone.utc)


def to_us(moment: datetime) -> int:
    """Microseconds since the Unix epoch, exact (no float arithmetic)."""
    delta = aware(moment) - EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_us(value: int) -> datetime:
    return EPOCH + timedelta(microseconds=value)


def day_of(us: int) -> int:
    """The UTC day number (days since the epoch) of a timestamp in microseconds."""
    return us // US_PER_DAY
