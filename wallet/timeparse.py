"""Reading dates and times people type. A time without a zone is UK time; a bare date means that whole day."""
from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

from dateutil import parser as dateparser

UK = ZoneInfo("Europe/London")


def _parse(text: str) -> tuple[datetime, bool]:
    try:
        parsed = dateparser.isoparse(text.strip())
    except (ValueError, OverflowError) as exc:
        raise ValueError(f"{text!r} is not a date or time (use YYYY-MM-DD or YYYY-MM-DDTHH:MM)") from exc
    is_date_only = len(text.strip()) == 10
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UK)
    return parsed.astimezone(timezone.utc), is_date_only


def start_of(text: str) -> datetime:
    moment, _ = _parse(text)
    return moment


def end_of(text: str) -> datetime:
    """The first moment after the given day (for a date) or the moment itself (for a time)."""
    moment, whole_day = _parse(text)
    if whole_day:
        day = date.fromisoformat(text.strip())
        return datetime.combine(day + timedelta(days=1), time(), tzinfo=UK).astimezone(timezone.utc)
    return moment


def last_moment_of(text: str) -> datetime:
    """For 'as of': a date means the end of that day; a time means that moment."""
    moment, whole_day = _parse(text)
    return end_of(text) - timedelta(microseconds=1) if whole_day else moment
