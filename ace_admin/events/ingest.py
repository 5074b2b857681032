"""The one writer of delivery events and their daily counters: :func:`ingest` takes a batch of reported events
from any source (email services through anymail, bounce mail, ACE's own tracking) and, in one transaction,

1. drops events seen before (same source and source's event id: a webhook delivered twice counts once);
2. finds each event's delivery-log row (by row id, ACE's message id, or the provider's message id);
3. flags clicks made within ``ACE_TRACKING_SCANNER_SECONDS`` of sending as a machine's (link scanners);
4. inserts the events (one bulk insert) and adds them to ``EventDailyCount`` / ``LinkDailyCount``
   (``INSERT ... ON CONFLICT DO UPDATE SET n = n + excluded.n``: concurrent ingesters add up);

then applies the consequences (suppressions, opt-outs; ``consequences``). A batch of thousands costs a handful
of queries.
"""

from __future__ import annotations

import hashlib
import logging
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.db.models import Q
from django.utils import timezone

from ace_admin.events.consequences import CONSEQUENTIAL, apply
from ace_admin.models import DeliveryEvent, DeliveryLog, EventDailyCount, EventType, LinkDailyCount, TrackedLink
from ace_admin.settings import admin_settings

LOG = logging.getLogger(__name__)

#: Event types whose first occurrence per message is counted in ``unique_messages``.
ENGAGEMENT = (EventType.OPENED, EventType.CLICKED)


@dataclass(slots=True)
class Incoming:
    """One event as a source reports it, before it is matched to its delivery-log row."""

    event_type: str
    provider: str
    occurred_at: datetime | None = None
    provider_event_id: str = ""
    recipient: str = ""
    delivery_id: int | None = None
    message_uuid: uuid.UUID | None = None
    provider_message_id: str = ""
    link_id: int | None = None
    url: str = ""
    description: str = ""
    user_agent: str = ""
    machine_reason: str = ""
    raw: Any = None


@dataclass(slots=True)
class _Row:
    campaign_run_id: int
    message_type_id: int
    language: str
    sent_at: datetime | None
    address: str


def url_hash(url: str) -> str:
    return hashlib.sha256(url.encode("utf-8", "surrogatepass")).hexdigest()


def links_for(urls) -> dict[str, int]:
    """``{url: TrackedLink id}`` for ``urls``, creating the missing ones (two or three queries in all)."""
    wanted = {url_hash(url): url for url in urls if url}
    if not wanted:
        return {}
    found = dict(TrackedLink.objects.filter(url_hash__in=wanted).values_list("url_hash", "pk"))
    missing = [TrackedLink(url=url, url_hash=digest) for digest, url in wanted.items() if digest not in found]
    if missing:
        TrackedLink.objects.bulk_create(missing, ignore_conflicts=True)
        found = dict(TrackedLink.objects.filter(url_hash__in=wanted).values_list("url_hash", "pk"))
    return {url: found[digest] for digest, url in wanted.items() if digest in found}


def _id_variants(value: str) -> set[str]:
    bare = value.strip().strip("<>")
    return {bare, f"<{bare}>"} if bare else set()


def _resolve(items: list[Incoming]) -> dict[int, _Row]:
    """Set each item's ``delivery_id`` from what it carries; returns the rows' facts, by row id."""
    ids = {item.delivery_id for item in items if item.delivery_id}
    uuids = {item.message_uuid for item in items if item.message_uuid and not item.delivery_id}
    provider_ids = set()
    for item in items:
        if not item.delivery_id and not item.message_uuid and item.provider_message_id:
            provider_ids |= _id_variants(item.provider_message_id)
    query = Q(pk__in=ids) if ids else Q(pk__in=[])
    if uuids:
        query |= Q(message_uuid__in=uuids, channel_type="email")
    if provider_ids:
        query |= Q(provider_message_id__in=provider_ids)
    rows, by_uuid, by_provider = {}, {}, {}
    if ids or uuids or provider_ids:
        for pk, message_uuid, provider_id, run, mtype, language, created, finished, address in (
                DeliveryLog.objects.filter(query).order_by().values_list(
                    "pk", "message_uuid", "provider_message_id", "campaign_run_id", "message_type_id", "language",
                    "created_at", "finished_at", "recipient_address")):
            rows[pk] = _Row(run or 0, mtype or 0, language or "", finished or created, address)
            by_uuid[message_uuid] = pk
            for variant in _id_variants(provider_id or ""):
                by_provider[variant] = pk
    for item in items:
        if item.delivery_id in rows:
            continue
        item.delivery_id = by_uuid.get(item.message_uuid) if item.message_uuid else None
        if item.delivery_id is None and item.provider_message_id:
            item.delivery_id = next((by_provider[v] for v in _id_variants(item.provider_message_id)
                                     if v in by_provider), None)
    return rows


