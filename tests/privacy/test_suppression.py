"""Suppression: a permanent failure for an address stops marketing mail to it; staff can lift it."""

from __future__ import annotations

import pytest

from ace.errors import FatalChannelDeliveryError, RecoverableChannelDeliveryError
from ace.outcome import DeliveryStatus
from ace_admin.models import Suppression, identity_hash
from tests.privacy.conftest import log_rows, make_message, send_email

pytestmark = pytest.mark.django_db


def send(smtp, name="news", email="gone@example.com"):
    try:
        [outcome], _ = send_email(make_message(name, email=email))
    except (FatalChannelDeliveryError, RecoverableChannelDeliveryError):
        return DeliveryStatus.FAILED
    return outcome.status


def test_smtp_550_at_rcpt_suppresses_the_address_for_marketing_only(message_types, smtp_settings):
    smtp_settings.refuse_rcpt("gone@example.com", "550 5.1.1 No such user")
    assert send(smtp_settings) is DeliveryStatus.FAILED
    [entry] = Suppression.objects.all()
    assert (entry.email, entry.reason, entry.source) == ("gone@example.com", "bounce", "django_email")
    assert "550" in entry.details and entry.address_hash == identity_hash("gone@example.com")
    smtp_settings.reset()  # the server would accept it now: the suppression alone stops it
    assert send(smtp_settings) is DeliveryStatus.DENIED
    assert log_rows(status="denied")[-1].policy == f"suppressed address #{entry.pk} (bounce)"
    assert smtp_settings.received_by("gone@example.com") == []
    # Transactional mail is still attempted (and here delivered).
    assert send(smtp_settings, "receipt") is DeliveryStatus.SENT
    assert len(smtp_settings.received_by("gone@example.com")) == 1


def test_temporary_failure_and_non_address_failures_do_not_suppress(message_types, smtp_settings, settings):
    settings.ACE_DELIVERY_MAX_ATTEMPTS = 1
    smtp_settings.refuse_rcpt("busy@example.com", "451 4.3.0 Try later")
    send(smtp_settings, email="busy@example.com")
    smtp_settings.reset()
    smtp_settings.refuse_next_data("554 5.7.1 Message content rejected")  # the message, not the address
    assert send(smtp_settings, email="fine@example.com") is DeliveryStatus.FAILED
    assert Suppression.objects.count() == 0
    assert send(smtp_settings, email="busy@example.com") is DeliveryStatus.SENT


def test_550_at_data_for_the_recipient_suppresses(message_types, smtp_settings):
    smtp_settings.refuse_data_for("gone@example.com", "550 5.2.1 Mailbox disabled")
    assert send(smtp_settings) is DeliveryStatus.FAILED
    assert Suppression.objects.get().details.startswith("550")


def test_lifted_suppression_lets_mail_through_again(message_types, smtp_settings):
    from ace_admin.privacy import suppression

    entry = suppression.suppress("Gone@Example.com", reason="bounce", details="550", source="test")
    assert entry.email == "gone@example.com"
    assert suppression.suppress("gone@example.com", reason="bounce") == entry  # idempotent
    assert send(smtp_settings) is DeliveryStatus.DENIED
    assert suppression.lift(Suppression.objects.all()) == 1
    assert send(smtp_settings) is DeliveryStatus.SENT


def test_suppression_stops_email_but_not_push(message_types, settings):
    from ace import ace
    from ace.channel import ChannelType
    from ace_admin.privacy import suppression

    suppression.suppress("ann@example.com", reason="bounce")
    result = ace.send(make_message("news"))
    statuses = {outcome.channel_type: outcome.status for outcome in result}
    assert statuses[ChannelType.EMAIL] is DeliveryStatus.DENIED
    assert statuses.get(ChannelType.PUSH) is not DeliveryStatus.DENIED


def test_sailthru_invalid_email_suppresses(message_types, settings):
    from tests.providers.sailthru_server import SailthruServer

    with SailthruServer(api_key="key", secret="secret") as server:
        settings.ACE_ENABLED_CHANNELS = ["sailthru_email", "django_email"]
        settings.ACE_CHANNEL_DEFAULT_EMAIL = "sailthru_email"
        settings.ACE_CHANNEL_ROUTERS = []
        settings.ACE_CHANNEL_SAILTHRU_TEMPLATE_NAME = "ace"
        settings.ACE_CHANNEL_SAILTHRU_API_KEY = "key"
        settings.ACE_CHANNEL_SAILTHRU_API_SECRET = "secret"
        settings.ACE_CHANNEL_SAILTHRU_API_URL = server.url
        server.script(server.fatal(code=11, message="Invalid email: gone@example"))
        assert send(None) is DeliveryStatus.FAILED
        assert Suppression.objects.get().source == "sailthru_email"
        server.script(server.fatal(code=14, message="Unknown template"))  # a configuration problem
        assert send(None, email="other@example.com") is DeliveryStatus.FAILED
        assert Suppression.objects.count() == 1
