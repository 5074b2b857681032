"""Fixtures shared by the whole suite."""

import pytest

from ace.settings import reload_all


@pytest.fixture(autouse=True)
def _fresh_ace_settings():
    """Every test starts from the settings file, whatever an earlier test cached."""
    reload_all()
    yield
    reload_all()
