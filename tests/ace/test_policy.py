"""Policies: loaded from the openedx.ace.policy entry points, chosen by ACE_ENABLED_POLICIES."""

import unittest

import pytest
from django.core import mail
from django.core.management import call_command
from django.test import TestCase

from ace import send
from ace.channel import ChannelType
from ace.outcome import DeliveryStatus
from ace.policy import PolicyResult, channels_for, policies
from ace.test_utils import StubPolicy, patch_policies
from tests.ace.helpers import make_message

pytestmark = pytest.mark.django_db




def _push_files(folder):
    return list(folder.glob("*.json")) if folder.exists() else []


def test_entry_point_policy_denies_push_and_outcome_names_it(settings, policy_plugins, file_channel_dir):
    settings.ACE_ENABLED_POLICIES = ["tests_deny_push"]
    result = send(make_message(context={"no_push": True}))
    push = result.for_channel(ChannelType.PUSH)
    assert (push.status, push.reason) == (DeliveryStatus.DENIED, "tests_deny_push")
    assert push.details == {"policy_reason": "the recipient turned push off"}
    assert _push_files(file_channel_dir) == []
    assert len(mail.outbox) == 1

    result = send(make_message())
    assert result.for_channel(ChannelType.PUSH).status is DeliveryStatus.SENT
    assert len(_push_files(file_channel_dir)) == 1


def test_enabled_policies_follow_the_setting_order(settings, policy_plugins):
    settings.ACE_ENABLED_POLICIES = ["tests_deny_everything", "tests_deny_push"]
    assert [p.name for p in policies()] == ["tests_deny_everything", "tests_deny_push"]
    result = send(make_message(context={"no_push": True}))
    assert {o.reason for o in result} == {"tests_deny_everything"}  # the first denying policy is named
    assert mail.outbox == []


def test_no_enabled_policies_allows_everything(settings, policy_plugins, file_channel_dir):
    settings.ACE_ENABLED_POLICIES = []
    assert policies() == []
    assert channels_for(make_message(context={"no_push": True})) == {ChannelType.EMAIL, ChannelType.PUSH}


def test_no_policy_when_setting_unset_as_in_edx_ace(settings, policy_plugins):
    del settings.ACE_ENABLED_POLICIES
    assert policies() == []


def test_every_installed_enabled_policy_when_setting_is_none(settings, policy_plugins):
    settings.ACE_ENABLED_POLICIES = None
    names = [p.name for p in policies()]
    assert {"tests_deny_push", "tests_deny_everything"} <= set(names)
    assert "tests_disabled" not in names


def test_policy_whose_enabled_is_false_is_not_loaded(settings, policy_plugins):
    settings.ACE_ENABLED_POLICIES = ["tests_disabled"]
    assert policies() == []


def test_unknown_policy_name_is_ignored_with_a_check_warning(settings, policy_plugins):
    from django.core import checks

    settings.ACE_ENABLED_POLICIES = ["tests_deny_push", "no_such_policy"]
    assert [p.name for p in policies()] == ["tests_deny_push"]
    send(make_message(), limit_to_channels=[ChannelType.EMAIL])
    assert len(mail.outbox) == 1
    messages = [f"{m.id} {m.msg}" for m in checks.run_checks(tags=["ace"])]
    assert any(m.startswith("ace.W003 ACE_ENABLED_POLICIES names 'no_such_policy'") for m in messages)
    call_command("check")  # a warning, not an error


def test_policy_denying_a_string_is_refused_and_nothing_sent(settings, policy_plugins, file_channel_dir):
    settings.ACE_ENABLED_POLICIES = ["tests_string_deny"]
    with pytest.raises(TypeError, match="ChannelType"):
        send(make_message())
    assert mail.outbox == []
    assert _push_files(file_channel_dir) == []


def test_policy_returning_something_else_is_refused(settings, policy_plugins, file_channel_dir):
    settings.ACE_ENABLED_POLICIES = ["tests_not_a_result"]
    with pytest.raises(TypeError, match="tests_not_a_result.*PolicyResult"):
        send(make_message())
    assert mail.outbox == []
    assert _push_files(file_channel_dir) == []


@pytest.mark.parametrize("deny", [{"email"}, {None}, {1}])
def test_policy_result_accepts_only_channel_types(deny):
    with pytest.raises(TypeError, match="ChannelType"):
        PolicyResult(deny=deny)
    assert PolicyResult(deny={ChannelType.EMAIL}).deny == {ChannelType.EMAIL}
    assert PolicyResult().deny == frozenset()


def test_patch_policies_with_pytest_request(request, file_channel_dir):
    patch_policies(request, [StubPolicy([ChannelType.EMAIL])])
    result = send(make_message())
    assert [(o.channel_type, o.status) for o in result] == [
        (ChannelType.EMAIL, DeliveryStatus.DENIED), (ChannelType.PUSH, DeliveryStatus.SENT)]
    assert result.for_channel(ChannelType.EMAIL).reason == "StubPolicy"
    assert mail.outbox == []


def test_stub_policy_accepts_channel_type_values():
    assert StubPolicy(["push"]).check(make_message()).deny == {ChannelType.PUSH}


class PatchPoliciesWithTestCase(TestCase):
    def test_patch_policies_lasts_for_the_test(self):
        patch_policies(self, [StubPolicy([ChannelType.EMAIL, ChannelType.PUSH])])
        result = send(make_message())
        assert {o.status for o in result} == {DeliveryStatus.DENIED}
        assert mail.outbox == []


class PatchPoliciesWithPlainUnittest(unittest.TestCase):
    def test_cleanup_restores_policies(self):
        from ace import policy

        original = policy.policies
        inner = unittest.TestCase()
        patch_policies(inner, [StubPolicy([ChannelType.PUSH])])
        assert [type(p) for p in policy.policies()] == [StubPolicy]
        inner.doCleanups()
        assert policy.policies is original


def test_policy_result_deny_is_a_set_a_policy_may_add_to(request, file_channel_dir):
    class AddsLater(StubPolicy):
        def check(self, message):
            result = PolicyResult(deny=set())
            result.deny.add(ChannelType.PUSH)
            return result

    class AddsAString(StubPolicy):
        def check(self, message):
            result = PolicyResult()
            result.deny.add("push")
            return result

    assert PolicyResult(deny=[ChannelType.EMAIL]).deny == {ChannelType.EMAIL}
    patch_policies(request, [AddsLater([])])
    result = send(make_message())
    assert [o.status for o in result] == [DeliveryStatus.SENT, DeliveryStatus.DENIED]
    assert _push_files(file_channel_dir) == []
    patch_policies(request, [AddsAString([])])
    with pytest.raises(TypeError, match="AddsAString.*ChannelType"):
        send(make_message())
    assert len(mail.outbox) == 1
