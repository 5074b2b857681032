"""Plain SMTP: the per-message envelope sender (seen by a real SMTP server), and bounce/complaint mail from
Postfix-, Gmail- and Outlook-style bouncers and a feedback loop, read from a Maildir, an mbox or the endpoint."""

from __future__ import annotations

import base64
import copy
import mailbox

import pytest
from django.core.management import call_command

from ace import ace
from ace.channel import ChannelType
from ace_admin.events import verp
from ace_admin.models import DeliveryEvent, DeliveryLog, EventType, Suppression
from tests.events.conftest import make_message
from tests.events.reports import arf, dsn

pytestmark = pytest.mark.django_db
DOMAIN = "bounces.example.org"


@pytest.fixture
def smtp_sent(settings, smtp_settings, event_types):
    """``smtp_sent(email)``: send over real SMTP with VERP on; returns (row, what the server received)."""
    settings.ACE_BOUNCE_DOMAIN = DOMAIN

    def send(email="ann@example.com", name="news"):
        message = make_message(name, email=email)
        assert ace.send(message, limit_to_channels=[ChannelType.EMAIL]).sent
        received = smtp_settings.received_by(email)[-1]
        return DeliveryLog.objects.get(message_uuid=message.uuid, channel_type="email"), received

    return send


def _without_ace_header(original):
    stripped = copy.deepcopy(original)
    del stripped["X-ACE-Message-ID"]
    return stripped


def test_the_envelope_sender_is_per_message_signed_and_the_from_header_unchanged(smtp_sent):
    row, received = smtp_sent()
    assert received.mail_from.startswith("bounces+") and received.mail_from.endswith("@" + DOMAIN)
    assert verp.find_in(received.mail_from) == row.message_uuid
    assert received.message["From"] == "ACE Tests <no-reply@example.org>"
    assert received.message["Message-ID"] == f"<{row.message_uuid}.ace@{DOMAIN}>"
    forged = received.mail_from.replace(received.mail_from[8:12], "aaaa")
    assert verp.find_in(forged) is None


def test_postfix_bounce_to_the_verp_address_suppresses(smtp_sent, tmp_path):
    row, received = smtp_sent("nobody@example.net")
    raw = dsn(received.message, to=received.mail_from, recipient="nobody@example.net", status="5.1.1",
              diagnostic="550 5.1.1 <nobody@example.net>: Recipient address rejected: User unknown in local "
                         "recipient table", reporting_mta="mx.example.net")
    box = mailbox.Maildir(tmp_path / "Maildir", create=True)
    box.add(raw)
    call_command("ace_ingest_bounces", str(tmp_path / "Maildir"))
    call_command("ace_ingest_bounces", str(tmp_path / "Maildir"))  # again: recorded once
    event = DeliveryEvent.objects.get()
    assert (event.delivery, event.event_type, event.provider) == (row, EventType.BOUNCED_HARD, "dsn")
    assert "User unknown" in event.description and "5.1.1" in event.raw["mime"]
    assert Suppression.objects.get().event == event


def test_gmail_style_bounce_without_verp_is_matched_by_the_returned_headers(smtp_sent, tmp_path):
    row, received = smtp_sent("ghost@gmail.example")
    raw = dsn(received.message, to="bounces@" + DOMAIN, recipient="ghost@gmail.example", status="5.1.1",
              sender="Mail Delivery Subsystem <mailer-daemon@googlemail.com>", reporting_mta="googlemail.com",
              diagnostic="550-5.1.1 The email account that you tried to reach does not exist. Please try "
                         "double-checking the recipient's email address for typos.", headers_only=True)
    path = tmp_path / "bounces.mbox"
    box = mailbox.mbox(path, create=True)
    box.add(raw)
    box.flush()
    call_command("ace_ingest_bounces", str(path))
    assert DeliveryEvent.objects.get().delivery == row


def test_outlook_style_bounce_matched_by_the_original_message_id_only(smtp_sent):
    row, received = smtp_sent("left@contoso.example")
    original = _without_ace_header(received.message)
    raw = dsn(original, to="postmaster@" + DOMAIN, recipient="left@contoso.example", status="5.4.1",
              sender="Microsoft Outlook <postmaster@outlook.example>", reporting_mta="AM0PR01MB1234.outlook.com",
              diagnostic="550 5.4.1 Recipient address rejected: Access denied.", headers_only=True)
    from ace_admin.events import bounces

    (item,) = bounces.parse(raw)
    assert (item.message_uuid, item.event_type) == (row.message_uuid, EventType.BOUNCED_HARD)


def test_a_delayed_notice_is_deferred_and_suppresses_nothing(smtp_sent, client, settings):
    settings.ACE_BOUNCE_WEBHOOK_SECRET = "mta:pw"
    row, received = smtp_sent("slow@example.net")
    raw = dsn(received.message, to=received.mail_from, recipient="slow@example.net", status="4.4.7",
              action="delayed", diagnostic="421 4.4.7 Connection timed out")
    assert client.post("/ace/events/bounces/", data=raw, content_type="message/rfc822").status_code == 401
    auth = "Basic " + base64.b64encode(b"mta:pw").decode()
    response = client.post("/ace/events/bounces/", data=raw, content_type="message/rfc822", HTTP_AUTHORIZATION=auth)
    assert response.json() == {"found": 1, "recorded": 1}
    assert DeliveryEvent.objects.get().event_type == EventType.DEFERRED
    assert not Suppression.objects.exists()


def test_mailbox_full_is_a_soft_bounce(smtp_sent):
    from ace_admin.events import bounces

    row, received = smtp_sent("full@example.net")
    raw = dsn(received.message, to=received.mail_from, recipient="full@example.net", status="5.2.2",
              diagnostic="552 5.2.2 Mailbox full")
    assert bounces.parse(raw)[0].event_type == EventType.BOUNCED_SOFT


def test_arf_complaint_with_a_redacted_recipient_suppresses_the_rows_address(smtp_sent, client, settings):
    settings.ACE_BOUNCE_WEBHOOK_SECRET = "mta:pw"
    row, received = smtp_sent("angry@example.com")
    original = copy.deepcopy(received.message)
    original.replace_header("To", "redacted@example.com")
    raw = arf(original, to="abuse@" + DOMAIN)
    auth = "Basic " + base64.b64encode(b"mta:pw").decode()
    assert client.post("/ace/events/bounces/", data=raw, content_type="message/rfc822",
                       HTTP_AUTHORIZATION=auth).json()["recorded"] == 1
    event = DeliveryEvent.objects.get()
    assert (event.delivery, event.event_type, event.provider) == (row, EventType.COMPLAINED, "arf")
    suppression = Suppression.objects.get(reason=Suppression.REASON_COMPLAINT)
    assert suppression.event == event
