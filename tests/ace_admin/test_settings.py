"""The admin app's settings registry: defaults, overrides, and the README table generated from it."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings

import ace_admin
from ace_admin.settings import DEFAULTS, admin_settings, markdown_table

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_and_overrides_are_read_through_the_registry():
    with override_settings(ACE_CAMPAIGN_BATCH_SIZE=7):
        assert admin_settings.ACE_CAMPAIGN_BATCH_SIZE == 7
    with override_settings(ACE_TEST_SEND_LIMIT_PER_HOUR=3):
        assert admin_settings.ACE_TEST_SEND_LIMIT_PER_HOUR == 3
    assert admin_settings.ACE_TEST_SEND_LIMIT_PER_HOUR == settings.ACE_TEST_SEND_LIMIT_PER_HOUR  # reloaded on exit


def test_an_unset_setting_reads_as_its_default():
    try:
        with override_settings():
            del settings.ACE_CAMPAIGN_RATE_LIMITS  # sends no setting_changed: reload by hand
            admin_settings.reload()
            assert admin_settings.ACE_CAMPAIGN_RATE_LIMITS == DEFAULTS["ACE_CAMPAIGN_RATE_LIMITS"] == {}
    finally:
        admin_settings.reload()


def test_an_unknown_setting_is_an_error():
    with pytest.raises(AttributeError, match="ACE_CAMPAIGN_NOPE"):
        admin_settings.ACE_CAMPAIGN_NOPE  # noqa: B018


def test_the_readme_table_is_generated_from_the_registry():
    readme = (ROOT / "README.md").read_text()
    found = re.search(r"<!-- admin-settings:start -->\n(.*?)\n<!-- admin-settings:end -->", readme, re.S)
    assert found, "README.md lost its admin settings table markers"
    assert found.group(1) == markdown_table(), (
        "README.md's admin settings table is out of step with ace_admin/settings.py: replace it with "
        "ace_admin.settings.markdown_table()")


def test_the_admin_app_reads_no_ace_setting_outside_the_registry():
    """Every ACE_* setting is read through admin_settings, never getattr(settings, "ACE_...")."""
    offenders = []
    for path in Path(ace_admin.__file__).parent.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "getattr"
                    and len(node.args) >= 2 and isinstance(node.args[1], ast.Constant)
                    and str(node.args[1].value).startswith("ACE_")):
                offenders.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert not offenders, offenders
