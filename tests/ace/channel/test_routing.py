"""Channel selection: ACE_CHANNEL_ROUTERS first, then the ACE_CHANNEL_* settings; mistakes are refused."""

import re

import pytest
from django.core import mail
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError

from ace import send
from ace.channel import ChannelMap, ChannelType, channels, get_channel_for_message
from ace.channel.django_email import DjangoEmailChannel
from ace.channel.file import FilePushChannel
from ace.errors import UnsupportedChannelError
from ace.outcome import DeliveryStatus
from tests.ace.channels import RecordingEmailChannel
from tests.ace.helpers import make_message

pytestmark = pytest.mark.django_db


@pytest.fixture
def three_channels(settings, file_channel_dir):
    settings.ACE_ENABLED_CHANNELS = ["django_email", "file_email", "file_push"]
    return file_channel_dir


def test_router_picks_the_channel(settings, three_channels):
    settings.ACE_CHANNEL_ROUTERS = ["tests.ace.plugins.NeverRouter", "tests.ace.plugins.NameRouter"]
    result = send(make_message(name="emailonly"), limit_to_channels=[ChannelType.EMAIL])
    assert result.for_channel(ChannelType.EMAIL).channel_name == "file_email"
    assert mail.outbox == []
    [eml] = three_channels.glob("*.eml")
    assert "To: ann@example.com" in eml.read_text()


def test_router_without_an_answer_leaves_it_to_the_settings(settings, three_channels):
    settings.ACE_CHANNEL_ROUTERS = ["tests.ace.plugins.NameRouter"]
    send(make_message(name="htmlonly"), limit_to_channels=[ChannelType.EMAIL])
    assert [m.subject for m in mail.outbox] == ["Only HTML for Ann"]


def test_router_naming_a_channel_not_enabled_is_reported_and_nothing_sent(settings, three_channels):
    settings.ACE_CHANNEL_ROUTERS = ["tests.ace.plugins.NameRouter"]
    result = send(make_message(name="greeting"))
    email = result.for_channel(ChannelType.EMAIL)
    assert email.status is DeliveryStatus.UNSUPPORTED
    assert "sailthru_email" in email.reason
    assert mail.outbox == [] and list(three_channels.glob("*.eml")) == []
    assert result.for_channel(ChannelType.PUSH).status is DeliveryStatus.SENT


@pytest.mark.parametrize("path,words", [
    ("tests.ace.plugins.NoSuchRouter", "cannot import"),
    ("tests.ace.plugins.NotARouter", "channel_for_message"),
])
def test_bad_router_setting_is_refused(settings, path, words):
    settings.ACE_CHANNEL_ROUTERS = [path]
    with pytest.raises(ImproperlyConfigured, match=words):
        send(make_message())
    assert mail.outbox == []
    with pytest.raises(SystemCheckError, match=r"ace\.E002"):
        call_command("check")


def _warnings_of_check() -> str:
    from django.core import checks

    return "\n".join(f"{message.id} {message.msg}" for message in checks.run_checks(tags=["ace"]))


def test_unknown_name_in_enabled_channels_is_ignored_with_a_check_warning(settings):
    settings.ACE_ENABLED_CHANNELS = ["django_email", "no_such_channel"]
    send(make_message(), limit_to_channels=[ChannelType.EMAIL])  # as edx-ace: the unknown name is ignored
    assert len(mail.outbox) == 1
    assert re.search(r"ace\.W003 ACE_ENABLED_CHANNELS names 'no_such_channel'", _warnings_of_check())
    call_command("check")  # a warning, not an error


@pytest.mark.parametrize("setting", ["ACE_CHANNEL_DEFAULT_EMAIL", "ACE_CHANNEL_TRANSACTIONAL_EMAIL",
                                     "ACE_CHANNEL_DEFAULT_PUSH"])
def test_unknown_name_in_channel_settings_falls_back_to_the_default_channel(settings, setting):
    setattr(settings, setting, "no_such_channel")
    send(make_message(), limit_to_channels=[ChannelType.EMAIL])
    assert len(mail.outbox) == 1
    assert re.search(rf"ace\.W002 {setting} names 'no_such_channel'", _warnings_of_check())
    call_command("check")


def test_open_edx_ace_settings_send_email(settings):
    """The ACE settings Open edX's platform ships: a push channel and policy plug-ins this project lacks."""
    settings.ACE_ENABLED_CHANNELS = ["django_email"]
    settings.ACE_ENABLED_POLICIES = ["bulk_email_optout", "course_push_notification_optout"]
    settings.ACE_CHANNEL_DEFAULT_EMAIL = "django_email"
    settings.ACE_CHANNEL_TRANSACTIONAL_EMAIL = "django_email"
    settings.ACE_CHANNEL_DEFAULT_PUSH = "push_notification"
    settings.ACE_PUSH_CHANNELS = []
    result = send(make_message(name="emailonly"))
    assert [(o.channel_type, o.status) for o in result] == [(ChannelType.EMAIL, DeliveryStatus.SENT)]
    [email] = mail.outbox
    assert email.to == ["ann@example.com"]
    warnings = _warnings_of_check()
    assert "'bulk_email_optout', 'course_push_notification_optout'" in warnings
    assert "ACE_CHANNEL_DEFAULT_PUSH names 'push_notification'" in warnings


