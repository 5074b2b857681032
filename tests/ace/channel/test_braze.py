"""The Braze email channel, through ace.send, against a local server that answers like Braze's REST API."""

import json
import re
import socket
from datetime import timedelta

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured

from ace import Message, Recipient, send
from ace.channel import ChannelType, channels
from ace.channel.braze import BrazeEmailChannel, api_base_url
from ace.errors import FatalChannelDeliveryError, RecoverableChannelDeliveryError
from ace.outcome import DeliveryStatus
from ace.presentation import render
from ace.signals import ACE_MESSAGE_OUTCOMES
from ace.utils.date import get_current_time
from tests.providers import Reply
from tests.providers.braze_server import BrazeServer

pytestmark = pytest.mark.django_db

API_KEY = "braze-key-0c9d41aa"
APP_ID = "app-7e2b"
CONTEXT = {"first_name": "Ann", "platform_name": "Demo U", "sender_name": "Demo U Team"}
UNSUBSCRIBE = "{{${set_user_to_unsubscribed_url}}}"


@pytest.fixture
def braze(settings):
    """A running fake Braze, with the channel enabled as the default email channel and pointed at it."""
    with BrazeServer(api_key=API_KEY, app_id=APP_ID) as server:
        settings.ACE_ENABLED_CHANNELS = ["braze_email", "django_email"]
        settings.ACE_CHANNEL_DEFAULT_EMAIL = "braze_email"
        settings.ACE_CHANNEL_TRANSACTIONAL_EMAIL = "django_email"
        settings.ACE_CHANNEL_ROUTERS = []  # these tests are about the settings-based routing
        settings.ACE_CHANNEL_BRAZE_API_KEY = API_KEY
        settings.ACE_CHANNEL_BRAZE_APP_ID = APP_ID
        settings.ACE_CHANNEL_BRAZE_REST_ENDPOINT = server.url
        settings.ACE_CHANNEL_BRAZE_CAMPAIGNS = {}
        settings.ACE_CHANNEL_BRAZE_RETRY_DELAY = 0.2
        settings.ACE_CHANNEL_BRAZE_TIMEOUT = 5
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


def welcome(name="provider_welcome", user_id=42, **options):
    return Message(app_label="tests", name=name, recipient=Recipient(user_id, "ann@example.com"),
                   context=dict(CONTEXT), options=options)


def test_enabled_only_with_key_app_and_endpoint(settings):
    settings.ACE_CHANNEL_BRAZE_API_KEY = API_KEY
    settings.ACE_CHANNEL_BRAZE_APP_ID = APP_ID
    settings.ACE_CHANNEL_BRAZE_REST_ENDPOINT = "rest.iad-01.braze.com"
    assert BrazeEmailChannel.enabled()
    settings.ACE_CHANNEL_BRAZE_APP_ID = None
    assert not BrazeEmailChannel.enabled()
    settings.ACE_ENABLED_CHANNELS = ["braze_email", "django_email"]
    assert channels().names() == ["django_email"]


def test_send_posts_the_documented_request(braze, outcomes):
    result = send(welcome())

    assert result.sent
    [request] = braze.requests
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"
    assert request.headers["Content-Type"] == "application/json"
    body = request.data
    email = body["messages"]["email"]
    html = email.pop("body")
    assert body == {  # edx-ace's request: keys without a value are sent as null
        "external_user_ids": ["42"],
        "recipient_subscription_state": "subscribed",
        "campaign_id": None,
        "override_frequency_capping": False,
        "messages": {"email": {
            "app_id": APP_ID,
            "subject": "Welcome, Ann!",
            "from": "ACE Tests <no-reply@example.org>",  # the configured sender as written (from_name.txt unused)
            "reply_to": None,
            "plaintext_body": "Hello Ann, welcome to Demo U.\n",
            "message_variation_id": None,
            "should_inline_css": False,
        }},
    }
    assert html.startswith("<!DOCTYPE html>")
    assert "<style>p { color: #333; }</style>" in html
    assert "Hello Ann, welcome to Demo U." in html
    assert f'<a href="{UNSUBSCRIBE}">Unsubscribe from this list</a>' in html
    outcome = result.for_channel(ChannelType.EMAIL)
    assert outcome.channel_name == "braze_email"
    assert outcome.details["dispatch_id"] == request.answer["dispatch_id"]
    assert outcomes == [outcome]
    assert mail.outbox == []


