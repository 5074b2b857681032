"""Every name in chapter 4 of the edx-ace 1.5.0 documentation imports from ``ace.*`` and ``edx_ace.*``."""

import importlib
from unittest import mock

import pytest
from django.core import mail

from ace.settings import DEFAULTS

#: Every documented module (the documentation's module index), under its edx_ace name.
MODULES = [
    "edx_ace",
    "edx_ace.ace",
    "edx_ace.channel",
    "edx_ace.channel.django_email",
    "edx_ace.channel.sailthru",
    "edx_ace.delivery",
    "edx_ace.errors",
    "edx_ace.message",
    "edx_ace.monitoring",
    "edx_ace.policy",
    "edx_ace.presentation",
    "edx_ace.recipient",
    "edx_ace.recipient_resolver",
    "edx_ace.renderers",
    "edx_ace.serialization",
    "edx_ace.test_utils",
    "edx_ace.utils",
    "edx_ace.utils.date",
    "edx_ace.utils.once",
    "edx_ace.utils.plugins",
]

#: Every documented name (the documentation's general index): module -> dotted names inside it.
NAMES = {
    "edx_ace": [
        "Channel", "Channel.channel_type", "Channel.deliver", "Channel.enabled",
        "Channel.overrides_delivery_for_message",
        "ChannelType", "ChannelType.EMAIL", "ChannelType.PUSH",
        "Message", "Message.default_context_value", "Message.default_options_value", "Message.generate_uuid",
        "Message.get_message_specific_logger", "Message.log_id", "Message.report", "Message.report_basics",
        "Message.unique_name",
        "MessageType", "MessageType.APP_LABEL", "MessageType.NAME", "MessageType.default_app_label",
        "MessageType.default_context_value", "MessageType.default_name", "MessageType.default_options_value",
        "MessageType.generate_uuid", "MessageType.personalize",
        "Policy", "Policy.check", "Policy.enabled",
        "PolicyResult", "PolicyResult.check_set_of_channel_types",
        "Recipient", "RecipientResolver", "RecipientResolver.send", "send",
    ],
    "edx_ace.ace": ["send"],
    "edx_ace.channel": [
        "Channel", "Channel.channel_type", "Channel.deliver", "Channel.enabled",
        "Channel.overrides_delivery_for_message",
        "ChannelMap", "ChannelMap.get_channel_by_name", "ChannelMap.get_default_channel",
        "ChannelMap.register_channel", "ChannelType", "ChannelType.EMAIL", "ChannelType.PUSH", "channels",
        "get_channel_for_message",
    ],
    "edx_ace.channel.sailthru": [
        "RecoverableErrorCodes", "RecoverableErrorCodes.INTERNAL_ERROR", "RecoverableErrorCodes.RATE_LIMIT",
        "ResponseHeaders", "ResponseHeaders.RATE_LIMIT_REMAINING", "ResponseHeaders.RATE_LIMIT_RESET",
        "SailthruEmailChannel", "SailthruEmailChannel.action_links", "SailthruEmailChannel.channel_type",
        "SailthruEmailChannel.deliver", "SailthruEmailChannel.enabled", "SailthruEmailChannel.get_action_links",
        "SailthruEmailChannel.tracker_image_sources",
    ],
    "edx_ace.channel.django_email": ["DjangoEmailChannel", "DjangoEmailChannel.deliver", "DjangoEmailChannel.enabled"],
    "edx_ace.errors": [
        "ChannelError", "FatalChannelDeliveryError", "InvalidMessageError", "RecoverableChannelDeliveryError",
        "UnsupportedChannelError",
    ],
    "edx_ace.message": [
        "Message", "Message.default_context_value", "Message.default_options_value", "Message.generate_uuid",
        "Message.get_message_specific_logger", "Message.log_id", "Message.report", "Message.report_basics",
        "Message.unique_name",
        "MessageLoggingAdapter", "MessageLoggingAdapter.debug", "MessageLoggingAdapter.process",
        "MessageType", "MessageType.APP_LABEL", "MessageType.NAME", "MessageType.default_app_label",
        "MessageType.default_context_value", "MessageType.default_name", "MessageType.default_options_value",
        "MessageType.generate_uuid", "MessageType.personalize",
    ],
    "edx_ace.monitoring": ["report", "report_to_newrelic"],
    "edx_ace.policy": [
        "Policy", "Policy.check", "Policy.enabled", "PolicyResult", "PolicyResult.check_set_of_channel_types",
        "channels_for", "policies",
    ],
    "edx_ace.renderers": [
        "AbstractRenderer", "AbstractRenderer.get_template_for_message", "AbstractRenderer.render",
        "AbstractRenderer.rendered_message_cls", "EmailRenderer", "EmailRenderer.rendered_message_cls",
        "RenderedEmail",
    ],
    "edx_ace.presentation": ["render"],
    "edx_ace.recipient": ["Recipient"],
    "edx_ace.recipient_resolver": ["RecipientResolver", "RecipientResolver.send"],
    "edx_ace.serialization": [
        "MessageAttributeSerializationMixin", "MessageAttributeSerializationMixin.from_string",
        "MessageAttributeSerializationMixin.to_json", "MessageEncoder", "MessageEncoder.default",
    ],
    "edx_ace.utils.date": ["deserialize", "get_current_time", "serialize"],
    "edx_ace.utils.once": ["once"],
    "edx_ace.utils.plugins": ["check_plugin", "get_manager", "get_plugins"],
    "edx_ace.test_utils": ["StubPolicy", "StubPolicy.check", "patch_policies"],
    "edx_ace.delivery": ["deliver"],
}

