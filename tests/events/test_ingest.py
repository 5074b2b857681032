"""The one writer of events: idempotent on the source's event id, matched to rows, counted per day/run/type/language."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ace_admin.events.ingest import Incoming, ingest
from ace_admin.models import DeliveryEvent, EventDailyCount, EventType, LinkDailyCount, Suppression
from tests.factories import CampaignRunFactory, DeliveryLogFactory, MessageTypeFactory

pytestmark = pytest.mark.django_db


def _row(**fields):
    fields.setdefault("finished_at", timezone.now() - timedelta(hours=1))
    return DeliveryLogFactory(**fields)


def test_the_same_event_reported_twice_is_recorded_and_counted_once():
    row = _row(language="fr", message_type=MessageTypeFactory())
    item = dict(event_type=EventType.DELIVERED, provider="mailgun", provider_event_id="ev-1", delivery_id=row.pk)
    assert ingest([Incoming(**item), Incoming(**item)]) == 1
    assert ingest([Incoming(**item)]) == 0
    assert DeliveryEvent.objects.get().delivery == row
    counter = EventDailyCount.objects.get()
    assert (counter.events, counter.unique_messages, counter.language, counter.message_type_id) == (
        1, 1, "fr", row.message_type_id)


def test_events_find_their_row_by_message_id_or_provider_id_and_counters_add_up_per_run():
    run = CampaignRunFactory()
    rows = [_row(campaign_run=run, provider_message_id=f"<id-{n}@mg.example.org>") for n in range(3)]
    ingest([Incoming(EventType.OPENED, "mailgun", provider_event_id=f"o{n}",
                     provider_message_id=f"id-{n}@mg.example.org") for n in range(3)])
    ingest([Incoming(EventType.OPENED, "ace", provider_event_id="again", message_uuid=rows[0].message_uuid)])
    assert {event.delivery_id for event in DeliveryEvent.objects.all()} == {row.pk for row in rows}
    counter = EventDailyCount.objects.get(campaign_run_id=run.pk, event_type=EventType.OPENED)
    assert (counter.events, counter.unique_messages) == (4, 3)  # the second open of row 0 is not a new opener


def test_clicks_are_counted_per_link_and_scanner_clicks_apart():
    fresh = _row(finished_at=timezone.now())  # just sent: a click now is a scanner's
    old = _row()
    ingest([Incoming(EventType.CLICKED, "ace", provider_event_id="c1", delivery_id=old.pk, url="https://a.example/x"),
            Incoming(EventType.CLICKED, "ace", provider_event_id="c2", delivery_id=old.pk, url="https://a.example/x"),
            Incoming(EventType.CLICKED, "ace", provider_event_id="c3", delivery_id=fresh.pk, url="https://a.example/x")])
    link = LinkDailyCount.objects.get()
    assert (link.clicks, link.unique_clicks, link.machine_clicks) == (2, 1, 1)
    assert DeliveryEvent.objects.get(provider_event_id="c3").machine_reason.startswith("clicked within")


def test_an_event_for_no_known_message_is_kept_and_a_complaint_still_suppresses():
    ingest([Incoming(EventType.COMPLAINED, "arf", provider_event_id="x", recipient="Gone@Example.org")])
    event = DeliveryEvent.objects.get()
    assert event.delivery is None and not EventDailyCount.objects.exists()
    suppression = Suppression.objects.get()
    assert (suppression.email, suppression.reason, suppression.event) == ("gone@example.org", "complaint", event)


def test_soft_bounces_suppress_for_a_while_once_the_limit_is_reached(settings):
    settings.ACE_EVENTS_SOFT_BOUNCE_LIMIT = 2
    row = _row(recipient_address="full@example.org")
    ingest([Incoming(EventType.BOUNCED_SOFT, "dsn", provider_event_id="s1", delivery_id=row.pk)])
    assert not Suppression.objects.exists()
    ingest([Incoming(EventType.BOUNCED_SOFT, "dsn", provider_event_id="s2", delivery_id=row.pk)])
    suppression = Suppression.objects.get()
    assert suppression.reason == Suppression.REASON_SOFT_BOUNCE and suppression.in_force
    assert suppression.expires_at > timezone.now() + timedelta(days=13)
    # A hard bounce later makes it permanent.
    ingest([Incoming(EventType.BOUNCED_HARD, "dsn", provider_event_id="h1", delivery_id=row.pk)])
    suppression.refresh_from_db()
    assert suppression.expires_at is None and suppression.reason == Suppression.REASON_BOUNCE


def test_a_temporary_suppression_that_ended_no_longer_stops_mail(settings):
    from ace_admin.privacy.suppression import suppress

    suppress("later@example.org", reason=Suppression.REASON_SOFT_BOUNCE,
             expires_at=timezone.now() - timedelta(seconds=1))
    assert not Suppression.objects.in_force().exists()


def test_bulk_ingest_of_thousands_takes_no_query_per_event(django_assert_max_num_queries):
    rows = [_row() for _ in range(20)]
    items = [Incoming(EventType.OPENED, "ace", provider_event_id=f"b{n}", message_uuid=rows[n % 20].message_uuid)
             for n in range(2000)]
    # A few queries, plus the insert in chunks (SQLite takes ~60 rows of 15 columns per statement).
    with django_assert_max_num_queries(60):
        assert ingest(items) == 2000
    assert EventDailyCount.objects.get().events == 2000