def _new_only(items: list[Incoming]) -> list[Incoming]:
    """Items not recorded before (by source and event id), each once."""
    fresh, keys = [], set()
    for item in items:
        if item.provider_event_id:
            key = (item.provider, item.provider_event_id)
            if key in keys:
                continue
            keys.add(key)
        fresh.append(item)
    if keys:
        query = Q()
        for provider in {provider for provider, _ in keys}:
            query |= Q(provider=provider, provider_event_id__in=[e for p, e in keys if p == provider])
        known = set(DeliveryEvent.objects.filter(query).values_list("provider", "provider_event_id"))
        fresh = [item for item in fresh if (item.provider, item.provider_event_id) not in known]
    return fresh


def _flag_scanners(items: list[Incoming], rows: dict[int, _Row]) -> None:
    window = timedelta(seconds=admin_settings.ACE_TRACKING_SCANNER_SECONDS)
    for item in items:
        if item.event_type != EventType.CLICKED or item.machine_reason:
            continue
        row = rows.get(item.delivery_id)
        if row is not None and row.sent_at is not None and item.occurred_at - row.sent_at < window:
            item.machine_reason = f"clicked within {window.seconds} s of sending (link scanner)"


def _firsts(items: list[Incoming]):
    """(row, event type) and (row, link) pairs that already have an event by a person."""
    delivery_ids = {item.delivery_id for item in items if item.delivery_id}
    if not delivery_ids:
        return set(), set()
    seen_types, seen_links = set(), set()
    for delivery_id, event_type, link_id in DeliveryEvent.objects.filter(
            delivery_id__in=delivery_ids, machine=False).order_by().values_list(
            "delivery_id", "event_type", "link_id").distinct():
        seen_types.add((delivery_id, event_type))
        if link_id:
            seen_links.add((delivery_id, link_id))
    return seen_types, seen_links


def _counts(items: list[Incoming], rows: dict[int, _Row]):
    seen_types, seen_links = _firsts(items)
    daily, links = defaultdict(lambda: [0, 0, 0]), defaultdict(lambda: [0, 0, 0])
    for item in items:
        row = rows.get(item.delivery_id)
        if row is None:
            continue
        day = item.occurred_at.astimezone(UTC).date()
        human = not item.machine_reason
        counter = daily[(day, row.campaign_run_id, row.message_type_id, row.language, item.event_type)]
        counter[0 if human else 2] += 1
        if human and (item.delivery_id, item.event_type) not in seen_types:
            seen_types.add((item.delivery_id, item.event_type))
            counter[1] += 1
        if item.event_type == EventType.CLICKED and item.link_id:
            counter = links[(day, row.campaign_run_id, row.message_type_id, item.link_id)]
            counter[0 if human else 2] += 1
            if human and (item.delivery_id, item.link_id) not in seen_links:
                seen_links.add((item.delivery_id, item.link_id))
                counter[1] += 1
    return daily, links


def _add(model, keys: list[str], values: list[str], counts: dict) -> None:
    """Add ``counts`` ({key tuple: [n, ...]}) to ``model``'s counter rows, creating the missing ones."""
    if not counts:
        return
    table = connection.ops.quote_name(model._meta.db_table) + " AS t"
    updates = ", ".join(f"{name} = t.{name} + excluded.{name}" for name in values)
    # A stable order: two ingesters updating the same counters lock them in the same order (no deadlock).
    rows = [(*key, *numbers) for key, numbers in sorted(counts.items(), key=lambda pair: str(pair[0]))]
    _insert_rows(table, keys + values, rows, f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}")


