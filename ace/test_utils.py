"""Test helpers shipped with ACE for projects that send messages with it."""

from __future__ import annotations

from unittest import mock

from ace.channel import ChannelType
from ace.policy import Policy, PolicyResult


class StubPolicy(Policy):
    """A policy that denies the channel types it was given, whatever the message."""

    def __init__(self, deny_value):
        self.deny_value = frozenset(ChannelType(value) for value in deny_value)

    def check(self, message):
        return PolicyResult(deny=self.deny_value)


def patch_policies(test_case, policies):
    """Make ``policies`` the active policies for the rest of ``test_case``.

    ``test_case`` is a ``unittest.TestCase`` (anything with ``addCleanup``) or a pytest ``request``
    fixture (anything with ``addfinalizer``).
    """
    patcher = mock.patch("ace.policy.policies", return_value=list(policies))
    patcher.start()
    cleanup = getattr(test_case, "addCleanup", None) or test_case.addfinalizer
    cleanup(patcher.stop)
    return patcher