def test_campaign_variation_reply_to_sender_and_frequency_capping(braze, settings):
    settings.ACE_CHANNEL_BRAZE_CAMPAIGNS = {"provider_welcome": "camp-1:var-9"}
    settings.ACE_CHANNEL_BRAZE_FROM_EMAIL = "Allowed Sender <news@example.org>"

    send(welcome(reply_to="help@example.org", from_address="other@example.org", override_frequency_capping=True))

    [request] = braze.delivered
    email = request.data["messages"]["email"]
    assert request.data["campaign_id"] == "camp-1"
    assert email["message_variation_id"] == "var-9"
    assert email["reply_to"] == "help@example.org"
    assert email["from"] == "Allowed Sender <news@example.org>"
    assert request.data["override_frequency_capping"] is True
    assert request.data["recipient_subscription_state"] == "subscribed"


def test_campaign_without_variation(braze, settings):
    settings.ACE_CHANNEL_BRAZE_CAMPAIGNS = {"provider_welcome": "camp-2"}

    send(welcome())

    [request] = braze.delivered
    assert request.data["campaign_id"] == "camp-2"
    assert request.data["messages"]["email"]["message_variation_id"] is None


def test_rate_limit_is_retried_once_the_window_resets(braze):
    braze.script(braze.rate_limited(reset_in=0))

    result = send(welcome())

    assert result.sent
    limited, accepted = braze.requests
    assert limited.status == 429
    assert braze.delivered == [accepted]
    assert accepted.received_at >= int(limited.answer_headers["X-RateLimit-Reset"])
    assert accepted.data == limited.data
    assert result.for_channel(ChannelType.EMAIL).attempts == 2


def test_server_error_is_retried(braze):
    braze.script(braze.server_error(503), braze.server_error(500))

    result = send(welcome())

    assert result.sent
    assert [r.status for r in braze.requests] == [503, 500, 201]
    assert len(braze.delivered) == 1
    assert result.for_channel(ChannelType.EMAIL).attempts == 3


def test_timeout_is_retried(braze, settings):
    settings.ACE_CHANNEL_BRAZE_TIMEOUT = 0.2
    braze.script(Reply(503, {"message": "slow"}, delay=1))

    result = send(welcome())

    assert result.sent
    assert [r.status for r in braze.requests] == [503, 201]
    assert len(braze.delivered) == 1
    assert result.for_channel(ChannelType.EMAIL).attempts == 2


def test_fatal_error_is_reported_with_brazes_message(braze, outcomes):
    braze.script(braze.fatal(400, "Invalid campaign_id"))

    [result] = send(welcome())  # as edx-ace: reported (email_error), not raised

    assert isinstance(result.error, FatalChannelDeliveryError) and result.error.status_code == 400
    assert re.search("HTTP 400.*Invalid campaign_id", str(result.error))
    assert len(braze.requests) == 1
    assert braze.delivered == []
    [outcome] = outcomes
    assert (outcome.status, outcome.attempts, outcome.error) == (DeliveryStatus.FAILED, 1, result.error)
    assert mail.outbox == []


def test_wrong_api_key_is_fatal(braze, settings):
    settings.ACE_CHANNEL_BRAZE_API_KEY = "revoked-key"

    [result] = send(welcome())
    assert (result.status, type(result.error)) == (DeliveryStatus.FAILED, FatalChannelDeliveryError)
    assert re.search("HTTP 401.*Invalid API key", str(result.error))
    assert braze.delivered == []


def test_rate_limit_past_expiration_expires_without_sending(braze):
    braze.script(braze.rate_limited(reset_in=3600))
    message = welcome()
    message.expiration_time = get_current_time() + timedelta(minutes=5)

    result = send(message)

    outcome = result.for_channel(ChannelType.EMAIL)
    assert outcome.status is DeliveryStatus.EXPIRED
    assert isinstance(outcome.error, RecoverableChannelDeliveryError)
    assert len(braze.requests) == 1
    assert braze.delivered == []


def test_unreachable_endpoint_is_recoverable(braze, settings):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    settings.ACE_CHANNEL_BRAZE_REST_ENDPOINT = f"http://127.0.0.1:{port}"
    message = welcome()
    message.expiration_time = get_current_time() + timedelta(seconds=0.5)

    result = send(message)

    outcome = result.for_channel(ChannelType.EMAIL)
    assert outcome.status is DeliveryStatus.EXPIRED
    assert "Braze could not be reached" in str(outcome.error)
    assert braze.requests == []


