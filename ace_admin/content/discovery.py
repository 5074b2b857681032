"""Find what the platform's code defines: MessageType subclasses and filesystem templates of the documented scheme."""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass
from pathlib import Path

from django.apps import apps
from django.template import engines
from django.template.utils import get_app_template_dirs

from ace.message import MessageType
from ace_admin.models import TEMPLATE_NAME_SCHEME

#: Modules of an installed app that may define message types (edx-ace users name them either way).
MESSAGE_MODULES = ("messages", "message_types")


@dataclass(frozen=True)
class FileTemplate:
    """A template file found on disk under the documented scheme."""

    name: str  # e.g. demo/edx_ace/newsletter/email/body.html
    path: Path
    app_label: str
    message_name: str
    channel_type: str
    part: str

    def read(self) -> str:
        return self.path.read_text(encoding="utf-8")


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def message_type_classes() -> list[type]:
    """Every ``MessageType`` subclass of the installed apps, after importing their message modules."""
    for config in apps.get_app_configs():
        for module in MESSAGE_MODULES:
            dotted = f"{config.name}.{module}"
            try:
                importlib.import_module(dotted)
            except ModuleNotFoundError as error:
                if error.name != dotted and not dotted.startswith(f"{error.name}."):
                    raise  # the module exists but one of its imports is missing: say so
    found = []
    for cls in _all_subclasses(MessageType):
        if apps.get_containing_app_config(cls.__module__) is None:
            continue  # defined outside installed apps (a test helper, a script)
        found.append(cls)
    return sorted(set(found), key=lambda c: (c.__module__, c.__qualname__))


def message_type_identity(cls) -> tuple[str, str]:
    """``(app_label, name)`` that instances of ``cls`` get by default."""
    try:
        instance = cls()
    except Exception:  # noqa: BLE001 — a subclass whose __init__ needs arguments: use the class attributes
        config = apps.get_containing_app_config(cls.__module__)
        return (cls.APP_LABEL or (config.label if config else cls.__module__.split(".")[0]),
                cls.NAME or cls.__name__.lower())
    return instance.app_label, instance.name


def template_dirs() -> list[Path]:
    """The directories the filesystem and app-directories loaders search, in their order."""
    engine = engines["django"].engine
    dirs = [Path(d) for d in engine.dirs]
    dirs.extend(Path(d) for d in get_app_template_dirs("templates"))
    unique = []
    for folder in dirs:
        if folder not in unique:
            unique.append(folder)
    return unique


def file_templates() -> list[FileTemplate]:
    """Every file of the documented scheme; when two directories hold one name, the first wins (as the loader)."""
    found: dict[str, FileTemplate] = {}
    for root in template_dirs():
        if not root.is_dir():
            continue
        for app_dir in sorted(p for p in root.iterdir() if p.is_dir()):
            base = app_dir / "edx_ace"
            if not base.is_dir():
                continue
            for dirpath, _dirnames, filenames in os.walk(base):
                for filename in sorted(filenames):
                    path = Path(dirpath) / filename
                    name = path.relative_to(root).as_posix()
                    match = TEMPLATE_NAME_SCHEME.match(name)
                    if match and name not in found:
                        found[name] = FileTemplate(name, path, match["app_label"], match["name"],
                                                   match["channel_type"], match["part"])
    return sorted(found.values(), key=lambda t: t.name)


def file_templates_for(app_label: str, name: str) -> list[FileTemplate]:
    """The filesystem templates of one message type."""
    return [t for t in file_templates() if (t.app_label, t.message_name) == (app_label, name)]


def file_template(name: str) -> FileTemplate | None:
    """The file the filesystem loaders would use for ``name``, if any."""
    for template in file_templates():
        if template.name == name:
            return template
    return None
