"""Unsubscribing in the middle of a campaign run stops further sends of that run to the person: each batch
reads opt-outs and suppressions when it is sent, not when the run started."""

from __future__ import annotations

import pytest
from django.core.mail.backends.locmem import EmailBackend
from django.test import Client

from ace_admin.models import CampaignRun, DeliveryLog, OptOut
from tests.factories import AudienceFactory, AudienceMemberFactory, CampaignFactory
from tests.privacy.conftest import make_message, path_of, send_email, unsubscribe_link

pytestmark = pytest.mark.django_db

#: Called with each email as the backend accepts it (set by the test).
ON_SEND = []


class ObservedBackend(EmailBackend):
    """The locmem backend, plus a hook that runs as each email goes out (a person acting meanwhile)."""

    def send_messages(self, messages):
        count = super().send_messages(messages)
        for message in messages:
            for hook in list(ON_SEND):
                hook(message)
        return count


@pytest.fixture
def observed(settings):
    settings.EMAIL_BACKEND = "tests.privacy.test_campaign_unsubscribe.ObservedBackend"
    settings.ACE_CAMPAIGN_BATCH_SIZE = 2
    yield ON_SEND
    ON_SEND.clear()


def test_unsubscribe_mid_run_stops_further_sends(message_types, observed, django_capture_on_commit_callbacks):
    from django.core import mail

    from ace_admin.campaigns import tasks

    people = ["a@example.com", "b@example.com", "c@example.com", "d@example.com"]  # batches [a, b] and [c, d]
    # C and D got last week's newsletter: its List-Unsubscribe links are what their mailbox posts.
    links = {email: unsubscribe_link(send_email(make_message("news", user_id=None, email=email))[1])
             for email in ("c@example.com", "d@example.com")}
    mail.outbox.clear()
    audience = AudienceFactory(name="Newsletter")
    for email in people:  # the templates greet each by first name (the preflight check wants it)
        AudienceMemberFactory(audience=audience, email=email, context={"first_name": email[0].upper()})
    campaign = CampaignFactory(name="Monday news", message_type=message_types["news"], audience=audience)
    first = []

    def later_batch_unsubscribes(message):
        # As the run's first email leaves, C and D (both in the next batch) click one-click unsubscribe.
        if first:
            return
        first.extend(message.to)
        for email in links:
            assert Client().post(path_of(links[email]), {"List-Unsubscribe": "One-Click"}).status_code == 200

    observed.append(later_batch_unsubscribes)
    with django_capture_on_commit_callbacks(execute=True):
        run = tasks.start_run(campaign, trigger="hand")
    run = CampaignRun.objects.get(pk=run.pk)
    assert run.batches.count() == 2 and first and first[0] in ("a@example.com", "b@example.com")
    delivered = sorted(address for message in mail.outbox for address in message.to)
    assert delivered == ["a@example.com", "b@example.com"], delivered
    assert OptOut.objects.count() == 2
    rows = {row.recipient_address: row for row in DeliveryLog.objects.filter(campaign_run=run)}
    assert rows["a@example.com"].status == rows["b@example.com"].status == "sent"
    for email in ("c@example.com", "d@example.com"):
        assert rows[email].status == "denied", email
        assert rows[email].policy.startswith("opt-out #") and "category newsletter" in rows[email].policy
    # The run's own emails carry the one-click headers too.
    assert all("List-Unsubscribe" in message.extra_headers for message in mail.outbox)