@pytest.mark.parametrize("user_id", [None, 0])
def test_recipient_without_lms_user_id_gets_the_email_through_django_email(braze, user_id):
    [result] = send(welcome(user_id=user_id))  # as edx-ace: Braze needs a user id, Django's mail does not
    assert result.status is DeliveryStatus.SENT
    assert braze.requests == []
    assert [(m.to, m.subject) for m in mail.outbox] == [(["ann@example.com"], "Welcome, Ann!")]


def test_disabled_channel_does_not_send(braze, settings):
    channel = BrazeEmailChannel()
    message = welcome()
    rendered = render(channel, message)
    settings.ACE_CHANNEL_BRAZE_API_KEY = ""
    with pytest.raises(FatalChannelDeliveryError, match="disabled"):
        channel.deliver(message, rendered)
    assert braze.requests == []


def test_timeout_comes_from_ace_default_api_timeout(braze, settings):
    settings.ACE_CHANNEL_BRAZE_TIMEOUT = None  # unset: edx-ace's ACE_DEFAULT_API_TIMEOUT applies
    settings.ACE_DEFAULT_API_TIMEOUT = 0.2
    braze.script(Reply(503, {"message": "slow"}, delay=1))

    result = send(welcome())

    assert [r.status for r in braze.requests] == [503, 201]  # the slow answer was given up on, then retried
    assert result.sent and result.for_channel(ChannelType.EMAIL).attempts == 2


def test_transactional_mail_goes_to_the_transactional_channel_unless_braze_has_a_campaign(braze, settings):
    send(welcome(transactional=True))
    assert [(m.to, m.subject) for m in mail.outbox] == [(["ann@example.com"], "Welcome, Ann!")]
    assert braze.requests == []

    settings.ACE_CHANNEL_BRAZE_CAMPAIGNS = {"provider_welcome": "camp-3"}
    result = send(welcome(transactional=True))

    assert result.for_channel(ChannelType.EMAIL).channel_name == "braze_email"
    assert len(mail.outbox) == 1
    [request] = braze.delivered
    assert request.data["campaign_id"] == "camp-3"
    assert request.data["recipient_subscription_state"] == "all"
    assert request.data["override_frequency_capping"] is True


def test_templates_cannot_reach_the_api_key(braze):
    send(welcome())  # a channel that kept credentials after a send would expose them from now on
    send(welcome(name="provider_secrets"))

    request = braze.delivered[-1]
    assert request.headers["Authorization"] == f"Bearer {API_KEY}"  # the key did reach Braze, as auth only
    assert "channel=braze_email" in request.data["messages"]["email"]["body"]  # the template saw the channel
    assert API_KEY not in json.dumps(request.data)


@pytest.mark.parametrize(("endpoint", "url"), [
    ("rest.iad-01.braze.com", "https://rest.iad-01.braze.com"),
    ("https://rest.fra-01.braze.eu/", "https://rest.fra-01.braze.eu"),
    ("http://127.0.0.1:8123", "http://127.0.0.1:8123"),
])
def test_endpoint_setting_forms(settings, endpoint, url):
    settings.ACE_CHANNEL_BRAZE_REST_ENDPOINT = endpoint
    assert api_base_url() == url


@pytest.mark.parametrize("endpoint", ["ftp://rest.braze.com", "https://", "rest.braze.com?x=1"])
def test_malformed_endpoint_is_a_configuration_error(settings, endpoint):
    settings.ACE_CHANNEL_BRAZE_REST_ENDPOINT = endpoint
    with pytest.raises(ImproperlyConfigured, match="ACE_CHANNEL_BRAZE_REST_ENDPOINT"):
        api_base_url()


def test_malformed_campaign_setting_is_reported(braze, settings):
    settings.ACE_CHANNEL_BRAZE_CAMPAIGNS = {"provider_welcome": ":var-only"}
    with pytest.raises(ImproperlyConfigured, match="ACE_CHANNEL_BRAZE_CAMPAIGNS"):
        send(welcome())
    assert braze.requests == []


def test_action_links(settings):
    channel = BrazeEmailChannel()
    assert channel.get_action_links() == [(UNSUBSCRIBE, "Unsubscribe from this list")]
    assert channel.get_action_links(omit_unsubscribe_link=True) == []
    assert channel.action_links == channel.get_action_links()
    settings.ACE_CHANNEL_BRAZE_CAMPAIGNS = {"provider_welcome": "camp-1"}
    assert channel.overrides_delivery_for_message(welcome())
    assert not channel.overrides_delivery_for_message(welcome(name="provider_secrets"))
