"""Loading ACE plug-ins (channels, policies) from entry points with stevedore. Internal to ACE."""

from __future__ import annotations

import functools
import importlib.metadata
import logging

from django.core.exceptions import ImproperlyConfigured
from stevedore.enabled import EnabledExtensionManager

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
    # Read from the package metadata: listing names must not import every plug-in.
    return sorted({entry_point.name for entry_point in importlib.metadata.entry_points(group=namespace)})


def get_manager(namespace: str, names=None) -> EnabledExtensionManager:
    """A stevedore manager for ``namespace`` with its enabled extensions instantiated.

    ``names`` limits the plug-ins to those names; a name that no installed plug-in has is ignored, as
    edx-ace does (the ``ace`` system checks warn about it).
    """
    if isinstance(names, str):  # a common slip: ACE_ENABLED_CHANNELS = "django_email"
        raise ImproperlyConfigured(
            f"The {namespace!r} plug-ins to enable must be a list of names, not the string {names!r} "
            f"(write [{names!r}]).")
    return _NamedEnabledExtensionManager(
        names,
        namespace=namespace,
        check_func=functools.partial(check_plugin, namespace=namespace, names=names),
        invoke_on_load=True,
        on_load_failure_callback=functools.partial(_load_failed, names=names),
    )


def unknown_names(namespace: str, names) -> list[str]:
    """The names in ``names`` that no plug-in installed under ``namespace`` has."""
    known = set(available_names(namespace))
    return [name for name in names or () if name not in known]


def _load_failed(manager, entry_point, error, names=None) -> None:
    # As in edx-ace (stevedore's default): a plug-in that cannot be imported is logged and left out.
    LOG.error("ACE plug-in %s (%s) cannot be loaded: %s", entry_point.name, entry_point.value, error)


class _NamedEnabledExtensionManager(EnabledExtensionManager):
    """An ``EnabledExtensionManager`` that, given names, never imports the other plug-ins of the namespace
    (an installed but unused plug-in may need apps or libraries this project does not have)."""

    def __init__(self, names, **kwargs):
        self._wanted = None if names is None else set(names)  # set before loading, which __init__ does
        super().__init__(**kwargs)

    def _load_one_plugin(self, ep, *args, **kwargs):
        if self._wanted is not None and ep.name not in self._wanted:
            return None
        return super()._load_one_plugin(ep, *args, **kwargs)


def get_plugins(namespace: str, names=None) -> list:
    """The enabled extensions of ``namespace``, in the order of ``names`` when given, else by name."""
    extensions = list(get_manager(namespace, names=names))
    if names is not None:
        order = {name: index for index, name in enumerate(names)}
        extensions.sort(key=lambda ext: order[ext.name])
    else:
        extensions.sort(key=lambda ext: ext.name)
    return extensions
