"""The evidence in the admin: a suppression links to its bounce or complaint, whose raw report is masked for
staff who may not see addresses."""

from __future__ import annotations

import pytest

from ace_admin.events.ingest import Incoming, ingest
from ace_admin.models import DeliveryEvent, EventType, Suppression
from tests.factories import DeliveryLogFactory, EditorFactory, SuperuserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def complaint():
    row = DeliveryLogFactory(recipient_address="ada@example.org")
    ingest([Incoming(EventType.COMPLAINED, "amazon_ses", provider_event_id="c-1", delivery_id=row.pk,
                     description="abuse", raw={"complaint": {"emailAddress": "ada@example.org"}})])
    return DeliveryEvent.objects.get()


def test_a_suppression_links_to_its_event_and_the_event_shows_its_raw_report(client, complaint):
    client.force_login(SuperuserFactory())
    suppression = Suppression.objects.get()
    page = client.get(f"/admin/ace_admin/suppression/{suppression.pk}/change/").content.decode()
    assert f"/admin/ace_admin/deliveryevent/{complaint.pk}/change/" in page
    page = client.get(f"/admin/ace_admin/deliveryevent/{complaint.pk}/change/").content.decode()
    assert "ada@example.org" in page and "emailAddress" in page


def test_the_raw_report_is_masked_for_staff_without_the_address_permission(client, complaint):
    client.force_login(EditorFactory())  # editors read events, addresses masked
    page = client.get(f"/admin/ace_admin/deliveryevent/{complaint.pk}/change/").content.decode()
    assert page.count("ada@example.org") == 0 and "a***@example.org" in page
