"""The Sailthru email channel, through ace.send, against a local server that answers like Sailthru's API."""

import json
import re
import socket
import types
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured

from ace import Message, Recipient, send
from ace.channel import ChannelType, channels
from ace.channel.sailthru import RecoverableErrorCodes, ResponseHeaders, SailthruEmailChannel
from ace.errors import FatalChannelDeliveryError, InvalidMessageError, RecoverableChannelDeliveryError
from ace.outcome import DeliveryStatus
from ace.signals import ACE_MESSAGE_OUTCOMES
from ace.utils.date import get_current_time
from tests.providers import Reply
from tests.providers.sailthru_server import SailthruServer

pytestmark = pytest.mark.django_db

API_KEY = "st-key-5d1e0c7a"
SECRET = "st-secret-b84f29e6"
TEMPLATE = "ace-minimal"
CONTEXT = {"first_name": "Ann", "platform_name": "Demo U", "sender_name": "Demo U Team"}


@pytest.fixture
def sailthru(settings):
    """A running fake Sailthru, with the channel enabled as the default email channel and pointed at it."""
    with SailthruServer(api_key=API_KEY, secret=SECRET) as server:
        settings.ACE_ENABLED_CHANNELS = ["sailthru_email", "django_email"]
        settings.ACE_CHANNEL_DEFAULT_EMAIL = "sailthru_email"
        settings.ACE_CHANNEL_TRANSACTIONAL_EMAIL = "django_email"
        settings.ACE_CHANNEL_ROUTERS = []  # these tests are about the settings-based routing
        settings.ACE_CHANNEL_SAILTHRU_TEMPLATE_NAME = TEMPLATE
        settings.ACE_CHANNEL_SAILTHRU_API_KEY = API_KEY
        settings.ACE_CHANNEL_SAILTHRU_API_SECRET = SECRET
        settings.ACE_CHANNEL_SAILTHRU_API_URL = server.url
        settings.ACE_CHANNEL_SAILTHRU_RETRY_DELAY = 0.2
        yield server


@pytest.fixture
def outcomes():
    """Every outcome ace.send reported, also when it raised."""
    seen = []

    def record(sender, message, outcomes, **kwargs):
        seen.extend(outcomes)

    ACE_MESSAGE_OUTCOMES.connect(record)
    yield seen
    ACE_MESSAGE_OUTCOMES.disconnect(record)


def welcome(name="provider_welcome", email="ann@example.com", **options):
    return Message(app_label="tests", name=name, recipient=Recipient(42, email), context=dict(CONTEXT),
                   options=options)


def closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_enabled_only_with_every_required_setting(settings):
    settings.ACE_CHANNEL_SAILTHRU_TEMPLATE_NAME = TEMPLATE
    settings.ACE_CHANNEL_SAILTHRU_API_KEY = API_KEY
    settings.ACE_CHANNEL_SAILTHRU_API_SECRET = SECRET
    assert SailthruEmailChannel.enabled()
    settings.ACE_CHANNEL_SAILTHRU_API_SECRET = ""
    assert not SailthruEmailChannel.enabled()
    settings.ACE_ENABLED_CHANNELS = ["sailthru_email", "django_email"]
    assert channels().names() == ["django_email"]


def test_send_posts_a_signed_request_with_the_rendered_message(sailthru, outcomes):
    result = send(welcome())

    assert result.sent
    [request] = sailthru.requests
    assert request.checks["sig_valid"]
    assert request.data["api_key"] == API_KEY
    assert request.data["format"] == "json"
    payload = request.data["json"]
    assert payload["template"] == TEMPLATE
    assert payload["email"] == "ann@example.com"
    assert payload["options"] == {}
    sent_vars = payload["vars"]
    assert sent_vars["ace_template_subject"] == "Welcome, Ann!"
    assert sent_vars["ace_template_from_name"] == "Demo U Team"
    assert "color: #333" in sent_vars["ace_template_head_html"]
    assert "Hello Ann, welcome to Demo U." in sent_vars["ace_template_body_html"]
    assert '<a href="{optout_confirm_url}">Unsubscribe from this list</a>' in sent_vars["ace_template_body_html"]
    assert '<img src="{beacon_src}"' in sent_vars["ace_template_body_html"]
    assert sent_vars["ace_template_body"].strip() == "Hello Ann, welcome to Demo U."
    outcome = result.for_channel(ChannelType.EMAIL)
    assert outcome.channel_name == "sailthru_email"
    assert outcome.details["send_id"] == request.answer["send_id"]
    assert outcomes == [outcome]
    assert mail.outbox == []


