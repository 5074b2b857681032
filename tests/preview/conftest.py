"""Fixtures for the preview tests: the demo content loaded, preview requests."""

from __future__ import annotations

import pytest

from ace.channel import ChannelType
from ace_admin.preview.render import PreviewRequest
from tests.conftest import load_demo


@pytest.fixture
def demo(db):
    """The demo fixture (message types with sample data, French DB templates, routes, a cap, an opt-out)."""
    return load_demo()


@pytest.fixture
def preview_request(demo):
    """``preview_request("newsletter", language="fr", ...)`` -> a PreviewRequest with the type's sample data."""

    def build(name="password_reset", **kwargs):
        message_type = demo[name]
        kwargs.setdefault("context", dict(message_type.sample_context))
        kwargs.setdefault("channel_type", ChannelType.EMAIL)
        return PreviewRequest(message_type=message_type, **kwargs)

    return build
