"""Delivery channels: the ``Channel`` extension point, the enabled-channel map and channel selection.

A new channel is a ``Channel`` subclass plus an entry in the ``openedx.ace.channel`` entry-point
group; ``ACE_ENABLED_CHANNELS`` lists the entry-point names to enable. For one message and channel
type, :func:`get_channel_for_message` picks the channel: routers (``ACE_CHANNEL_ROUTERS``, see
:mod:`ace.channel.routing`) first, then a channel that claims the message, then the
``ACE_CHANNEL_*`` settings.
"""

from __future__ import annotations

import abc
import logging
from enum import Enum

from django.core.exceptions import ImproperlyConfigured

from ace.channel import routing
from ace.errors import UnsupportedChannelError
from ace.settings import ace_settings, on_reload
from ace.utils.once import once
from ace.utils.plugins import get_plugins

LOG = logging.getLogger(__name__)

CHANNEL_NAMESPACE = "openedx.ace.channel"
#: edx-ace's name for the entry-point group.
CHANNEL_EXTENSION_NAMESPACE = CHANNEL_NAMESPACE


class ChannelType(Enum):
    """All supported communication channels, in the order one ``ace.send`` delivers over them."""

    EMAIL = "email"
    PUSH = "push"

    def __str__(self):
        return self.value


class Channel(metaclass=abc.ABCMeta):
    """Delivers messages that have passed the policy and presentation steps.

    Contract for a subclass:

    - set ``channel_type`` to a :class:`ChannelType`;
    - take no constructor arguments (channels are instantiated by the plug-in loader);
    - implement :meth:`deliver`, raising ``RecoverableChannelDeliveryError`` for a failure worth
      retrying at a later time, ``FatalChannelDeliveryError`` for one that is not, and
      ``InvalidMessageError`` when the message lacks what this channel needs (and override
      :meth:`check_message` to say so before anything is delivered);
    - override :meth:`enabled` to say whether the settings the channel needs are present.

    Channel objects are reachable from templates (``{{ channel }}``), so keep secrets (API keys)
    out of their attributes: read them from settings when sending.
    """

    channel_type: ChannelType | None = None

    #: The entry-point name this channel was loaded under (set by :func:`channels`).
    name: str | None = None

    @classmethod
    def enabled(cls) -> bool:
        """Validate settings to determine whether this channel can be enabled."""
        return True

    def overrides_delivery_for_message(self, message) -> bool:
        """True when this channel specifically wants to deliver ``message``, outside the normal rules
        (for example Braze claiming a message that has a Braze campaign configured)."""
        return False

    def check_message(self, message) -> None:
        """Raise ``InvalidMessageError`` when ``message`` lacks what this channel needs (an email address,
        say). ``ace.send`` asks every chosen channel before any delivers, so an invalid message is sent
        nowhere. Accepts everything by default."""
        return None

    @abc.abstractmethod
    def deliver(self, message, rendered_message) -> None:
        """Transmit ``rendered_message`` (the personalised, rendered content of ``message``) to its
        recipient."""

    def __repr__(self):
        return f"<{type(self).__name__} {self.name or ''}>".replace(" >", ">")


class ChannelMap:
    """The enabled channels, by type and by entry-point name, in the order they were registered."""

    def __init__(self, channels_list=()):
        self.channels: dict[ChannelType, dict[str, Channel]] = {}
        for channel_name, channel in channels_list:
            self.register_channel(channel, channel_name)

    def __contains__(self, channel_type) -> bool:
        return bool(self.channels.get(channel_type))

    def __iter__(self):
        for by_name in self.channels.values():
            yield from by_name.values()

    def names(self) -> list[str]:
        return [name for by_name in self.channels.values() for name in by_name]

    def register_channel(self, channel: Channel, channel_name: str) -> None:
        """Registers ``channel`` under ``channel_name`` (its entry-point name)."""
        if not isinstance(channel.channel_type, ChannelType):
            raise ImproperlyConfigured(
                f"Channel {channel_name!r} ({type(channel).__name__}) has channel_type "
                f"{channel.channel_type!r}; it must be a ChannelType."
            )
        channel.name = channel_name
        self.channels.setdefault(channel.channel_type, {})[channel_name] = channel

    def get_channel_by_name(self, channel_type: ChannelType, channel_name: str) -> Channel:
        """The channel registered as ``channel_name`` for ``channel_type``; ``KeyError`` if none."""
        return self.channels[channel_type][channel_name]

    def get_default_channel(self, channel_type: ChannelType) -> Channel:
        """The first channel registered for ``channel_type``; ``UnsupportedChannelError`` if none."""
        try:
            return next(iter(self.channels[channel_type].values()))
        except (KeyError, StopIteration):
            raise UnsupportedChannelError(f"No {channel_type} channel is enabled.")

    def __repr__(self):
        return f"<ChannelMap {self.names()}>"


