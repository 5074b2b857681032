"""System checks: ACE configuration mistakes found at start-up rather than at the first send."""

from __future__ import annotations

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from stevedore.extension import ExtensionManager

from ace.channel import _CHANNEL_SETTINGS, CHANNEL_NAMESPACE, channels, routing
from ace.policy import POLICY_NAMESPACE, policies
from ace.settings import ace_settings
from ace.utils.plugins import available_names, unknown_names


@checks.register("ace")
def check_channels(app_configs=None, **kwargs):
    """Warnings for names that ACE ignores at send time, as edx-ace does: a plug-in that is not installed,
    an installed channel whose settings are incomplete, a preferred channel that is not enabled."""
    errors = []
    try:
        channel_map = channels()
    except ImproperlyConfigured as error:
        return [checks.Error(str(error), hint="Fix ACE_ENABLED_CHANNELS.", id="ace.E001")]
    for setting, namespace in (("ACE_ENABLED_CHANNELS", CHANNEL_NAMESPACE), ("ACE_ENABLED_POLICIES", POLICY_NAMESPACE)):
        unknown = unknown_names(namespace, getattr(ace_settings, setting) or ())
        if unknown:
            errors.append(checks.Warning(
                f"{setting} names {', '.join(map(repr, unknown))}, which no installed {namespace!r} plug-in "
                f"provides; ignored (installed: {', '.join(available_names(namespace)) or 'none'}).",
                id="ace.W003"))
    requested = ace_settings.ACE_ENABLED_CHANNELS
    if requested:
        installed = {ext.name: ext.plugin for ext in ExtensionManager(CHANNEL_NAMESPACE)}
        for name in requested:
            if name not in channel_map.names() and name in installed:
                errors.append(checks.Warning(
                    f"ACE channel {name!r} is listed in ACE_ENABLED_CHANNELS but cannot be enabled: "
                    f"{installed[name].__name__}.enabled() is false (its settings are incomplete).",
                    id="ace.W001"))
    preferred = [(setting, getattr(ace_settings, setting)) for setting in _CHANNEL_SETTINGS]
    preferred += [("ACE_PUSH_CHANNELS", name) for name in ace_settings.ACE_PUSH_CHANNELS or ()]
    for setting, name in preferred:
        if name and name not in channel_map.names():
            errors.append(checks.Warning(
                f"{setting} names {name!r}, which is not an enabled channel "
                f"(enabled: {', '.join(channel_map.names()) or 'none'}); the default channel of its type is used.",
                id="ace.W002"))
    try:
        routing.routers()
    except ImproperlyConfigured as error:
        errors.append(checks.Error(str(error), id="ace.E002"))
    try:
        policies()
    except ImproperlyConfigured as error:
        errors.append(checks.Error(str(error), hint=f"Fix ACE_ENABLED_POLICIES ({POLICY_NAMESPACE}).",
                                   id="ace.E003"))
    return errors


#: Numeric settings: (name, smallest sensible value).
_NUMBERS = (("ACE_DELIVERY_MAX_ATTEMPTS", 1), ("ACE_DEFAULT_EXPIRATION_DELAY", 0),
            ("ACE_CHANNEL_DJANGO_EMAIL_RETRY_DELAY", 0))


@checks.register("ace")
def check_numbers(app_configs=None, **kwargs):
    errors = []
    for setting, smallest in _NUMBERS:
        value = getattr(ace_settings, setting)
        if isinstance(value, bool) or not isinstance(value, int | float) or value < smallest:
            errors.append(checks.Error(f"{setting} must be a number of at least {smallest}; it is {value!r}.",
                                       id="ace.E004"))
    return errors
