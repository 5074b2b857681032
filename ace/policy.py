"""Delivery policies: which channel types a message must not go over. A point of pluggability.

Policies are ``Policy`` subclasses registered under the ``openedx.ace.policy`` entry point and
enabled by ``ACE_ENABLED_POLICIES`` (unset or empty: none, as in edx-ace; ``None``: every installed policy whose
``enabled()`` holds). """

from __future__ import annotations

import abc
import contextvars
from typing import NamedTuple

import attr

from ace.channel import ChannelType
from ace.settings import ace_settings, on_reload
from ace.utils.once import once
from ace.utils.plugins import get_plugins

POLICY_NAMESPACE = "openedx.ace.policy"
#: edx-ace's name for the entry-point group.
POLICY_PLUGIN_NAMESPACE = POLICY_NAMESPACE


class Policy(metaclass=abc.ABCMeta):
    """Says which channels a message must not be sent over. Subclass, implement :meth:`check`, and
    register the class under the ``openedx.ace.policy`` entry point."""

    #: The entry-point name this policy was loaded under (set by :func:`policies`).
    name: str | None = None

    @classmethod
    def enabled(cls) -> bool:
        return True

    @abc.abstractmethod
    def check(self, message) -> PolicyResult:
        """A ``PolicyResult`` whose ``deny`` holds the channel types ``message`` must not go over."""


@attr.s
class PolicyResult:
    """:param deny: a set of ``ChannelType`` values to exclude when sending the message.
    :param reason: optional words for people reading the delivery log (why it was denied).
    :param reasons: optional, per denied ``ChannelType``, the exact reason for that channel type (the rule
        that denied it); it travels on the DENIED outcome as ``details["channel_reason"]``.

    ``deny`` is a plain ``set``, as documented, so a policy may build its result and then add to it;
    :func:`evaluate` checks its values again when the policy returns it."""

    deny = attr.ib(factory=set, converter=set)
    reason = attr.ib(default=None, kw_only=True)
    reasons = attr.ib(factory=dict, kw_only=True)

    @deny.validator
    def check_set_of_channel_types(self, attribute, set_value):
        wrong = [value for value in set_value if not isinstance(value, ChannelType)]
        if wrong:
            raise TypeError(
                f"PolicyResult.deny must hold ChannelType values only (ChannelType.EMAIL, ChannelType.PUSH); "
                f"got {', '.join(map(repr, wrong))}."
            )


@once
def policies() -> list[Policy]:
    """The enabled policy objects, in ``ACE_ENABLED_POLICIES`` order (else by name)."""
    loaded = []
    for ext in get_plugins(POLICY_NAMESPACE, names=ace_settings.ACE_ENABLED_POLICIES):
        ext.obj.name = ext.name
        loaded.append(ext.obj)
    return loaded


on_reload(policies.reset)


def _policy_name(policy) -> str:
    return getattr(policy, "name", None) or type(policy).__name__


class Denial(NamedTuple):
    """Why one channel type was denied: the policy's name, its reason, and its reason for this channel type."""

    policy: str
    reason: str | None = None
    channel_reason: str | None = None

    def details(self) -> dict:
        """The DENIED outcome's ``details``."""
        found = {"policy_reason": self.reason} if self.reason else {}
        if self.channel_reason:
            found["channel_reason"] = self.channel_reason
        return found


def evaluate(message) -> tuple[set[ChannelType], dict[ChannelType, Denial]]:
    """The channel types allowed for ``message``, and for each denied one the ``Denial`` of the first
    policy that denied it. Every policy is asked."""
    allowed = set(ChannelType)
    denied: dict[ChannelType, Denial] = {}
    for policy in policies():
        result = policy.check(message)
        if not isinstance(result, PolicyResult):
            raise TypeError(f"Policy {_policy_name(policy)!r} returned {result!r}; check() must return a PolicyResult.")
        if not all(isinstance(value, ChannelType) for value in result.deny):  # added to after construction
            try:
                result.check_set_of_channel_types(None, result.deny)
            except TypeError as error:
                raise TypeError(f"Policy {_policy_name(policy)!r}: {error}") from None
        for channel_type in result.deny:
            if channel_type not in denied:
                denied[channel_type] = Denial(_policy_name(policy), result.reason,
                                              result.reasons.get(channel_type) if result.reasons else None)
        allowed -= result.deny
    return allowed, denied


#: The denials found by the last :func:`channels_for` in this context, so ``ace.send`` can name the policy
#: behind each without asking the policies twice (and still call ``channels_for``, which code written
#: for edx-ace patches).
_last_denials: contextvars.ContextVar = contextvars.ContextVar("ace_last_denials", default=(None, {}))


def channels_for(message) -> set[ChannelType]:
    """The set of ``ChannelType`` values that every policy allows for ``message``."""
    allowed, denied = evaluate(message)
    _last_denials.set((message, denied))
    message.report("policy_allowed_channels", ",".join(sorted(c.value for c in allowed)))
    return allowed


def denials_for(message) -> dict[ChannelType, Denial]:
    """The ``Denial`` per channel type denied by the last :func:`channels_for` of ``message`` in
    this context (empty when there was none, e.g. ``channels_for`` was replaced in a test)."""
    checked, denied = _last_denials.get()
    _last_denials.set((None, {}))
    return denied if checked is message else {}
