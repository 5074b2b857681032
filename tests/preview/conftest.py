"""Fixtures for the preview tests: the demo content loaded, a fresh shared stamp, preview requests."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from ace.channel import ChannelType
from ace_admin import stamp
from ace_admin.preview.render import PreviewRequest


@pytest.fixture(autouse=True)
def _fresh_stamp():
    # Rolled-back transactions do not bump the stamp; without this a loader could keep an earlier test's rows.
    stamp.bump_templates()
    yield
    stamp.bump_templates()


@pytest.fixture
def demo(db):
    """The demo fixture (message types with sample data, French DB templates, routes, a cap, an opt-out)."""
    call_command("loaddata", "fixtures/demo.json", verbosity=0)
    from ace_admin.models import MessageType

    return {message_type.name: message_type for message_type in MessageType.objects.filter(app_label="demo")}


@pytest.fixture
def preview_request(demo):
    """``preview_request("newsletter", language="fr", ...)`` -> a PreviewRequest with the type's sample data."""

    def build(name="password_reset", **kwargs):
        message_type = demo[name]
        kwargs.setdefault("context", dict(message_type.sample_context))
        kwargs.setdefault("channel_type", ChannelType.EMAIL)
        return PreviewRequest(message_type=message_type, **kwargs)

    return build