def _event(item: Incoming) -> DeliveryEvent:
    return DeliveryEvent(
        delivery_id=item.delivery_id, event_type=item.event_type, occurred_at=item.occurred_at,
        provider=item.provider[:40], provider_event_id=item.provider_event_id[:255],
        recipient=(item.recipient or "")[:254].lower(), link_id=item.link_id, description=item.description or "",
        user_agent=(item.user_agent or "")[:500], machine=bool(item.machine_reason),
        machine_reason=item.machine_reason[:100], raw=item.raw)


_COLUMNS = ["delivery_id", "event_type", "occurred_at", "received_at", "provider", "provider_event_id", "recipient",
            "link_id", "description", "user_agent", "machine", "machine_reason", "raw"]


def _insert_plain(items: list[Incoming]) -> None:
    """Insert events whose ids nobody needs back with one prepared statement and no model instances: the bulk
    path (opens, clicks, deliveries) skips the ORM's per-value work, which costs several times the insert."""
    if not items:
        return
    ops, raw_field = connection.ops, DeliveryEvent._meta.get_field("raw")
    now = ops.adapt_datetimefield_value(timezone.now())
    table = ops.quote_name(DeliveryEvent._meta.db_table)
    rows = [(item.delivery_id, str(item.event_type), ops.adapt_datetimefield_value(item.occurred_at), now,
               item.provider[:40], item.provider_event_id, (item.recipient or "")[:254].lower(), item.link_id,
               item.description or "", (item.user_agent or "")[:500], bool(item.machine_reason),
               item.machine_reason[:100],
               None if item.raw is None else raw_field.get_db_prep_save(item.raw, connection))
              for item in items]
    if connection.vendor == "postgresql":  # COPY: no SQL text to build or parse for thousands of values
        with connection.cursor() as cursor, cursor.cursor.copy(
                f"COPY {table} ({', '.join(_COLUMNS)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        return
    _insert_rows(table, _COLUMNS, rows)


def _insert_rows(table: str, columns: list[str], rows: list[tuple], suffix: str = "") -> None:
    """Multi-row ``INSERT ... VALUES (...), (...)`` in as few statements as the database's parameter limit allows
    (``executemany`` is one round trip per row with psycopg's client-side binding)."""
    per_statement = max(1, min(2000, (connection.features.max_query_params or 2000 * len(columns)) // len(columns)))
    one = f"({', '.join(['%s'] * len(columns))})"
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start:start + per_statement]
            cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) VALUES {', '.join([one] * len(chunk))}"
                           f"{suffix}", [value for row in chunk for value in row])


def ingest(items: list[Incoming], *, consequences: bool = True) -> int:
    """Record ``items`` (see the module docstring); returns how many were new (those seen before are not)."""
    now = timezone.now()
    for item in items:
        item.occurred_at = item.occurred_at or now
        if item.provider_event_id and len(item.provider_event_id) > 255:
            item.provider_event_id = hashlib.sha256(item.provider_event_id.encode()).hexdigest()
    for attempt in range(2):
        fresh = _new_only(items)
        if not fresh:
            return 0
        rows = _resolve(fresh)
        wanted = {item.url for item in fresh if item.url and not item.link_id}
        if wanted:
            found = links_for(wanted)
            for item in fresh:
                if item.url and not item.link_id:
                    item.link_id = found.get(item.url)
        for item in fresh:  # the recipient of an event that names none is the row's
            row = rows.get(item.delivery_id)
            if not item.recipient and row is not None:
                item.recipient = row.address
        _flag_scanners(fresh, rows)
        # Events with consequences (bounces, complaints...) are model instances with ids: suppressions point at them.
        events = [_event(item) for item in fresh if item.event_type in CONSEQUENTIAL]
        try:
            with transaction.atomic():
                daily, links = _counts(fresh, rows)  # before the insert: "first by a person" looks at older events
                DeliveryEvent.objects.bulk_create(events)
                _insert_plain([item for item in fresh if item.event_type not in CONSEQUENTIAL])
                _add(EventDailyCount, ["day", "campaign_run_id", "message_type_id", "language", "event_type"],
                     ["events", "unique_messages", "machine_events"], daily)
                _add(LinkDailyCount, ["day", "campaign_run_id", "message_type_id", "link_id"],
                     ["clicks", "unique_clicks", "machine_clicks"], links)
        except IntegrityError:  # another ingester recorded one of these events meanwhile: drop it, try again
            if attempt:
                raise
            continue
        break
    if consequences:
        apply(events)
    return len(fresh)
