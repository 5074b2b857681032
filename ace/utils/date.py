"""Serialising and deserialising datetimes as ISO 8601 strings (internal to ACE), as edx-ace does.

A timezone-aware datetime round-trips to an equal aware one, a naive one to the same naive one: code that
compares times treats a naive datetime as UTC (:func:`as_utc`).
"""

from __future__ import annotations

from datetime import UTC, datetime

from dateutil.parser import parse


def get_current_time() -> datetime:
    """The current time in UTC, as a timezone-aware datetime."""
    return datetime.now(UTC)


def as_utc(moment: datetime | None) -> datetime | None:
    """``moment`` made comparable with aware datetimes: a naive datetime is taken as UTC."""
    if moment is None or moment.tzinfo is not None and moment.utcoffset() is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def serialize(timestamp_obj: datetime | None) -> str | None:
    """An ISO 8601 string for ``timestamp_obj`` (``None`` stays ``None``)."""
    if timestamp_obj is None:
        return None
    if timestamp_obj.tzinfo is not None and timestamp_obj.utcoffset() is None:
        return timestamp_obj.isoformat() + "Z"
    return timestamp_obj.isoformat()


def deserialize(timestamp_iso8601_str: str | None) -> datetime | None:
    """The datetime an ISO 8601 string names: aware when it has an offset, naive when it has none."""
    if timestamp_iso8601_str is None:
        return None
    try:
        return datetime.fromisoformat(timestamp_iso8601_str)
    except ValueError:  # ISO 8601 forms Python does not read itself (e.g. "20240102T0304")
        return parse(timestamp_iso8601_str, yearfirst=True)
