"""Fixtures of the engine tests."""

import pytest
from stevedore.extension import ExtensionManager

from tests.ace.plugins import write_distribution


@pytest.fixture
def policy_plugins(tmp_path, monkeypatch):
    """Install the test policies (tests/ace/plugins.py) as a real distribution with entry points."""
    # stevedore keeps each namespace's entry points for the life of the process: start from an empty
    # cache so the new distribution is seen, and drop it afterwards so it does not outlive the test.
    monkeypatch.setattr(ExtensionManager, "ENTRY_POINT_CACHE", {})
    monkeypatch.syspath_prepend(str(write_distribution(tmp_path / "site")))


@pytest.fixture(autouse=True)
def _engine_only(settings):
    """Engine tests run the engine alone, as a project without ace_admin would: no policy plug-in, router or
    message preparer unless a test enables one (ace_admin's own tests cover the ones it plugs in)."""
    settings.ACE_ENABLED_POLICIES = []
    settings.ACE_CHANNEL_ROUTERS = []
    settings.ACE_MESSAGE_PREPARERS = []
    settings.ACE_RETRY_HANDLER = None  # the engine's default: ace.send retries itself (edx-ace's behaviour)
