"""System checks that tell a project which piece of ace_admin's wiring it left out, naming the setting."""

from __future__ import annotations

import copy
from unittest import mock

from django.conf import settings
from django.core import checks
from django.test import override_settings

from ace_admin.checks import check_moved_paths, check_wiring


def ids(messages) -> set[str]:
    return {message.id for message in messages}


def hints(messages) -> str:
    return " ".join(message.hint or "" for message in messages)


def test_the_project_as_configured_passes():
    assert check_wiring() == [] and check_moved_paths() == []
    assert not [m for m in checks.run_checks(tags=["ace"]) if m.id.startswith("ace_admin.")]


def templates_without_db_loader():
    templates = copy.deepcopy(settings.TEMPLATES)
    for backend in templates:
        loaders = backend.get("OPTIONS", {}).get("loaders") or []
        backend["OPTIONS"]["loaders"] = [loader for loader in loaders if "ace_admin" not in str(loader)]
    return templates


def test_a_missing_template_loader_names_the_setting():
    with override_settings(TEMPLATES=templates_without_db_loader()):
        found = check_wiring()
    assert ids(found) == {"ace_admin.W001"}
    assert "ace_admin.content.loader.Loader" in hints(found) and "TEMPLATES" in hints(found)


def test_a_missing_router_names_the_setting():
    with override_settings(ACE_CHANNEL_ROUTERS=[]):
        found = check_wiring()
    assert ids(found) == {"ace_admin.W002"} and "ACE_CHANNEL_ROUTERS" in hints(found)


def test_missing_preparers_name_the_setting_each():
    with override_settings(ACE_MESSAGE_PREPARERS=["ace_admin.rules.defaults.apply_message_type_defaults"]):
        found = check_wiring()
    assert ids(found) == {"ace_admin.W004"}
    assert "ace_admin.privacy.links.prepare_message" in hints(found) and "ACE_MESSAGE_PREPARERS" in hints(found)
    with override_settings(ACE_MESSAGE_PREPARERS=[]):
        assert ids(check_wiring()) == {"ace_admin.W003", "ace_admin.W004"}


def test_policies_left_out_name_the_setting():
    with override_settings(ACE_ENABLED_POLICIES=[]):
        found = check_wiring()
    assert ids(found) == {"ace_admin.W005"} and "ACE_ENABLED_POLICIES" in hints(found)
    with override_settings(ACE_ENABLED_POLICIES=["ace_admin"]):
        assert check_wiring() == []


def test_an_uninstalled_policy_entry_point_is_reported():
    with mock.patch("ace_admin.checks.entry_points", return_value=[]):
        found = check_wiring()
    assert ids(found) == {"ace_admin.W005"} and "openedx.ace.policy" in hints(found)


def test_a_missing_middleware_names_the_setting():
    middleware = [name for name in settings.MIDDLEWARE if "ace_admin" not in name]
    with override_settings(MIDDLEWARE=middleware):
        found = check_wiring()
    assert ids(found) == {"ace_admin.W006"} and "MIDDLEWARE" in hints(found)


def test_a_missing_email_processor_names_the_setting():
    with override_settings(ACE_RENDERED_MESSAGE_PROCESSORS=[]):
        found = check_wiring()
    assert ids(found) == {"ace_admin.W009"} and "ACE_RENDERED_MESSAGE_PROCESSORS" in hints(found)


def test_missing_public_urls_are_reported():
    with override_settings(ROOT_URLCONF="tests.ace_admin.urls_without_ace_admin"):
        found = check_wiring()
    assert ids(found) == {"ace_admin.W007"} and "ace_admin.urls" in hints(found)


def test_old_paths_still_work_but_are_flagged_with_their_new_place():
    old = ["ace_admin.defaults.apply_message_type_defaults", "ace_admin.unsubscribe.prepare_message"]
    with override_settings(ACE_MESSAGE_PREPARERS=old, ACE_CHANNEL_ROUTERS=["ace_admin.routing.DatabaseRouter"]):
        assert check_wiring() == []  # the alias modules keep the wiring complete
        found = check_moved_paths()
    assert ids(found) == {"ace_admin.W008"} and len(found) == 3
    assert "ace_admin.privacy.links.prepare_message" in hints(found)
    assert "ace_admin.rules.routing.DatabaseRouter" in hints(found)