#: The Django settings the documentation's chapter 4 names.
SETTINGS = [
    "ACE_ENABLED_CHANNELS",
    "ACE_CHANNEL_DEFAULT_EMAIL",
    "ACE_CHANNEL_TRANSACTIONAL_EMAIL",
    "ACE_CHANNEL_SAILTHRU_DEBUG",
    "ACE_CHANNEL_SAILTHRU_TEMPLATE_NAME",
    "ACE_CHANNEL_SAILTHRU_API_KEY",
    "ACE_CHANNEL_SAILTHRU_API_SECRET",
]


def _ace_name(edx_name: str) -> str:
    return "ace" + edx_name[len("edx_ace"):]


def _resolve(obj, dotted):
    for part in dotted.split("."):
        obj = getattr(obj, part)
    return obj


def test_every_documented_module_is_listed_with_names():
    assert set(NAMES) <= set(MODULES)


@pytest.mark.parametrize("edx_name", MODULES)
def test_edx_ace_module_is_the_ace_module(edx_name):
    edx_module = importlib.import_module(edx_name)
    ace_module = importlib.import_module(_ace_name(edx_name))
    if edx_name == "edx_ace":
        # The package itself is a separate module object that re-exports the ace package's names.
        assert edx_module is not ace_module
    else:
        assert edx_module is ace_module
        assert _resolve(importlib.import_module("edx_ace"), edx_name[len("edx_ace."):]) is ace_module


@pytest.mark.parametrize(
    "edx_module,name", [(module, name) for module, names in NAMES.items() for name in names],
)
def test_documented_name_imports_from_both(edx_module, name):
    from_edx = _resolve(importlib.import_module(edx_module), name)
    from_ace = _resolve(importlib.import_module(_ace_name(edx_module)), name)
    assert from_edx is from_ace or from_edx == from_ace


def test_from_import_statements_work():
    import ace.ace
    import ace.channel.django_email
    import ace.channel.sailthru
    import ace.message
    from edx_ace import ace as edx_ace_module
    from edx_ace.channel.django_email import DjangoEmailChannel
    from edx_ace.channel.sailthru import SailthruEmailChannel
    from edx_ace.messages import Message  # the spelling the documentation's examples use

    assert edx_ace_module is ace.ace
    assert edx_ace_module.send is ace.ace.send
    assert Message is ace.message.Message
    assert DjangoEmailChannel is ace.channel.django_email.DjangoEmailChannel
    assert SailthruEmailChannel is ace.channel.sailthru.SailthruEmailChannel


@pytest.mark.parametrize("setting", SETTINGS)
def test_documented_setting_is_read_by_ace(setting):
    from ace.settings import ace_settings

    assert setting in DEFAULTS
    getattr(ace_settings, setting)  # readable, with its default


def test_documented_setting_values_are_honoured(settings):
    from ace.channel import channels

    settings.ACE_ENABLED_CHANNELS = ["django_email"]
    assert channels().names() == ["django_email"]


@pytest.mark.django_db
def test_patching_edx_ace_policy_affects_ace_send():
    """Code written for edx-ace patches ``edx_ace.policy.policies``; ``ace.send`` must see it."""
    from edx_ace import ace as edx_ace_module
    from edx_ace.channel import ChannelType
    from edx_ace.message import Message
    from edx_ace.recipient import Recipient
    from edx_ace.test_utils import StubPolicy

    message = Message(app_label="tests", name="emailonly", recipient=Recipient(1, "a@example.com"))
    with mock.patch("edx_ace.policy.policies", return_value=[StubPolicy([ChannelType.EMAIL])]):
        result = edx_ace_module.send(message)
    assert mail.outbox == []
    assert not result.sent
    edx_ace_module.send(message)
    assert [m.to for m in mail.outbox] == [["a@example.com"]]


