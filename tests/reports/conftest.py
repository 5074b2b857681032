"""A campaign run with known outcomes, recorded through the events wing's one writer (``ingest``): the report
figures below are counted by hand from this list."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from ace_admin.events.ingest import Incoming, ingest
from ace_admin.models import EventType
from tests.factories import CampaignRunFactory, DeliveryLogFactory, MessageTypeFactory

LINK_A = "https://learn.example.org/course?utm=a"
LINK_B = "https://learn.example.org/profile?email=ada@example.org"  # a personalised link: masked for editors


def build_run():
    """10 messages sent (6 English, 4 French), one failed, one test send; delivered 9 (row 9 bounced hard);
    opened by people 3 (row 0 twice) and by a machine once (row 3); clicked by people 3 (row 0 twice on A, row 1
    on B, row 2 on A) and by a scanner once (row 4 on A); row 5 complained, row 6 unsubscribed."""
    message_type = MessageTypeFactory()
    run = CampaignRunFactory(campaign__message_type=message_type, recipients=12, sent=10, failed=1)
    hour_ago = timezone.now() - timedelta(hours=1)
    rows = [DeliveryLogFactory(campaign_run=run, message_type=message_type, language="en" if n < 6 else "fr",
                               finished_at=hour_ago) for n in range(10)]
    DeliveryLogFactory(campaign_run=run, message_type=message_type, failed=True, language="en")
    DeliveryLogFactory(campaign_run=run, message_type=message_type, is_test=True, language="en")
    items = [Incoming(EventType.DELIVERED, "mailgun", delivery_id=row.pk) for row in rows[:9]]
    items += [Incoming(EventType.BOUNCED_HARD, "mailgun", delivery_id=rows[9].pk)]
    items += [Incoming(EventType.OPENED, "ace", delivery_id=rows[n].pk) for n in (0, 0, 1, 2)]
    items += [Incoming(EventType.OPENED, "ace", delivery_id=rows[3].pk, machine_reason="Apple Mail Privacy")]
    items += [Incoming(EventType.CLICKED, "ace", delivery_id=rows[n].pk, url=url)
              for n, url in ((0, LINK_A), (0, LINK_A), (1, LINK_B), (2, LINK_A))]
    items += [Incoming(EventType.CLICKED, "ace", delivery_id=rows[4].pk, url=LINK_A, machine_reason="scanner")]
    items += [Incoming(EventType.COMPLAINED, "mailgun", delivery_id=rows[5].pk),
              Incoming(EventType.UNSUBSCRIBED, "mailgun", delivery_id=rows[6].pk)]
    ingest(items)
    return run, rows


@pytest.fixture
def run_with_events(db):
    return build_run()