def test_reply_to_else_from_address_becomes_behalf_email_as_in_edx_ace(sailthru):
    send(welcome(from_address="Courses <courses@example.org>", reply_to="help@example.org"))
    send(welcome(from_address="courses@example.org"))
    send(welcome())

    first, second, third = (request.data["json"]["options"] for request in sailthru.delivered)
    assert first == {"behalf_email": "help@example.org"}
    assert second == {"behalf_email": "courses@example.org"}
    assert third == {}


def test_from_name_falls_back_to_the_senders_display_name(sailthru):
    send(welcome(name="provider_secrets"))  # a message type without a from_name.txt template

    [request] = sailthru.delivered
    assert request.data["json"]["vars"]["ace_template_from_name"] == "ACE Tests"  # from DEFAULT_FROM_EMAIL


def test_rate_limit_is_retried_once_the_window_resets(sailthru):
    sailthru.script(sailthru.rate_limited(reset_in=0))

    result = send(welcome())

    assert result.sent
    limited, accepted = sailthru.requests
    assert limited.answer["error"] == RecoverableErrorCodes.RATE_LIMIT
    assert sailthru.delivered == [accepted]
    assert accepted.received_at >= int(limited.answer_headers[ResponseHeaders.RATE_LIMIT_RESET.value])
    assert result.for_channel(ChannelType.EMAIL).attempts == 2


def test_internal_error_is_retried(sailthru):
    sailthru.script(sailthru.server_error())

    result = send(welcome())

    assert result.sent
    assert [r.answer.get("error") for r in sailthru.requests] == [RecoverableErrorCodes.INTERNAL_ERROR, None]
    assert len(sailthru.delivered) == 1
    assert result.for_channel(ChannelType.EMAIL).attempts == 2


def test_gateway_page_without_sailthru_error_is_retried(sailthru):
    sailthru.script(Reply(502, b"<html><body>502 Bad Gateway</body></html>"))

    result = send(welcome())

    assert result.sent
    assert [r.status for r in sailthru.requests] == [502, 200]
    assert len(sailthru.delivered) == 1


def test_answer_without_error_code_is_retried_on_5xx_and_fatal_otherwise(sailthru):
    sailthru.script(Reply(500, {"message": "upstream timeout"}))
    assert send(welcome()).sent
    assert [r.status for r in sailthru.requests] == [500, 200]

    sailthru.script(Reply(404, {"message": "no such route"}))
    [result] = send(welcome())  # as edx-ace: a channel error is reported, not raised
    assert isinstance(result.error, FatalChannelDeliveryError)
    assert re.search("HTTP 404.*no such route", str(result.error))
    assert len(sailthru.delivered) == 1

    sailthru.script(Reply(200, ["not", "a", "send"]))
    [result] = send(welcome())
    assert isinstance(result.error, FatalChannelDeliveryError)
    assert re.search("HTTP 200.*unexpected answer", str(result.error))
    assert len(sailthru.delivered) == 1


def test_fatal_error_is_reported_and_delivers_nothing(sailthru, outcomes):
    sailthru.script(sailthru.fatal(14, "Unknown template: ace-minimal"))

    [result] = send(welcome())
    caught = types.SimpleNamespace(value=result.error)
    assert re.search("Sailthru error 14.*Unknown template", str(caught.value))

    assert caught.value.code == 14
    assert len(sailthru.requests) == 1
    assert sailthru.delivered == []
    [outcome] = outcomes
    assert (outcome.status, outcome.attempts, outcome.error) == (DeliveryStatus.FAILED, 1, caught.value)
    assert mail.outbox == []


def test_wrong_secret_is_refused_as_fatal(sailthru, settings):
    settings.ACE_CHANNEL_SAILTHRU_API_SECRET = "not-the-secret"

    [result] = send(welcome())
    assert isinstance(result.error, FatalChannelDeliveryError) and "Invalid signature" in str(result.error)

    [request] = sailthru.requests
    assert not request.checks["sig_valid"]
    assert sailthru.delivered == []


