"""A per-channel sending rate (messages per second) shared by every worker: in Redis, else in the database.

``ACE_CAMPAIGN_RATE_LIMITS = {"django_email": 50}`` limits the ``django_email`` channel to 50 messages a
second across all workers. :func:`reserve` takes the next sending slot, or says how long until one is
free; campaign batches then hand the rest of their messages back to the queue for that time instead of
sleeping. Slots are spaced evenly (1/rate seconds apart; no burst).
"""

from __future__ import annotations

import threading
import time

import redis
from django.conf import settings
from django.db import transaction

from ace_admin.models import RateLimitSlot
from ace_admin.settings import admin_settings

_SCRIPT = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local next_free = tonumber(redis.call('GET', KEYS[1]) or '0')
if next_free > now then
  return tostring(next_free - now)
end
redis.call('SET', KEYS[1], tostring(now + interval), 'PX', math.ceil(interval * 1000) + 1000)
return '0'
"""

_local = threading.local()


def rate_for(channel_name: str) -> float | None:
    """The configured messages per second for ``channel_name``, or None (no limit)."""
    limits = admin_settings.ACE_CAMPAIGN_RATE_LIMITS or {}
    rate = limits.get(channel_name)
    if rate in (None, 0, ""):
        return None
    rate = float(rate)
    if rate <= 0:
        raise ValueError(f"ACE_CAMPAIGN_RATE_LIMITS[{channel_name!r}] must be a positive number, not {rate!r}.")
    return rate


def redis_url() -> str:
    url = getattr(settings, "REDIS_URL", "") or ""
    if not url:
        broker = getattr(settings, "CELERY_BROKER_URL", "") or ""
        url = broker if broker.startswith(("redis://", "rediss://")) else ""
    return url


def _redis(url: str):
    """This thread's client and script for ``url`` (clients are not shared between threads)."""
    cached = getattr(_local, "client", None)
    if cached is None or cached[0] != url:
        client = redis.Redis.from_url(url)
        _local.client = cached = (url, client.register_script(_SCRIPT))
    return cached[1]


def reserve(channel_name: str, rate: float) -> float:
    """Take the next slot of ``channel_name`` (returns 0.0), or return the seconds until one is free."""
    interval = 1.0 / rate
    now = time.time()
    url = redis_url()
    if url:
        script = _redis(url)
        return float(script(keys=[f"ace:ratelimit:{channel_name}"], args=[repr(now), repr(interval)]))
    return _reserve_in_database(channel_name, now, interval)


def _reserve_in_database(channel_name: str, now: float, interval: float) -> float:
    RateLimitSlot.objects.get_or_create(channel_name=channel_name)
    with transaction.atomic():
        slot = RateLimitSlot.objects.select_for_update().get(channel_name=channel_name)
        if slot.next_free > now:
            return slot.next_free - now
        slot.next_free = now + interval
        slot.save(update_fields=["next_free"])
    return 0.0
