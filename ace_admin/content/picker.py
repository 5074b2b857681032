"""The merge-tag picker: the variables a template of a message type can use, grouped for the editors.

Other features add entries through :data:`PICKER_SOURCES` (e.g. snippets): each is a callable
``(message_type, source) -> list[PickerItem]``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

from ace_admin.content import snippets


@dataclass(frozen=True)
class PickerItem:
    group: str  # heading in the picker
    label: str  # what the person sees
    insert: str  # the template text inserted, e.g. "{{ first_name }}"


#: The engine's own variables, in every message's context.
ENGINE_VARIABLES = [
    ("platform_name", "platform name"),
    ("message.language", "message language"),
    ("recipient.email_address", "recipient's email address"),
    ("recipient.lms_user_id", "recipient's user id"),
]
#: Added by ace_admin's privacy wing (ace_admin.privacy.links): preference link always, unsubscribe for marketing.
LINK_VARIABLES = [("unsubscribe_url", "unsubscribe link"), ("preferences_url", "email preferences link")]
LOOP = re.compile(r"\{%\s*for\s+(\w+)\s+in\s+([\w.]+)\s*%\}")



def snippet_items(message_type, source) -> list[PickerItem]:
    """The "Snippets" group: one ``{% include %}`` per snippet saved in the admin."""
    return [PickerItem("Snippets", item["name"], item["include"]) for item in snippets.available_snippets()]


PICKER_SOURCES: list[Callable] = [snippet_items]


def _fields(prefix: str, value, depth: int = 0):
    yield prefix
    if depth >= 2:
        return
    if isinstance(value, dict):
        for key, inner in value.items():
            if isinstance(key, str) and key.isidentifier():
                yield from _fields(f"{prefix}.{key}", inner, depth + 1)


def _lookup(context: dict, dotted: str):
    value = context
    for part in dotted.split("."):
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def picker_items(message_type=None, source: str = "") -> list[PickerItem]:
    """Everything the picker offers for a template of ``message_type`` (None: a layout)."""
    items: list[PickerItem] = []
    context = (message_type.sample_context if message_type is not None else None) or {}
    for key, value in context.items():
        if isinstance(key, str) and key.isidentifier():
            items += [PickerItem("This message's data", path, f"{{{{ {path} }}}}") for path in _fields(key, value)]
    for variable, name in LOOP.findall(source or ""):  # inside {% for article in articles %}: article.title...
        sample = _lookup(context, name)
        first = sample[0] if isinstance(sample, list) and sample else None
        items += [PickerItem(f"In the loop over {name}", path, f"{{{{ {path} }}}}")
                  for path in _fields(variable, first or {})]
    items += [PickerItem("Every message", label, f"{{{{ {variable} }}}}") for variable, label in ENGINE_VARIABLES]
    items += [PickerItem("Links", label, f"{{{{ {variable} }}}}") for variable, label in LINK_VARIABLES]
    for source_function in PICKER_SOURCES:
        items += list(source_function(message_type, source))
    seen, unique = set(), []
    for item in items:
        if (item.group, item.insert) not in seen:
            seen.add((item.group, item.insert))
            unique.append(item)
    return unique
