"""DatabaseRouter through ace.send: channel routes pick file_email or django_email; no match leaves it to settings."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from ace import ace
from ace.channel import ChannelType
from ace.outcome import DeliveryStatus
from ace.settings import reload_all
from ace_admin.models import ChannelRoute, DeliveryLog
from tests.ace_admin.conftest import make_message
from tests.factories import ChannelRouteFactory, MessageTypeFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def both_email_channels(settings, file_channel_dir):
    settings.ACE_ENABLED_CHANNELS = ["django_email", "file_email", "file_push"]
    reload_all()
    return file_channel_dir


@pytest.fixture
def welcome():
    return MessageTypeFactory(app_label="ace_admin_tests", name="welcome", category="marketing")


def channel_used(message) -> str:
    """Send over email; say which channel delivered it, checking where the email actually went."""
    before = len(mail.outbox)
    result = ace.send(message, limit_to_channels=[ChannelType.EMAIL])
    outcome = result.for_channel(ChannelType.EMAIL)
    assert outcome.status is DeliveryStatus.SENT
    assert DeliveryLog.objects.get(message_uuid=message.uuid).channel_name == outcome.channel_name
    if outcome.channel_name == "django_email":
        assert len(mail.outbox) == before + 1
    else:
        assert len(mail.outbox) == before
    return outcome.channel_name


def eml_files(folder):
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def test_without_routes_the_settings_decide():
    assert channel_used(make_message()) == "django_email"


def test_a_route_for_the_message_type(welcome, both_email_channels):
    ChannelRouteFactory(order=10, message_type=welcome, channel_type="email", channel_name="file_email")
    assert channel_used(make_message()) == "file_email"
    (eml,) = eml_files(both_email_channels)
    assert "Welcome Ann (file)" in eml.read_text()
    assert channel_used(make_message(app_label="tests", name="greeting")) == "django_email"


def test_routes_by_category_and_transactional_flag_in_order(welcome):
    ChannelRouteFactory(order=20, category="marketing", channel_type="email", channel_name="file_email")
    ChannelRouteFactory(order=10, transactional=True, channel_type="email", channel_name="django_email")
    assert channel_used(make_message()) == "file_email"
    assert channel_used(make_message(options={"transactional": True})) == "django_email"  # order 10 first
    ChannelRoute.objects.filter(order=20).update(enabled=False)  # a bulk admin action
    assert channel_used(make_message()) == "django_email"


def test_a_route_for_non_transactional_messages_only(welcome):
    ChannelRouteFactory(order=10, transactional=False, channel_type="email", channel_name="file_email")
    assert channel_used(make_message()) == "file_email"
    assert channel_used(make_message(options={"transactional": True})) == "django_email"


def test_a_route_to_a_channel_disabled_since_is_ignored(welcome, settings):
    ChannelRouteFactory(order=10, message_type=welcome, channel_type="email", channel_name="file_email")
    settings.ACE_ENABLED_CHANNELS = ["django_email", "file_push"]
    reload_all()
    assert channel_used(make_message()) == "django_email"


def test_only_enabled_channels_of_the_right_type_can_be_chosen(welcome):
    route = ChannelRoute(order=10, message_type=welcome, channel_type="email", channel_name="braze_email")
    with pytest.raises(ValidationError, match="not an enabled channel"):
        route.full_clean()
    route.channel_name = "file_push"
    with pytest.raises(ValidationError, match="does not deliver email"):
        route.full_clean()
    route.channel_name = "file_email"
    route.full_clean()
