"""The same one-click headers reach Sailthru and Braze (as their documented header options), marketing only;
their own unsubscribe links stay in place."""

from __future__ import annotations

import pytest

from ace import ace
from ace.channel import ChannelType
from ace.channel.braze import UNSUBSCRIBE_URL, BrazeEmailChannel
from ace.channel.sailthru import SailthruEmailChannel
from tests.privacy.conftest import make_message
from tests.providers.braze_server import BrazeServer
from tests.providers.sailthru_server import SailthruServer

pytestmark = pytest.mark.django_db


@pytest.fixture
def sailthru(settings):
    with SailthruServer(api_key="st-key", secret="st-secret") as server:
        settings.ACE_ENABLED_CHANNELS = ["sailthru_email", "django_email"]
        settings.ACE_CHANNEL_DEFAULT_EMAIL = settings.ACE_CHANNEL_TRANSACTIONAL_EMAIL = "sailthru_email"
        settings.ACE_CHANNEL_ROUTERS = []
        settings.ACE_CHANNEL_SAILTHRU_TEMPLATE_NAME = "ace"
        settings.ACE_CHANNEL_SAILTHRU_API_KEY = "st-key"
        settings.ACE_CHANNEL_SAILTHRU_API_SECRET = "st-secret"
        settings.ACE_CHANNEL_SAILTHRU_API_URL = server.url
        yield server


@pytest.fixture
def braze(settings):
    with BrazeServer(api_key="bz-key", app_id="bz-app") as server:
        settings.ACE_ENABLED_CHANNELS = ["braze_email", "django_email"]
        settings.ACE_CHANNEL_DEFAULT_EMAIL = settings.ACE_CHANNEL_TRANSACTIONAL_EMAIL = "braze_email"
        settings.ACE_CHANNEL_ROUTERS = []
        settings.ACE_CHANNEL_BRAZE_API_KEY = "bz-key"
        settings.ACE_CHANNEL_BRAZE_APP_ID = "bz-app"
        settings.ACE_CHANNEL_BRAZE_REST_ENDPOINT = server.url
        yield server


def test_sailthru_gets_the_headers_in_its_send_options(message_types, sailthru):
    ace.send(make_message("news"), limit_to_channels=[ChannelType.EMAIL])
    ace.send(make_message("receipt"), limit_to_channels=[ChannelType.EMAIL])
    news, receipt = [request.data["json"] for request in sailthru.delivered]
    headers = news["options"]["headers"]
    assert headers["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/ace/unsubscribe/")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/ace/unsubscribe/" in news["vars"]["ace_template_body_html"]
    assert "headers" not in receipt["options"]
    assert SailthruEmailChannel().get_action_links()[-1][0] == "{optout_confirm_url}"


def test_braze_gets_the_headers_in_the_email_object(message_types, braze):
    ace.send(make_message("news"), limit_to_channels=[ChannelType.EMAIL])
    ace.send(make_message("receipt"), limit_to_channels=[ChannelType.EMAIL])
    news, receipt = [request.data["messages"]["email"] for request in braze.delivered]
    assert news["headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "/ace/unsubscribe/" in news["headers"]["List-Unsubscribe"]
    assert "headers" not in receipt
    assert BrazeEmailChannel().get_action_links()[0][0] == UNSUBSCRIBE_URL