@once
def channels() -> ChannelMap:
    """All enabled channels, loaded from the ``openedx.ace.channel`` entry points.

    ``ACE_ENABLED_CHANNELS`` lists the plug-in names to enable, in order of preference (the first of
    a type is that type's default); unset or empty, none is (as in edx-ace); ``None`` loads every installed
    channel whose ``enabled()`` holds. Several channels of one type may be enabled (the documented settings
    enable both ``sailthru_email`` and ``django_email``); the ``ACE_CHANNEL_*`` settings and routers choose
    between them. A name that no installed plug-in has is ignored (the system check ``ace.W003`` names it).
    """
    names = ace_settings.ACE_ENABLED_CHANNELS
    return ChannelMap((ext.name, ext.obj) for ext in get_plugins(CHANNEL_NAMESPACE, names=names))


_CHANNEL_SETTINGS = ("ACE_CHANNEL_DEFAULT_EMAIL", "ACE_CHANNEL_TRANSACTIONAL_EMAIL", "ACE_CHANNEL_DEFAULT_PUSH")

on_reload(channels.reset)


def _named_channel(channel_map: ChannelMap, channel_type: ChannelType, name: str, source: str) -> Channel:
    try:
        return channel_map.get_channel_by_name(channel_type, name)
    except KeyError:
        raise UnsupportedChannelError(
            f"{source} names the {channel_type.value} channel {name!r}, which is not enabled "
            f"(enabled: {', '.join(channel_map.names()) or 'none'})."
        )


def _preferred_names(channel_type, message) -> list[str]:
    """The channel names the settings and options prefer for ``message``, best first (edx-ace 1.15's rules)."""
    options = getattr(message, "options", None) or {}
    if channel_type == ChannelType.EMAIL:
        override = options.get("override_default_channel")
        if override:
            return [override]
        if options.get("transactional"):
            return [ace_settings.ACE_CHANNEL_TRANSACTIONAL_EMAIL, ace_settings.ACE_CHANNEL_DEFAULT_EMAIL]
        return [ace_settings.ACE_CHANNEL_DEFAULT_EMAIL]
    if channel_type == ChannelType.PUSH:
        if ace_settings.ACE_CHANNEL_DEFAULT_PUSH:
            return [ace_settings.ACE_CHANNEL_DEFAULT_PUSH]
        return list(ace_settings.ACE_PUSH_CHANNELS or [])
    return []


def get_channel_for_message(channel_type: ChannelType, message) -> Channel:
    """The channel that delivers ``message`` over ``channel_type``.

    In order: the first router with an answer; a channel among the candidates that claims the
    message (``overrides_delivery_for_message``); the transactional channel for transactional
    email; the type's default channel. Raises ``UnsupportedChannelError`` when none fits.
    """
    channel_map = channels()
    routed = routing.route(channel_type, message)
    if routed is not None:
        name, router = routed
        return _named_channel(channel_map, channel_type, name, f"Router {router!r}")

    names = [name for name in _preferred_names(channel_type, message) if name]
    candidates = []
    for name in names:
        try:
            candidates.append(channel_map.get_channel_by_name(channel_type, name))
        except (KeyError, TypeError):
            # Not enabled (not installed, or its own settings incomplete): the type's default channel serves,
            # as in edx-ace. The system checks name such settings at start-up.
            LOG.debug("Channel %r is preferred for %s but not enabled; using the default channel.", name, channel_type)
    for channel in candidates:
        if channel.overrides_delivery_for_message(message):
            return channel
    if candidates:
        return candidates[0]
    return channel_map.get_default_channel(channel_type)
