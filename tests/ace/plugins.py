"""Policies and routers the tests install through the real extension points (entry points, settings)."""

from __future__ import annotations

from pathlib import Path

from ace.channel import ChannelType
from ace.policy import Policy, PolicyResult


class DenyPushPolicy(Policy):
    """Denies push for messages whose context says ``no_push``."""

    def check(self, message):
        if message.context.get("no_push"):
            return PolicyResult(deny={ChannelType.PUSH}, reason="the recipient turned push off")
        return PolicyResult(deny=set())


class DenyEverythingPolicy(Policy):
    def check(self, message):
        return PolicyResult(deny=set(ChannelType))


class DisabledPolicy(Policy):
    @classmethod
    def enabled(cls):
        return False

    def check(self, message):
        return PolicyResult(deny=set(ChannelType))


class StringDenyPolicy(Policy):
    """A buggy policy: denies the string 'email' instead of ChannelType.EMAIL."""

    def check(self, message):
        return PolicyResult(deny={"email"})


class NotAResultPolicy(Policy):
    def check(self, message):
        return {ChannelType.EMAIL}


ENTRY_POINTS = {
    "openedx.ace.policy": {
        "tests_deny_push": "tests.ace.plugins:DenyPushPolicy",
        "tests_deny_everything": "tests.ace.plugins:DenyEverythingPolicy",
        "tests_disabled": "tests.ace.plugins:DisabledPolicy",
        "tests_string_deny": "tests.ace.plugins:StringDenyPolicy",
        "tests_not_a_result": "tests.ace.plugins:NotAResultPolicy",
        "tests_broken": "tests.ace.no_such_module:Policy",
    },
}


def write_distribution(folder: Path) -> Path:
    """An installed distribution (a .dist-info folder) declaring ``ENTRY_POINTS``; put ``folder`` on
    sys.path to install it."""
    info = folder / "ace_test_plugins-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: ace-test-plugins\nVersion: 1.0\n")
    lines = []
    for group, entries in ENTRY_POINTS.items():
        lines.append(f"[{group}]")
        lines.extend(f"{name} = {target}" for name, target in entries.items())
    (info / "entry_points.txt").write_text("\n".join(lines) + "\n")
    return folder


class NameRouter:
    """Routes email by message name: ``emailonly`` -> file_email, ``greeting`` -> a channel not enabled."""

    def channel_for_message(self, channel_type, message):
        if channel_type is ChannelType.EMAIL:
            return {"emailonly": "file_email", "greeting": "sailthru_email"}.get(message.name)
        return None


class NeverRouter:
    def channel_for_message(self, channel_type, message):
        return None


class NotARouter:
    pass