def test_installed_but_disabled_channel_falls_back_with_a_warning(settings):
    settings.ACE_ENABLED_CHANNELS = ["django_email", "file_push"]
    settings.ACE_CHANNEL_DEFAULT_EMAIL = "file_email"  # installed, not enabled
    send(make_message(), limit_to_channels=[ChannelType.EMAIL])
    assert len(mail.outbox) == 1
    call_command("check")  # warnings only: does not raise


def test_check_passes_with_the_test_settings():
    call_command("check")


def test_channels_loaded_in_setting_order():
    channel_map = channels()
    assert channel_map.names() == ["django_email", "file_push"]
    assert isinstance(channel_map.get_default_channel(ChannelType.EMAIL), DjangoEmailChannel)
    assert isinstance(channel_map.get_default_channel(ChannelType.PUSH), FilePushChannel)
    assert channels() is channel_map  # loaded once


def test_channel_map_api():
    first, second = RecordingEmailChannel(), RecordingEmailChannel()
    channel_map = ChannelMap([("one", first), ("two", second)])
    assert channel_map.get_channel_by_name(ChannelType.EMAIL, "two") is second
    assert channel_map.get_default_channel(ChannelType.EMAIL) is first
    assert ChannelType.EMAIL in channel_map and ChannelType.PUSH not in channel_map
    with pytest.raises(KeyError):
        channel_map.get_channel_by_name(ChannelType.PUSH, "one")
    with pytest.raises(KeyError):
        channel_map.get_channel_by_name(ChannelType.EMAIL, "three")
    with pytest.raises(UnsupportedChannelError):
        channel_map.get_default_channel(ChannelType.PUSH)


def test_register_channel_requires_a_channel_type():
    class Untyped(RecordingEmailChannel):
        channel_type = "email"

    with pytest.raises(ImproperlyConfigured, match="ChannelType"):
        ChannelMap([("untyped", Untyped())])


def test_get_channel_for_message_without_settings_uses_the_default(settings):
    del settings.ACE_CHANNEL_DEFAULT_EMAIL
    del settings.ACE_CHANNEL_TRANSACTIONAL_EMAIL
    settings.ACE_ENABLED_CHANNELS = ["file_email", "django_email"]
    assert get_channel_for_message(ChannelType.EMAIL, make_message()).name == "file_email"
    assert get_channel_for_message(ChannelType.EMAIL, make_message(options={"transactional": True})).name == \
        "file_email"


def test_the_documented_sample_settings_work_without_sailthru_credentials(settings):
    """The django_email sample settings: Sailthru by default, django_email for transactional mail. With
    no Sailthru credentials, sailthru_email cannot be enabled and django_email serves both."""
    settings.ACE_CHANNEL_DEFAULT_EMAIL = "sailthru_email"
    settings.ACE_CHANNEL_TRANSACTIONAL_EMAIL = "django_email"
    settings.ACE_ENABLED_CHANNELS = ["sailthru_email", "django_email"]
    settings.ACE_CHANNEL_SAILTHRU_API_KEY = None
    assert channels().names() == ["django_email"]
    send(make_message(name="emailonly"))
    send(make_message(name="emailonly", options={"transactional": True}))
    assert [m.to for m in mail.outbox] == [["ann@example.com"], ["ann@example.com"]]


def test_enabled_channels_given_as_a_string_is_refused_clearly(settings):
    settings.ACE_ENABLED_CHANNELS = "django_email"
    with pytest.raises(ImproperlyConfigured, match=r"list of names.*\['django_email'\]"):
        send(make_message())
    assert mail.outbox == []


@pytest.mark.parametrize("setting,value", [("ACE_DELIVERY_MAX_ATTEMPTS", 0), ("ACE_DELIVERY_MAX_ATTEMPTS", "5"),
                                           ("ACE_DEFAULT_EXPIRATION_DELAY", -1),
                                           ("ACE_CHANNEL_DJANGO_EMAIL_RETRY_DELAY", None)])
def test_system_check_reports_bad_numbers(settings, setting, value):
    setattr(settings, setting, value)
    with pytest.raises(SystemCheckError, match=rf"ace\.E004.*{setting}"):
        call_command("check")


def test_override_default_channel_option_and_push_channels_as_in_edx_ace_1_15(settings):
    settings.ACE_ENABLED_CHANNELS = ["django_email", "file_email", "file_push"]
    settings.ACE_CHANNEL_DEFAULT_EMAIL = "django_email"
    message = make_message(options={"override_default_channel": "file_email"})
    assert get_channel_for_message(ChannelType.EMAIL, message).name == "file_email"
    assert get_channel_for_message(ChannelType.EMAIL, make_message()).name == "django_email"

    settings.ACE_CHANNEL_DEFAULT_PUSH = None
    settings.ACE_PUSH_CHANNELS = ["push_notification", "file_push"]  # the first is not enabled here
    assert get_channel_for_message(ChannelType.PUSH, make_message()).name == "file_push"
