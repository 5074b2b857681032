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
