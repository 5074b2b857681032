"""Routers: the public extension point that picks a channel for a message before the settings do.

``ACE_CHANNEL_ROUTERS`` is a list of dotted paths to router classes (instantiated without
arguments), asked in order, like Django's ``DATABASE_ROUTERS``. A router implements::

    def channel_for_message(self, channel_type, message) -> str | None

returning the entry-point name of an enabled channel of ``channel_type`` to deliver ``message``,
or ``None`` to let the next router, then the ``ACE_CHANNEL_*`` settings, decide. A router naming a
channel that is not enabled makes that channel's delivery fail with ``UnsupportedChannelError``.
"""

from __future__ import annotations

from django.core.exceptions import ImproperlyConfigured
from django.utils.module_loading import import_string

from ace.settings import ace_settings, on_reload
from ace.utils.once import once


@once
def routers() -> list:
    """The router objects named by ``ACE_CHANNEL_ROUTERS``, in order."""
    loaded = []
    for path in ace_settings.ACE_CHANNEL_ROUTERS or ():
        try:
            router_cls = import_string(path)
        except ImportError as exc:
            raise ImproperlyConfigured(f"ACE_CHANNEL_ROUTERS: cannot import {path!r}: {exc}")
        router = router_cls() if isinstance(router_cls, type) else router_cls
        if not callable(getattr(router, "channel_for_message", None)):
            raise ImproperlyConfigured(f"ACE_CHANNEL_ROUTERS: {path!r} has no channel_for_message().")
        loaded.append(router)
    return loaded


on_reload(routers.reset)


def route(channel_type, message):
    """``(channel_name, router)`` from the first router that answers, else ``None``."""
    for router in routers():
        name = router.channel_for_message(channel_type, message)
        if name:
            return name, router
    return None
