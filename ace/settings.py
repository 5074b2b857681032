"""Every ``ACE_*`` setting the engine reads, with its default, in one place.

Read a setting as ``ace_settings.ACE_ENABLED_CHANNELS``. Values are cached and dropped again whenever
Django's ``setting_changed`` fires (``override_settings`` in tests), so nothing else in the engine
calls ``getattr(settings, ...)``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.dispatch import receiver

#: Setting name -> default. ``None`` for a channel name means "the first enabled channel of the type".
DEFAULTS: dict[str, Any] = {
    # Plug-ins (entry-point names), as in edx-ace: unset enables none. Names of plug-ins that are not
    # installed are ignored (a system check warns about them). ``None`` enables every installed plug-in
    # whose ``enabled()`` holds (an ACE extension).
    "ACE_ENABLED_CHANNELS": [],
    "ACE_ENABLED_POLICIES": [],
    # Channel selection.
    "ACE_CHANNEL_DEFAULT_EMAIL": None,
    "ACE_CHANNEL_TRANSACTIONAL_EMAIL": None,
    "ACE_CHANNEL_DEFAULT_PUSH": None,
    # Push channels to try, in order, when ACE_CHANNEL_DEFAULT_PUSH is unset (edx-ace 1.15).
    "ACE_PUSH_CHANNELS": [],
    # Dotted paths of router classes consulted before the settings above (see ace.channel.routing).
    "ACE_CHANNEL_ROUTERS": [],
    # Dotted paths of callables ``preparer(message)`` run by ace.send() before rendering, once a policy
    # allowed some channel: they may add to message.context and message.options["email_headers"]
    # (e.g. unsubscribe links). See ace.ace.prepare().
    "ACE_MESSAGE_PREPARERS": [],
    # Dotted paths of callables ``processor(channel, message, rendered)`` run by presentation.render() after
    # rendering, in order: each may change the rendered message (inline CSS, rewrite links) and return it
    # (None keeps it). See ace.presentation.process_rendered().
    "ACE_RENDERED_MESSAGE_PROCESSORS": [],
    # Dotted paths of callables ``processor(channel, message, rendered)`` run by ace.send() on each rendered
    # message just before delivery, for real sends only (never previews): per-delivery changes such as
    # click-tracking links. See ace.ace.process_outgoing().
    "ACE_OUTGOING_PROCESSORS": [],
    # Delivery: how long a message without expiration_time may keep retrying, in seconds (edx-ace's
    # default; retries never go on past ace.delivery.MAX_EXPIRATION_DELAY, 5 minutes, either), and the
    # most attempts one ace.send() makes on one channel.
    "ACE_DEFAULT_EXPIRATION_DELAY": 120,
    "ACE_DELIVERY_MAX_ATTEMPTS": 5,
    # Dotted path of a callable that takes a recoverable failure off the caller's hands:
    # ``handler(channel=, message=, next_attempt_time=, outcome=) -> bool`` (``outcome.details["expires_at"]``
    # says when the message expires). True: it scheduled the retry, ace.send returns at once (outcome
    # RETRY_SCHEDULED, ``outcome.details["next_attempt_time"]``); False: that delivery fails now. Either way
    # nothing sleeps. Unset (edx-ace's behaviour): ace.send sleeps until the next attempt and retries itself.
    "ACE_RETRY_HANDLER": None,
    # Whether ace.send raises a template's rendering error (other than a missing template) after trying
    # every channel, as edx-ace does. False: it is only that channel's TEMPLATE_ERROR outcome (the ACE
    # project's setting, where templates edited in the admin are untrusted input).
    "ACE_RAISE_TEMPLATE_ERRORS": True,
    # Seconds an HTTP API call of a provider channel (Braze) may take (edx-ace's setting).
    "ACE_DEFAULT_API_TIMEOUT": 5,
    # Sailthru.
    "ACE_CHANNEL_SAILTHRU_DEBUG": False,
    "ACE_CHANNEL_SAILTHRU_TEMPLATE_NAME": None,
    "ACE_CHANNEL_SAILTHRU_API_KEY": None,
    "ACE_CHANNEL_SAILTHRU_API_SECRET": None,
    "ACE_CHANNEL_SAILTHRU_API_URL": None,
    # Seconds to wait before retrying a Sailthru internal error or lost connection (a rate limit waits
    # for the reset time the response names instead).
    "ACE_CHANNEL_SAILTHRU_RETRY_DELAY": 10,
    # Braze.
    "ACE_CHANNEL_BRAZE_API_KEY": None,
    "ACE_CHANNEL_BRAZE_APP_ID": None,
    "ACE_CHANNEL_BRAZE_REST_ENDPOINT": None,
    "ACE_CHANNEL_BRAZE_CAMPAIGNS": {},
    "ACE_CHANNEL_BRAZE_FROM_EMAIL": None,
    # Seconds; unset: ACE_DEFAULT_API_TIMEOUT.
    "ACE_CHANNEL_BRAZE_TIMEOUT": None,
    # Seconds to wait before retrying a Braze 5xx reply or lost connection (a 429 waits for the reset time).
    "ACE_CHANNEL_BRAZE_RETRY_DELAY": 10,
    # django_email: seconds to wait before retrying after a temporary (4xx) SMTP reply or a lost
    # connection.
    "ACE_CHANNEL_DJANGO_EMAIL_RETRY_DELAY": 30,
    # file_email / file_push: a directory to write one file per message into, or "-" for stdout.
    "ACE_CHANNEL_FILE_PATH": "-",
}


class AceSettings:
    """Attribute access to the ``ACE_*`` settings with their defaults."""

    def __init__(self, defaults: dict[str, Any]):
        self._defaults = defaults
        self._cache: dict[str, Any] = {}

    def __getattr__(self, name: str) -> Any:
        if name not in self._defaults:
            raise AttributeError(f"Unknown ACE setting: {name!r}")
        try:
            return self._cache[name]
        except KeyError:
            value = getattr(settings, name, self._defaults[name])
            self._cache[name] = value
            return value

    def reload(self) -> None:
        self._cache.clear()


ace_settings = AceSettings(DEFAULTS)

#: Callables run whenever an ACE_* setting changes (caches built from settings register here).
_reload_hooks: list = []


def on_reload(func):
    """Register ``func`` to run whenever an ``ACE_*`` setting changes; returns ``func``."""
    _reload_hooks.append(func)
    return func


def callables(name: str) -> tuple:
    """The callables named by dotted paths in the list setting ``name`` (``ImproperlyConfigured`` for a path
    that cannot be imported)."""
    from django.core.exceptions import ImproperlyConfigured
    from django.utils.module_loading import import_string

    found = []
    for path in getattr(ace_settings, name) or ():
        try:
            found.append(import_string(path))
        except ImportError as error:
            raise ImproperlyConfigured(f"{name}: cannot import {path!r}: {error}")
    return tuple(found)


def reload_all() -> None:
    """Forget every cached setting and everything built from settings (channels, policies, routers)."""
    ace_settings.reload()
    for hook in _reload_hooks:
        hook()


@receiver(setting_changed)
def _setting_changed(*, setting: str, **kwargs) -> None:
    if setting.startswith("ACE_") or setting in ("EMAIL_BACKEND", "TEMPLATES", "DEFAULT_FROM_EMAIL"):
        reload_all()