def test_rate_limit_past_expiration_expires_without_sending(sailthru):
    sailthru.script(sailthru.rate_limited(reset_in=3600))
    message = welcome()
    message.expiration_time = get_current_time() + timedelta(minutes=5)

    result = send(message)

    outcome = result.for_channel(ChannelType.EMAIL)
    assert outcome.status is DeliveryStatus.EXPIRED
    assert isinstance(outcome.error, RecoverableChannelDeliveryError)
    assert len(sailthru.requests) == 1
    assert sailthru.delivered == []


def test_expired_message_is_not_sent_at_all(sailthru):
    message = welcome()
    message.expiration_time = get_current_time() - timedelta(seconds=1)

    result = send(message)

    assert result.for_channel(ChannelType.EMAIL).status is DeliveryStatus.EXPIRED
    assert sailthru.requests == []


def test_unreachable_api_is_recoverable(sailthru, settings):
    settings.ACE_CHANNEL_SAILTHRU_API_URL = closed_port_url()
    message = welcome()
    message.expiration_time = get_current_time() + timedelta(seconds=0.5)

    result = send(message)

    outcome = result.for_channel(ChannelType.EMAIL)
    assert outcome.status is DeliveryStatus.EXPIRED
    assert isinstance(outcome.error, RecoverableChannelDeliveryError)
    assert "could not be reached" in str(outcome.error)
    assert sailthru.requests == []


def test_debug_mode_sends_nothing(sailthru, settings):
    settings.ACE_CHANNEL_SAILTHRU_DEBUG = True

    result = send(welcome())

    assert result.for_channel(ChannelType.EMAIL).details == {"sailthru_debug": True}
    assert sailthru.requests == []


def test_recipient_without_email_is_invalid_and_not_sent(sailthru):
    with pytest.raises(InvalidMessageError, match="(?i)no email address"):
        send(Message(app_label="tests", name="provider_welcome", recipient=Recipient(42), context=dict(CONTEXT)))
    assert sailthru.requests == []


def test_api_url_without_scheme_is_a_configuration_error(sailthru, settings):
    settings.ACE_CHANNEL_SAILTHRU_API_URL = "api.sailthru.com"

    with pytest.raises(ImproperlyConfigured, match="ACE_CHANNEL_SAILTHRU_API_URL"):
        send(welcome())
    assert sailthru.requests == []


def test_transactional_mail_goes_to_the_transactional_channel(sailthru):
    send(welcome(transactional=True))
    send(welcome(email="bob@example.com"))

    assert [(m.to, m.subject) for m in mail.outbox] == [(["ann@example.com"], "Welcome, Ann!")]
    assert [r.data["json"]["email"] for r in sailthru.delivered] == ["bob@example.com"]


def test_templates_cannot_reach_the_api_credentials(sailthru):
    send(welcome())  # a channel that kept credentials after a send would expose them from now on
    send(welcome(name="provider_secrets"))

    request = sailthru.delivered[-1]
    assert request.data["api_key"] == API_KEY  # the credentials did reach Sailthru, as auth only
    body = request.data["json"]["vars"]["ace_template_body_html"]
    assert "channel=sailthru_email" in body  # the template did see the channel
    rendered = json.dumps(request.data["json"])
    assert API_KEY not in rendered
    assert SECRET not in rendered


def test_action_links_and_trackers():
    channel = SailthruEmailChannel()
    assert channel.get_action_links() == [("{view_url}", "View on Web"),
                                          ("{optout_confirm_url}", "Unsubscribe from this list")]
    assert channel.get_action_links(omit_unsubscribe_link=True) == [("{view_url}", "View on Web")]
    assert channel.action_links == channel.get_action_links()
    assert channel.tracker_image_sources == ["{beacon_src}"]


def test_documented_names():
    assert RecoverableErrorCodes.INTERNAL_ERROR == 9
    assert RecoverableErrorCodes.RATE_LIMIT == 43
    assert ResponseHeaders.RATE_LIMIT_REMAINING.value == "X-Rate-Limit-Remaining"
    assert ResponseHeaders.RATE_LIMIT_RESET.value == "X-Rate-Limit-Reset"
