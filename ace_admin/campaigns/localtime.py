"""When each recipient of a run is due: "at 09:00 in their own time zone", and never in their quiet hours.

Pure functions of an explicit ``now`` (tests pass the instant they want; nothing here reads the clock), with
``zoneinfo`` for the zones, so daylight-saving changes fall where the tz database says. A recipient's zone
comes from a personal detail (``Campaign.recipient_timezone_key``, ``time_zone`` by default) and falls back
to the campaign's time zone. Quiet hours (``QuietHours`` per category) defer a message to the end of the
window, in the recipient's local time; they never drop it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


def zone(name) -> ZoneInfo | None:
    if not name or not isinstance(name, str):
        return None
    try:
        return ZoneInfo(name.strip())
    except (ZoneInfoNotFoundError, ValueError):
        return None


@dataclass(frozen=True)
class Window:
    """Quiet hours of a category, local time; ``start > end`` spans midnight (21:00–08:00)."""

    category: str
    start: time
    end: time

    def label(self) -> str:
        return f"quiet hours ({self.category} {self.start:%H:%M}–{self.end:%H:%M} local)"

    def ends_after(self, instant: datetime, tz: ZoneInfo) -> datetime | None:
        """When the quiet hours around ``instant`` end (UTC), or None when ``instant`` is outside them."""
        local = instant.astimezone(tz)
        now = local.time().replace(tzinfo=None)
        if self.start < self.end:
            inside, day = self.start <= now < self.end, local.date()
        else:
            inside = now >= self.start or now < self.end
            day = local.date() if now < self.end else local.date() + timedelta(days=1)
        if not inside:
            return None
        return _at(day, self.end, tz)


def _at(day, at: time, tz: ZoneInfo) -> datetime:
    """``day`` at local ``at`` in ``tz``, as UTC. A time skipped by a DST change (02:30 on a spring-forward
    night) is read with the offset before the change, i.e. an hour later on the clock: it is not lost."""
    return datetime.combine(day, at, tzinfo=tz).astimezone(UTC)


def next_local(now: datetime, tz: ZoneInfo, at: time) -> datetime:
    """The first instant at or after ``now`` when the clock in ``tz`` shows ``at`` (UTC)."""
    local = now.astimezone(tz)
    candidate = _at(local.date(), at, tz)
    if candidate < now:
        candidate = _at(local.date() + timedelta(days=1), at, tz)
    return candidate


@dataclass(frozen=True)
class Plan:
    """How a run spreads its recipients: the send time in each one's zone, and the quiet hours that apply."""

    local_time: time | None
    fallback: ZoneInfo
    key: str
    windows: tuple[Window, ...] = ()

    @property
    def active(self) -> bool:
        return self.local_time is not None or bool(self.windows)

    def recipient_zone(self, row: dict) -> ZoneInfo:
        return zone((row.get("ctx") or {}).get(self.key)) or self.fallback

    def due(self, row: dict, now: datetime) -> tuple[datetime, str]:
        """(when this recipient is due, why they wait; "" when they do not)."""
        tz = self.recipient_zone(row)
        when, reason = now, ""
        if self.local_time is not None:
            when = next_local(now, tz, self.local_time)
            if when > now:
                reason = f"waiting for their local {self.local_time:%H:%M}"
        for _ in range(len(self.windows) + 1):  # windows may chain (one ends inside another)
            moved = False
            for window in self.windows:
                until = window.ends_after(when, tz)
                if until is not None:
                    when, reason, moved = until, window.label(), True
            if not moved:
                break
        return when, reason


def plan_for(campaign, quiet_hours=()) -> Plan:
    """The plan of ``campaign``: its local send time, and the quiet hours of its message type's category
    (none for a transactional message type)."""
    message_type = campaign.message_type
    windows = ()
    if not message_type.transactional and message_type.category:
        windows = tuple(Window(item.category, item.start, item.end) for item in quiet_hours
                        if item.enabled and item.category == message_type.category)
    return Plan(campaign.local_send_time, zone(campaign.timezone) or ZoneInfo("UTC"),
                campaign.recipient_timezone_key or "time_zone", windows)


def group(rows: list[dict], plan: Plan, now: datetime) -> list[tuple[datetime | None, str, list[dict]]]:
    """``rows`` grouped by due time: ``(not_before or None when due now, reason, rows)``, earliest first."""
    if not plan.active:
        return [(None, "", rows)] if rows else []
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        when, reason = plan.due(row, now)
        key = (None, "") if when <= now else (when, reason)
        groups.setdefault(key, []).append(row)
    return sorted(((when, reason, members) for (when, reason), members in groups.items()),
                  key=lambda item: item[0] or now)
