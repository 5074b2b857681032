"""Loading ACE plug-ins (channels, policies) from entry points with stevedore. Internal to ACE."""

from __future__ import annotations

import functools
import logging

from django.core.exceptions import ImproperlyConfigured
from stevedore.enabled import EnabledExtensionManager
from stevedore.extension import ExtensionManager

LOG = logging.getLogger(__name__)


def check_plugin(extension, namespace, names=None) -> bool:
    """Whether ``extension`` is enabled: named in ``names`` (when given) and its ``enabled()`` holds."""
    if names is not None and extension.name not in names:
        return False
    enabled = extension.plugin.enabled()
    if not enabled:
        LOG.info("ACE plug-in %s:%s is installed but not enabled (its settings are incomplete).",
                 namespace, extension.name)
    return bool(enabled)


def available_names(namespace: str) -> list[str]:
    """The names of every plug-in installed under ``namespace``, enabled or not."""
    return sorted(ext.name for ext in ExtensionManager(namespace, invoke_on_load=False))


def get_manager(namespace: str, names=None) -> EnabledExtensionManager:
    """A stevedore manager for ``namespace`` with its enabled extensions instantiated.

    ``names`` limits the plug-ins to those names; a name that no installed plug-in has is a
    configuration mistake and raises ``ImproperlyConfigured``.
    """
    if names is not None:
        known = available_names(namespace)
        unknown = [name for name in names if name not in known]
        if unknown:
            raise ImproperlyConfigured(
                f"No ACE plug-in named {', '.join(map(repr, unknown))} is installed in {namespace!r}; "
                f"installed: {', '.join(known) or 'none'}."
            )
    return EnabledExtensionManager(
        namespace=namespace,
        check_func=functools.partial(check_plugin, namespace=namespace, names=names),
        invoke_on_load=True,
    )


def get_plugins(namespace: str, names=None) -> list:
    """The enabled extensions of ``namespace``, in the order of ``names`` when given, else by name."""
    extensions = list(get_manager(namespace, names=names))
    if names is not None:
        order = {name: index for index, name in enumerate(names)}
        extensions.sort(key=lambda ext: order[ext.name])
    else:
        extensions.sort(key=lambda ext: ext.name)
    return extensions
