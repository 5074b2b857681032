"""ace.utils.plugins: stevedore managers over the openedx.ace.* entry points."""

import pytest
from stevedore.enabled import EnabledExtensionManager

from ace.utils.plugins import available_names, check_plugin, get_manager, get_plugins, unknown_names

NAMESPACE = "openedx.ace.policy"


pytestmark = pytest.mark.usefixtures("policy_plugins")


def test_get_plugins_follows_the_order_of_names():
    names = ["tests_deny_push", "tests_deny_everything"]
    assert [ext.name for ext in get_plugins(NAMESPACE, names=names)] == names
    assert [ext.name for ext in get_plugins(NAMESPACE, names=list(reversed(names)))] == list(reversed(names))


def test_get_plugins_instantiates_and_skips_disabled():
    extensions = get_plugins(NAMESPACE, names=["tests_disabled", "tests_deny_push"])
    assert [(ext.name, type(ext.obj).__name__) for ext in extensions] == [("tests_deny_push", "DenyPushPolicy")]


def test_get_plugins_without_names_loads_every_enabled_one_sorted():
    names = [ext.name for ext in get_plugins(NAMESPACE)]
    assert names == sorted(names)
    assert "tests_deny_push" in names and "tests_disabled" not in names


def test_get_manager_ignores_unknown_names():
    assert [ext.name for ext in get_manager(NAMESPACE, names=["tests_deny_push", "nope"])] == ["tests_deny_push"]
    assert unknown_names(NAMESPACE, ["tests_deny_push", "nope"]) == ["nope"]
    assert isinstance(get_manager(NAMESPACE, names=[]), EnabledExtensionManager)


def test_check_plugin():
    manager = get_manager(NAMESPACE, names=["tests_deny_push"])
    [extension] = list(manager)
    assert check_plugin(extension, NAMESPACE) is True
    assert check_plugin(extension, NAMESPACE, names=["tests_deny_push"]) is True
    assert check_plugin(extension, NAMESPACE, names=["something_else"]) is False


def test_available_names_lists_disabled_too():
    assert {"tests_deny_push", "tests_disabled"} <= set(available_names(NAMESPACE))


def test_a_named_plugin_that_cannot_load_is_left_out_as_in_edx_ace():
    assert [ext.name for ext in get_plugins(NAMESPACE, names=["tests_deny_push", "tests_broken"])] == [
        "tests_deny_push"]


def test_plugins_not_named_are_never_imported():
    # tests_broken is installed but cannot be imported: asking for others must not touch it.
    assert [ext.name for ext in get_plugins(NAMESPACE, names=["tests_deny_push"])] == ["tests_deny_push"]


def test_a_broken_plugin_nobody_named_is_skipped_when_loading_all():
    names = [ext.name for ext in get_plugins(NAMESPACE)]
    assert "tests_broken" not in names and "tests_deny_push" in names
