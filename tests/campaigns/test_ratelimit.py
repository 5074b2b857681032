"""The shared per-channel rate limit: one slot per 1/rate seconds for all workers, in Redis or the database."""

from __future__ import annotations

import os
import uuid

import pytest

from ace_admin.campaigns import ratelimit


def _exhaust(channel: str) -> tuple[float, float]:
    first = ratelimit.reserve(channel, rate=0.01)  # a slot every 100 s
    second = ratelimit.reserve(channel, rate=0.01)
    return first, second


@pytest.mark.django_db
def test_in_the_database(settings):
    settings.REDIS_URL, settings.CELERY_BROKER_URL = "", "memory://"
    first, second = _exhaust("db-channel")
    assert first == 0.0 and 99 < second <= 100


def test_in_redis(settings):
    broker = os.environ.get("CELERY_BROKER_URL", "")
    if not broker.startswith("redis://"):
        pytest.skip("needs CELERY_BROKER_URL=redis://... (as in .ci/run) for the Redis rate limit")
    settings.REDIS_URL = broker
    channel = f"test-{uuid.uuid4().hex}"  # a key of its own on a shared Redis
    first, second = _exhaust(channel)
    assert first == 0.0 and 99 < second <= 100


def test_rates_are_read_from_settings(settings):
    settings.ACE_CAMPAIGN_RATE_LIMITS = {"django_email": 20, "file_email": 0}
    assert ratelimit.rate_for("django_email") == 20.0
    assert ratelimit.rate_for("file_email") is None and ratelimit.rate_for("braze_email") is None
    settings.ACE_CAMPAIGN_RATE_LIMITS = {"django_email": -3}
    with pytest.raises(ValueError, match="positive number"):
        ratelimit.rate_for("django_email")
