"""The django_email channel, through ace.send, against the locmem outbox and a real SMTP server."""

import email
import email.policy

import pytest
from django.core import mail
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ace import send
from ace.channel import ChannelType, channels
from ace.errors import InvalidMessageError
from ace.outcome import DeliveryStatus
from tests.ace.helpers import make_message

pytestmark = pytest.mark.django_db


class LocmemBox:
    """The locmem outbox, each message parsed from the bytes Django would put on the wire."""

    def __init__(self):
        self.envelopes = []

    @property
    def messages(self):
        return [email.message_from_bytes(m.message().as_bytes(), policy=email.policy.default) for m in mail.outbox]

    @property
    def recipients(self):
        return [m.recipients() for m in mail.outbox]


class SmtpBox:
    def __init__(self, server):
        self.server = server

    @property
    def messages(self):
        return [item.message for item in self.server.messages]

    @property
    def recipients(self):
        return [item.rcpt_tos for item in self.server.messages]


@pytest.fixture(params=["locmem", "smtp"])
def mailbox(request):
    if request.param == "locmem":
        return LocmemBox()
    return SmtpBox(request.getfixturevalue("smtp_settings"))


def _send_email(message):
    return send(message, limit_to_channels=[ChannelType.EMAIL])


def _parts(parsed):
    text = parsed.get_body(preferencelist=("plain",)).get_content()
    html = parsed.get_body(preferencelist=("html",)).get_content()
    return text, html


def test_full_email(mailbox, settings):
    settings.DEFAULT_FROM_EMAIL = "no-reply@example.org"  # no display name: from_name.txt gives it
    message = make_message()
    [outcome] = _send_email(message)
    assert (outcome.status, outcome.channel_name) == (DeliveryStatus.SENT, "django_email")
    [parsed] = mailbox.messages
    assert mailbox.recipients == [["ann@example.com"]]
    assert parsed["To"] == "ann@example.com"
    assert parsed["From"].addresses[0].display_name == "Greeting team of Example"
    assert parsed["From"].addresses[0].addr_spec == "no-reply@example.org"
    assert parsed["Subject"] == "Hello Ann, welcome to Example"
    assert parsed["X-ACE-Message-ID"] == str(message.uuid)
    assert parsed.get_content_type() == "multipart/alternative"
    text, html = _parts(parsed)
    assert text.strip() == "Dear Ann, your code is X1 (plain)."
    assert '<meta name="greeting-head" content="Example">' in html
    assert html.index("greeting-head") < html.index("<body>") < html.index("your code is <b>X1</b>")


def test_text_part_derived_from_html_when_body_txt_missing(mailbox):
    _send_email(make_message(name="htmlonly"))
    [parsed] = mailbox.messages
    text, html = _parts(parsed)
    assert "<h1>Title for Ann</h1>" in html
    assert text.split() == "Title for Ann First paragraph & more. Second link (https://example.org/x).".split()
    assert "<" not in text


def test_from_address_and_reply_to_options(mailbox):
    _send_email(make_message(options={"from_address": "Shop <shop@example.org>", "reply_to": "help@example.org"}))
    _send_email(make_message(options={"from_address": "shop@example.org"}))
    first, second = mailbox.messages
    # A display name written in from_address wins over from_name.txt (Open edX sets its platform alias there);
    # from_name.txt names a bare address.
    assert (first["From"].addresses[0].display_name, first["From"].addresses[0].addr_spec) == (
        "Shop", "shop@example.org")
    assert first["Reply-To"] == "help@example.org"
    assert second["From"].addresses[0].display_name == "Greeting team of Example"


def test_default_from_name_without_from_name_template(mailbox):
    _send_email(make_message(name="emailonly"))
    [parsed] = mailbox.messages
    sender = parsed["From"].addresses[0]
    assert (sender.display_name, sender.addr_spec) == ("ACE Tests", "no-reply@example.org")
    assert "Reply-To" not in parsed


def test_ampersands_in_subject_and_from_name_are_not_html_escaped(mailbox, settings):
    settings.DEFAULT_FROM_EMAIL = "no-reply@example.org"  # no display name: from_name.txt gives it
    _send_email(make_message(context={"first_name": "Tom & Jerry", "site": "R&D"}))
    [parsed] = mailbox.messages
    assert parsed["Subject"] == "Hello Tom & Jerry, welcome to R&D"
    assert parsed["From"].addresses[0].display_name == "Greeting team of R&D"
    text, html = _parts(parsed)
    assert "Dear Tom & Jerry" in text and "Dear Tom &amp; Jerry" in html


def test_non_ascii_content_survives(mailbox, settings):
    settings.DEFAULT_FROM_EMAIL = "no-reply@example.org"  # no display name: from_name.txt gives it
    _send_email(make_message(context={"first_name": "Zoë Łukasz", "site": "Café ☕"}))
    [parsed] = mailbox.messages
    assert parsed["Subject"] == "Hello Zoë Łukasz, welcome to Café ☕"
    assert parsed["From"].addresses[0].display_name == "Greeting team of Café ☕"
    assert "Dear Zoë Łukasz" in _parts(parsed)[0]


