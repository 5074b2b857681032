"""Serialising and deserialising timezone-aware datetimes as ISO 8601 strings (internal to ACE)."""

from __future__ import annotations

from datetime import UTC, datetime


def get_current_time() -> datetime:
    """The current time in UTC, as a timezone-aware datetime."""
    return datetime.now(UTC)


def serialize(timestamp_obj: datetime | None) -> str | None:
    """An ISO 8601 string for ``timestamp_obj`` (``None`` stays ``None``)."""
    if timestamp_obj is None:
        return None
    return timestamp_obj.isoformat()


def deserialize(timestamp_iso8601_str: str | None) -> datetime | None:
    """A timezone-aware datetime from an ISO 8601 string; a string without an offset is read as UTC."""
    if timestamp_iso8601_str is None:
        return None
    value = datetime.fromisoformat(timestamp_iso8601_str)
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value
