"""Fixtures for the events tests: a marketing and a transactional message type with links, and sent messages."""

from __future__ import annotations

import pytest
from django.core import mail

from ace import ace
from ace.channel import ChannelType
from ace.message import Message
from ace.recipient import Recipient
from ace_admin.models import DeliveryLog
from tests.factories import MessageTypeFactory, TemplateFactory

APP = "events_tests"
BODY = ('<html><body><p>Hello {{ first_name }}</p>'
        '<p><a href="https://shop.example.org/spring?a=1&amp;b=2">Spring sale</a> '
        '<a class="btn" href="https://example.org/blog">Blog</a> <a href="mailto:help@example.org">Help</a></p>'
        '{% if unsubscribe_url %}<p><a href="{{ unsubscribe_url }}">Unsubscribe</a></p>{% endif %}'
        '</body></html>')


@pytest.fixture
def event_types(db):
    """news (tracked, category newsletter) and receipt (transactional, category account)."""
    types = {
        "news": MessageTypeFactory(app_label=APP, name="news", category="newsletter", engagement_tracking="on"),
        "receipt": MessageTypeFactory(app_label=APP, name="receipt", category="account", transactional=True),
    }
    for name in types:
        TemplateFactory(name=f"{APP}/edx_ace/{name}/email/subject.txt", content=f"{name} subject")
        TemplateFactory(name=f"{APP}/edx_ace/{name}/email/body.html", content=BODY)
    return types


def make_message(name="news", *, user_id=7, email="ann@example.com", language="en") -> Message:
    return Message(app_label=APP, name=name, recipient=Recipient(user_id, email), language=language,
                   context={"first_name": "Ann"})


@pytest.fixture
def sent(event_types):
    """``sent(name="news", email=...)``: send one email (locmem); returns (delivery-log row, django email)."""

    def send(name="news", email="ann@example.com", **kwargs):
        message = make_message(name, email=email, **kwargs)
        before = len(mail.outbox)
        result = ace.send(message, limit_to_channels=[ChannelType.EMAIL])
        assert result.sent
        row = DeliveryLog.objects.get(message_uuid=message.uuid, channel_type="email")
        return row, mail.outbox[before]

    return send
