"""ace.send: the whole pipeline, judged by what was delivered where."""

import json

import pytest
from django.core import mail

from ace import send
from ace.channel import ChannelType
from ace.errors import InvalidMessageError
from ace.outcome import DeliveryStatus
from ace.signals import ACE_MESSAGE_OUTCOMES, ACE_MESSAGE_SENT
from tests.ace.channels import RecordingEmailChannel, RecordingPushChannel, enabled_channels
from tests.ace.helpers import make_message

pytestmark = pytest.mark.django_db  # the project's DB router and template loader take part in send()


@pytest.fixture
def sent_signals():
    received = []

    def receiver(sender, message, **kwargs):
        received.append((sender, message))

    ACE_MESSAGE_SENT.connect(receiver)
    yield received
    ACE_MESSAGE_SENT.disconnect(receiver)


@pytest.fixture
def outcome_signals():
    received = []

    def receiver(sender, message, outcomes, **kwargs):
        received.append((message, [(o.channel_type, o.status) for o in outcomes]))

    ACE_MESSAGE_OUTCOMES.connect(receiver)
    yield received
    ACE_MESSAGE_OUTCOMES.disconnect(receiver)


def _push_files(folder):
    return sorted(folder.glob("*.json")) if folder.exists() else []


def test_send_delivers_email_and_push(file_channel_dir):
    message = make_message()
    result = send(message)
    assert [(o.channel_type, o.status) for o in result] == [
        (ChannelType.EMAIL, DeliveryStatus.SENT), (ChannelType.PUSH, DeliveryStatus.SENT)]
    assert result.sent
    [email] = mail.outbox
    assert email.to == ["ann@example.com"]
    assert email.subject == "Hello Ann, welcome to Example"
    [push_file] = _push_files(file_channel_dir)
    payload = json.loads(push_file.read_text())
    assert payload == {"lms_user_id": 7, "message_uuid": str(message.uuid), "title": "Hi Ann",
                       "body": "Your code is X1."}


def test_email_is_delivered_before_push(file_channel_dir, sent_signals):
    send(make_message())
    assert [sender.channel_type for sender, _ in sent_signals] == [ChannelType.EMAIL, ChannelType.PUSH]


@pytest.mark.parametrize("limit", [[ChannelType.EMAIL], ("email",), {ChannelType.EMAIL}, ChannelType.EMAIL, "email"])
def test_limit_to_email_skips_push(file_channel_dir, limit):
    result = send(make_message(), limit_to_channels=limit)
    assert [o.channel_type for o in result] == [ChannelType.EMAIL]
    assert len(mail.outbox) == 1
    assert _push_files(file_channel_dir) == []


def test_limit_to_push_skips_email(file_channel_dir):
    result = send(make_message(), limit_to_channels=[ChannelType.PUSH])
    assert [(o.channel_type, o.status) for o in result] == [(ChannelType.PUSH, DeliveryStatus.SENT)]
    assert mail.outbox == []
    assert len(_push_files(file_channel_dir)) == 1


def test_limit_to_nothing_sends_nothing(file_channel_dir):
    assert send(make_message(), limit_to_channels=[]) == []
    assert mail.outbox == []
    assert _push_files(file_channel_dir) == []


def test_limit_to_unknown_channel_type_is_refused(file_channel_dir):
    with pytest.raises(ValueError, match="sms"):
        send(make_message(), limit_to_channels=["sms"])
    assert mail.outbox == []
    assert _push_files(file_channel_dir) == []


def test_missing_push_template_reported_and_email_still_sent(file_channel_dir):
    result = send(make_message(name="emailonly"))
    push = result.for_channel(ChannelType.PUSH)
    assert push.status is DeliveryStatus.TEMPLATE_MISSING
    assert "tests/edx_ace/emailonly/push/title.txt" in push.reason
    assert result.for_channel(ChannelType.EMAIL).status is DeliveryStatus.SENT
    assert [m.subject for m in mail.outbox] == ["Email only for Ann"]
    assert _push_files(file_channel_dir) == []


def test_missing_email_template_reported_and_push_still_sent(file_channel_dir):
    result = send(make_message(name="pushonly"))
    email = result.for_channel(ChannelType.EMAIL)
    assert email.status is DeliveryStatus.TEMPLATE_MISSING
    assert "pushonly/email/subject.txt" in email.reason
    assert mail.outbox == []
    assert len(_push_files(file_channel_dir)) == 1


def test_message_sent_signal_fires_per_successful_delivery(file_channel_dir, sent_signals):
    message = make_message(name="emailonly")
    send(message)
    # As in edx-ace 1.15: the signal carries a JSON-able description of the message.
    [(sender, sent)] = sent_signals
    assert sender.name == "django_email"
    assert (sent["name"], sent["app_label"], sent["uuid"], sent["channel"]) == (
        "emailonly", message.app_label, str(message.uuid), "DjangoEmailChannel")
    assert sent["recipient"] == {"email": message.recipient.email_address, "user_id": message.recipient.lms_user_id}
    json.dumps(sent)


def test_message_sent_signal_not_fired_when_nothing_delivered(sent_signals):
    send(make_message(name="pushonly"), limit_to_channels=[ChannelType.EMAIL])
    assert sent_signals == []


def test_outcomes_signal_once_per_send(file_channel_dir, outcome_signals):
    message = make_message(name="emailonly")
    send(message)
    assert outcome_signals == [(message, [(ChannelType.EMAIL, DeliveryStatus.SENT),
                                          (ChannelType.PUSH, DeliveryStatus.TEMPLATE_MISSING)])]