@pytest.mark.django_db
def test_documentation_examples_run_unchanged():
    """Chapter 1's examples, as written (edx_ace.messages, Recipient(email=...), personalize(context=...))."""
    from edx_ace import ace
    from edx_ace.message import MessageType
    from edx_ace.messages import Message
    from edx_ace.recipient import Recipient

    msg = Message(
        name="greeting",
        app_label="tests",
        recipient=Recipient(lms_user_id="123456", email="a_user@example.com"),
        language="en",
        context={"first_name": "Ann", "site": "Example", "code": "A"},
    )
    ace.send(msg, limit_to_channels=[])  # nothing asked, nothing sent
    assert mail.outbox == []
    ace.send(msg)

    class TestMessage(MessageType):
        APP_LABEL = "tests"  # Optional
        NAME = "greeting"  # Optional

    msg_type = TestMessage(context={"site": "Example"})
    for recipient in [Recipient(1, "b@example.com"), Recipient(2, "c@example.com")]:
        ace.send(msg_type.personalize(recipient=recipient, language="en",
                                      context={"first_name": "Bo", "code": "B"}))
    assert [(m.to, m.subject) for m in mail.outbox] == [
        (["a_user@example.com"], "Hello Ann, welcome to Example"),
        (["b@example.com"], "Hello Bo, welcome to Example"),
        (["c@example.com"], "Hello Bo, welcome to Example"),
    ]


@pytest.mark.django_db
def test_recipient_resolver_pattern():
    from edx_ace import RecipientResolver, ace
    from edx_ace.message import MessageType
    from edx_ace.recipient import Recipient

    class Everyone(RecipientResolver):
        def __init__(self, people):
            self.people = people

        def send(self, msg_type, *args, **kwargs):
            for user_id, address, name in self.people:
                ace.send(msg_type.personalize(Recipient(user_id, address), "en", {"first_name": name}))

    with pytest.raises(TypeError):
        RecipientResolver()
    Everyone([(1, "a@example.com", "A"), (2, "b@example.com", "B")]).send(
        MessageType(app_label="tests", name="emailonly"))
    assert [(m.to, m.subject) for m in mail.outbox] == [(["a@example.com"], "Email only for A"),
                                                         (["b@example.com"], "Email only for B")]


@pytest.mark.django_db
def test_patching_documented_steps_affects_send():
    """send() goes through policy.channels_for, get_channel_for_message, presentation.render and
    delivery.deliver, so tests written for edx-ace that patch them keep working."""
    from edx_ace import ace as edx_ace_module
    from edx_ace.channel import ChannelType
    from edx_ace.outcome import DeliveryStatus
    from tests.ace.helpers import make_message

    message = make_message(name="emailonly")
    with mock.patch("edx_ace.policy.channels_for", return_value={ChannelType.PUSH}):
        result = edx_ace_module.send(message, limit_to_channels=[ChannelType.EMAIL])
    assert [(o.status, o.reason) for o in result] == [(DeliveryStatus.DENIED, "policy")]
    assert mail.outbox == []

    with mock.patch("edx_ace.delivery.deliver", return_value=None) as deliver:
        result = edx_ace_module.send(message, limit_to_channels=[ChannelType.EMAIL])
    [(channel, rendered, sent)] = [call.args for call in deliver.call_args_list]
    assert (channel.name, rendered.subject, sent) == ("django_email", "Email only for Ann", message)
    assert result.sent and mail.outbox == []

    with mock.patch("edx_ace.presentation.render", side_effect=RuntimeError("boom")):
        result = edx_ace_module.send(message, limit_to_channels=[ChannelType.EMAIL])
    assert [o.status for o in result] == [DeliveryStatus.TEMPLATE_ERROR] and mail.outbox == []

    with mock.patch("edx_ace.ace.get_channel_for_message") as choose:
        choose.return_value.channel_type = ChannelType.EMAIL
        choose.return_value.name = "stand_in"
        edx_ace_module.send(message, limit_to_channels=[ChannelType.EMAIL])
    choose.assert_called_once_with(ChannelType.EMAIL, message)
    choose.return_value.deliver.assert_called_once()
    assert mail.outbox == []
