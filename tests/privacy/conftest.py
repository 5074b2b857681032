"""Fixtures for the privacy tests: a marketing and a transactional message type with DB templates that
show the unsubscribe and preference links, and helpers to send and to read what was delivered."""

from __future__ import annotations

import pytest

from ace.message import Message
from ace.recipient import Recipient
from tests.ace_admin.conftest import html_of, send_email  # noqa: F401  (shared helpers, used by the tests here)
from tests.factories import MessageTypeFactory, TemplateFactory

APP = "privacy_tests"
BODY = ("<p>Hello {{ first_name }}</p>"
        "{% if unsubscribe_url %}<p><a href=\"{{ unsubscribe_url }}\">Unsubscribe</a></p>{% endif %}"
        "<p><a href=\"{{ preferences_url }}\">Preferences</a></p>")



@pytest.fixture
def message_types(db):
    """news (category newsletter), offers (category offers), receipt (transactional, category account)."""

    types = {
        "news": MessageTypeFactory(app_label=APP, name="news", category="newsletter"),
        "offers": MessageTypeFactory(app_label=APP, name="offers", category="offers"),
        "receipt": MessageTypeFactory(app_label=APP, name="receipt", category="account", transactional=True),
    }
    for name in types:
        TemplateFactory(name=f"{APP}/edx_ace/{name}/email/subject.txt", content=f"{name} subject")
        TemplateFactory(name=f"{APP}/edx_ace/{name}/email/body.html", content=BODY)
    return types


def make_message(name="news", *, user_id=7, email="ann@example.com", language=None, options=None) -> Message:
    return Message(app_label=APP, name=name, recipient=Recipient(user_id, email), language=language,
                   options=options or {}, context={"first_name": "Ann"})


def path_of(url: str) -> str:
    """The path of an absolute link from an email (the test client takes paths)."""
    from urllib.parse import urlsplit

    return urlsplit(url).path


def unsubscribe_link(email) -> str:
    """The https URL of the List-Unsubscribe header."""
    value = email.extra_headers["List-Unsubscribe"]
    return value.split(",")[0].strip().strip("<>")


def log_rows(**filters):
    from ace_admin.models import DeliveryLog

    return list(DeliveryLog.objects.filter(**filters).order_by("id"))