def test_outcomes_signal_once_even_when_send_raises(outcome_signals):
    message = make_message(email=None)
    with pytest.raises(InvalidMessageError):
        send(message, limit_to_channels=[ChannelType.EMAIL])
    assert outcome_signals == [(message, [(ChannelType.EMAIL, DeliveryStatus.FAILED)])]


def test_transactional_message_goes_to_transactional_channel(settings, file_channel_dir):
    settings.ACE_ENABLED_CHANNELS = ["file_email", "django_email"]
    settings.ACE_CHANNEL_DEFAULT_EMAIL = "file_email"
    settings.ACE_CHANNEL_TRANSACTIONAL_EMAIL = "django_email"

    send(make_message(name="emailonly", options={"transactional": True}))
    assert [m.subject for m in mail.outbox] == ["Email only for Ann"]
    assert not file_channel_dir.exists() or list(file_channel_dir.glob("*.eml")) == []

    result = send(make_message(name="emailonly"))
    assert result.for_channel(ChannelType.EMAIL).channel_name == "file_email"
    assert len(mail.outbox) == 1
    [eml] = file_channel_dir.glob("*.eml")
    assert "Subject: Email only for Ann" in eml.read_text()


def test_channel_that_claims_a_message_delivers_it(settings):
    """The documented case: a default channel claims a transactional message from the transactional one."""
    claimer = RecordingEmailChannel(claims={"greeting"})
    transactional = RecordingEmailChannel()
    settings.ACE_CHANNEL_DEFAULT_EMAIL = "claimer"
    settings.ACE_CHANNEL_TRANSACTIONAL_EMAIL = "transactional"
    with enabled_channels(claimer=claimer, transactional=transactional):
        send(make_message(options={"transactional": True}), limit_to_channels=[ChannelType.EMAIL])
        send(make_message(name="emailonly", options={"transactional": True}), limit_to_channels=[ChannelType.EMAIL])
        send(make_message(name="emailonly"), limit_to_channels=[ChannelType.EMAIL])
    assert [m.name for m, _ in claimer.delivered] == ["greeting", "emailonly"]
    assert [m.name for m, _ in transactional.delivered] == ["emailonly"]
    assert transactional.delivered[0][0].transactional


def test_no_enabled_channel_of_a_type_means_nothing_to_do():
    email = RecordingEmailChannel()
    with enabled_channels(only_email=email):
        result = send(make_message())
    assert [o.channel_type for o in result] == [ChannelType.EMAIL]
    assert len(email.delivered) == 1


def test_send_with_test_channels_renders_every_email_part():
    email, push = RecordingEmailChannel(), RecordingPushChannel()
    with enabled_channels(mail=email, push=push):
        send(make_message())
    [(_, rendered)] = email.delivered
    assert rendered.from_name == "Greeting team of Example"
    assert rendered.subject == "Hello Ann, welcome to Example"
    assert '<meta name="greeting-head" content="Example">' in rendered.head_html
    assert "your code is <b>X1</b>" in rendered.body_html
    assert rendered.body == "Dear Ann, your code is X1 (plain).\n"
    [(_, pushed)] = push.delivered
    assert (pushed.title, pushed.body) == ("Hi Ann", "Your code is X1.")


def test_message_language_is_active_while_rendering(settings, tmp_path):
    from ace.presentation import render

    channel = RecordingEmailChannel()
    (tmp_path / "tests/edx_ace/lang/email").mkdir(parents=True)
    (tmp_path / "tests/edx_ace/lang/email/subject.txt").write_text("{% get_current_language as l %}{{ l }}")
    (tmp_path / "tests/edx_ace/lang/email/body.html").write_text("x")
    settings.TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [tmp_path],
                           "OPTIONS": {"builtins": ["django.templatetags.i18n"]}}]
    assert render(channel, make_message(name="lang", language="fr")).subject == "fr"


@pytest.mark.parametrize("email", [None, "", "not an address"])
def test_recipient_without_valid_email_sends_nothing_on_any_channel(file_channel_dir, outcome_signals, email):
    message = make_message(email=email)
    with pytest.raises(InvalidMessageError, match="email address"):
        send(message)
    assert mail.outbox == []
    assert _push_files(file_channel_dir) == []
    assert outcome_signals == [(message, [(ChannelType.EMAIL, DeliveryStatus.FAILED),
                                          (ChannelType.PUSH, DeliveryStatus.FAILED)])]


def test_recipient_without_email_still_gets_push_when_email_is_not_asked(file_channel_dir):
    result = send(make_message(email=None), limit_to_channels=[ChannelType.PUSH])
    assert result.sent and len(_push_files(file_channel_dir)) == 1


def test_invalid_from_address_option_sends_nothing(file_channel_dir):
    with pytest.raises(InvalidMessageError, match="from address"):
        send(make_message(options={"from_address": "not-an-address"}))
    assert mail.outbox == [] and _push_files(file_channel_dir) == []


def test_a_failing_sent_receiver_does_not_turn_a_delivery_into_an_error(file_channel_dir, outcome_signals):
    def broken(sender, message, **kwargs):
        raise RuntimeError("metrics backend down")

    ACE_MESSAGE_SENT.connect(broken)
    try:
        result = send(make_message(name="emailonly"), limit_to_channels=[ChannelType.EMAIL])
    finally:
        ACE_MESSAGE_SENT.disconnect(broken)
    assert result.sent and len(mail.outbox) == 1
    assert [statuses for _, statuses in outcome_signals] == [[(ChannelType.EMAIL, DeliveryStatus.SENT)]]


def test_sending_something_else_than_a_message_is_refused():
    from ace.message import MessageType

    with pytest.raises(InvalidMessageError, match="personalize"):
        send(MessageType(app_label="tests", name="greeting"))
    assert mail.outbox == []