@pytest.mark.parametrize("evil_subject,evil_name", [
    ("Hi\r\nBcc: victim@example.com", "Bob\r\nX-Evil: 1"),
    ("Hi\nBcc: victim@example.com\n\nbody", "Bob\nBcc: victim@example.com"),
    ("Hi\rX-Evil: 1", 'Eve" <evil@attacker.example>, "x'),
    ("=?utf-8?q?Hi=0D=0ABcc=3A_victim=40example=2Ecom?=", "Mallory <evil@attacker.example>"),
])
def test_header_injection_cannot_add_headers_or_recipients(mailbox, evil_subject, evil_name):
    outcomes = _send_email(make_message(name="headerinject",
                                        context={"evil_subject": evil_subject, "evil_name": evil_name}))
    assert outcomes[0].status is DeliveryStatus.SENT
    [parsed] = mailbox.messages
    assert mailbox.recipients == [["ann@example.com"]]
    assert "Bcc" not in parsed and "X-Evil" not in parsed
    assert [a.addr_spec for a in parsed["From"].addresses] == ["no-reply@example.org"]
    if "=?" not in evil_subject:  # a literal encoded word is decoded by the reader, but stays one header
        assert "\n" not in str(parsed["Subject"]) and "\r" not in str(parsed["Subject"])


def test_recipient_without_email_is_refused_and_nothing_sent(mailbox):
    with pytest.raises(InvalidMessageError, match="no email address"):
        _send_email(make_message(email=None))
    with pytest.raises(InvalidMessageError, match="not a valid email address"):
        _send_email(make_message(email="not an address"))
    assert mailbox.messages == []


def test_message_without_recipient_is_refused(mailbox):
    message = make_message()
    message.recipient = None
    with pytest.raises(InvalidMessageError):
        _send_email(message)
    assert mailbox.messages == []


def test_invalid_from_address_option_is_refused(mailbox):
    with pytest.raises(InvalidMessageError, match="from address"):
        _send_email(make_message(options={"from_address": "nobody"}))
    assert mailbox.messages == []


def test_batch_reuses_one_connection_over_smtp(smtp_settings):
    from ace.presentation import render

    channel = channels().get_channel_by_name(ChannelType.EMAIL, "django_email")
    first, second = make_message(email="a@example.com"), make_message(email="b@example.com")
    with channel.batch():
        for message in (first, second):
            channel.deliver(message, render(channel, message))
    assert [item.rcpt_tos for item in smtp_settings.messages] == [["a@example.com"], ["b@example.com"]]
    first_peer, second_peer = (item.peer for item in smtp_settings.messages)
    assert first_peer and first_peer == second_peer
    for message in (first, second):  # outside a batch, one connection per message
        channel.deliver(message, render(channel, message))
    assert len({item.peer for item in smtp_settings.messages[2:]}) == 2


def test_enabled_is_always_true():
    from ace.channel.django_email import DjangoEmailChannel

    assert DjangoEmailChannel.enabled() is True


def test_head_html_lands_in_the_head_of_a_whole_document_body(mailbox):
    _send_email(make_message(name="fulldoc"))
    [parsed] = mailbox.messages
    html = _parts(parsed)[1]
    assert html.count("<html") == 1 and html.count("<head>") == 1
    assert html.index("<title>Layout</title>") < html.index(".brand { color: red; }") < html.index("</head>")
    assert "Layout body for Ann" in html


def test_from_address_option_of_the_wrong_type_is_refused(mailbox):
    with pytest.raises(InvalidMessageError, match="from address"):
        _send_email(make_message(options={"from_address": ["a@example.org"]}))
    assert mailbox.messages == []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(subject=st.text(min_size=1, max_size=80), from_name=st.text(max_size=60))
def test_no_subject_or_from_name_can_add_a_header_or_recipient(subject, from_name):
    """Whatever a template renders into the subject or from name, the email keeps the same headers and the
    same single recipient."""
    mail.outbox.clear()
    outcomes = _send_email(make_message(name="headerinject", context={"evil_subject": subject,
                                                                      "evil_name": from_name}))
    if not outcomes[0].sent:  # e.g. a subject of only spaces renders empty; never a partial send
        assert mail.outbox == []
        return
    [sent] = mail.outbox
    parsed = email.message_from_bytes(sent.message().as_bytes(), policy=email.policy.default)
    assert sent.recipients() == ["ann@example.com"]
    assert {key.lower() for key in parsed.keys()} == {
        "subject", "from", "to", "date", "message-id", "mime-version", "content-type", "x-ace-message-id"}
    assert [a.addr_spec for a in parsed["From"].addresses] == ["no-reply@example.org"]


def test_batch_keeps_one_connection_after_the_server_drops_it(smtp_settings):
    from ace.errors import RecoverableChannelDeliveryError
    from ace.presentation import render

    channel = channels().get_channel_by_name(ChannelType.EMAIL, "django_email")
    first, second, third = (make_message(email=f"{name}@example.com") for name in ("a", "b", "c"))
    smtp_settings.refuse_next_rcpt("421 4.3.2 Closing, try later", 1)
    with channel.batch():
        with pytest.raises(RecoverableChannelDeliveryError):
            channel.deliver(first, render(channel, first))
        for message in (second, third):  # no needless failure: the batch reconnects once, then reuses it
            channel.deliver(message, render(channel, message))
    assert [item.rcpt_tos for item in smtp_settings.messages] == [["b@example.com"], ["c@example.com"]]
    second_peer, third_peer = (item.peer for item in smtp_settings.messages)
    assert second_peer and second_peer == third_peer
