"""Behaviours platform code written for edx-ace depends on, beyond edx-ace's own suites (``make compat``):
what ``send()`` raises or reports, the monitoring keys, the edx-ace names, Sailthru's debug mode."""

import sys
import types

import pytest
from django.core import mail
from django.template import TemplateSyntaxError

from ace import monitoring, send
from ace.channel import ChannelType
from ace.outcome import DeliveryStatus
from ace.signals import ACE_MESSAGE_OUTCOMES
from tests.ace.helpers import make_message

# The project renders through ace_admin's database loader and policy: these tests read the database
# (empty here, so files and settings decide).
pytestmark = pytest.mark.django_db


@pytest.fixture
def reported(monkeypatch):
    """Facts reported to monitoring, through a stand-in of the New Relic agent's documented API."""
    received = []
    agent = types.ModuleType("newrelic.agent")
    agent.add_custom_attribute = lambda key, value: received.append((key, value))
    package = types.ModuleType("newrelic")
    package.agent = agent
    monkeypatch.setitem(sys.modules, "newrelic", package)
    monkeypatch.setitem(sys.modules, "newrelic.agent", agent)
    monitoring._newrelic_agent.reset()
    yield received
    monitoring._newrelic_agent.reset()


def test_delivery_success_and_channel_errors_are_reported_with_edx_aces_keys(reported, smtp_settings):
    send(make_message(name="emailonly"), limit_to_channels=[ChannelType.EMAIL])
    assert ("email_delivery_succeeded", True) in reported
    assert ("message_name", "tests.emailonly") in reported
    assert ("policy_allowed_channels", "email,push") in reported

    reported.clear()
    smtp_settings.refuse_rcpt("ann@example.com", "550 5.1.1 No such user")
    [outcome] = send(make_message(name="emailonly"), limit_to_channels=[ChannelType.EMAIL])  # not raised
    assert outcome.status is DeliveryStatus.FAILED
    [(key, text)] = [(key, value) for key, value in reported if key.endswith("_error")]
    assert key == "email_error" and "550" in text


def test_missing_template_is_reported_and_not_raised(reported):
    [email, push] = send(make_message(name="emailonly"))
    assert (email.status, push.status) == (DeliveryStatus.SENT, DeliveryStatus.TEMPLATE_MISSING)
    [text] = [value for key, value in reported if key == "template_error"]
    assert text.startswith("Unable to send message because template not found\n")


def test_a_template_that_fails_to_render_is_raised_under_the_engine_default(settings, monkeypatch):
    settings.ACE_RAISE_TEMPLATE_ERRORS = True  # the engine's default (this project's settings turn it off)
    seen = []

    def record(sender, message, outcomes, **kwargs):
        seen.extend(outcome.status for outcome in outcomes)

    ACE_MESSAGE_OUTCOMES.connect(record)
    try:
        monkeypatch.setattr("ace.presentation.render", lambda channel, message: (_ for _ in ()).throw(
            TemplateSyntaxError("bad tag")))
        with pytest.raises(TemplateSyntaxError):
            send(make_message(name="emailonly"), limit_to_channels=[ChannelType.EMAIL])
    finally:
        ACE_MESSAGE_OUTCOMES.disconnect(record)
    assert seen == [DeliveryStatus.TEMPLATE_ERROR] and mail.outbox == []

    settings.ACE_RAISE_TEMPLATE_ERRORS = False
    [outcome] = send(make_message(name="emailonly"), limit_to_channels=[ChannelType.EMAIL])
    assert outcome.status is DeliveryStatus.TEMPLATE_ERROR


def test_the_names_edx_ace_code_imports():
    import edx_ace
    from edx_ace import ace as ace_module
    from edx_ace.apps import EdxAceConfig
    from edx_ace.channel import CHANNEL_EXTENSION_NAMESPACE
    from edx_ace.channel.braze import DjangoEmailChannel
    from edx_ace.channel.file import PATH_OVERRIDE_KEY
    from edx_ace.channel.mixins import EmailChannelMixin
    from edx_ace.delivery import MAX_EXPIRATION_DELAY
    from edx_ace.policy import POLICY_PLUGIN_NAMESPACE
    from edx_ace.renderers import PushNotificationRenderer, RenderedPushNotification
    from edx_ace.utils.signals import make_serializable_object, send_ace_message_sent_signal

    assert edx_ace.__version__ == "1.15.0"
    assert EdxAceConfig.name == "ace" and ace_module.log.name == "ace.ace"
    assert (CHANNEL_EXTENSION_NAMESPACE, POLICY_PLUGIN_NAMESPACE) == ("openedx.ace.channel", "openedx.ace.policy")
    assert (PATH_OVERRIDE_KEY, MAX_EXPIRATION_DELAY) == ("output_file_path", 300)
    assert DjangoEmailChannel.__module__ == "ace.channel.django_email"
    assert PushNotificationRenderer.rendered_message_cls is RenderedPushNotification
    assert callable(send_ace_message_sent_signal) and make_serializable_object({"a": {1}}) == {"a": "{1}"}
    assert EmailChannelMixin.get_subject(types.SimpleNamespace(subject=" Hello \n  you ")) == "Hello you"
    assert EmailChannelMixin.make_simple_html_template("<title>t</title>", "<p>b</p>").startswith("<!DOCTYPE html>")


def test_sailthru_in_debug_mode_is_enabled_without_keys_and_sends_nothing(settings, caplog):
    from ace.channel.sailthru import SailthruEmailChannel
    from ace.presentation import render

    settings.ACE_CHANNEL_SAILTHRU_DEBUG = True
    settings.ACE_CHANNEL_SAILTHRU_API_KEY = settings.ACE_CHANNEL_SAILTHRU_API_SECRET = None
    settings.ACE_CHANNEL_SAILTHRU_TEMPLATE_NAME = "ace"
    assert SailthruEmailChannel.enabled()
    channel = SailthruEmailChannel()
    message = make_message(name="emailonly", options={"reply_to": "help@example.org"})
    assert channel.deliver(message, render(channel, message)) == {"sailthru_debug": True}
    settings.ACE_CHANNEL_SAILTHRU_DEBUG = False
    assert not SailthruEmailChannel.enabled()
