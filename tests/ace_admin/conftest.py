"""Fixtures for the ace_admin tests: message and template builders."""

from __future__ import annotations

import pytest
from django.core import mail

from ace import ace
from ace.channel import ChannelType
from ace.message import Message
from ace.recipient import Recipient
from tests.factories import TemplateFactory


def make_message(name="welcome", *, app_label="ace_admin_tests", user_id=7, email="ann@example.com",
                 language=None, options=None, context=None) -> Message:
    """A message whose file templates live under tests/ace_admin/templates/."""
    return Message(app_label=app_label, name=name, recipient=Recipient(user_id, email), language=language,
                   options=options or {}, context={"first_name": "Ann", **(context or {})})


def send_email(message):
    """``ace.send`` over email only; returns ``(result, delivered email or None)``."""
    before = len(mail.outbox)
    result = ace.send(message, limit_to_channels=[ChannelType.EMAIL])
    delivered = mail.outbox[before:]
    assert len(delivered) <= 1
    return result, (delivered[0] if delivered else None)


def html_of(email) -> str:
    return next(content for content, kind in email.alternatives if kind == "text/html")


@pytest.fixture
def db_template(db):
    """Save a DB template: ``db_template(name, content, language="", site=None)``."""

    def create(name, content, language="", site=None, **fields):
        return TemplateFactory(name=name, content=content, language=language, site=site, **fields)

    return create
