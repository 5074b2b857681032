"""Safe templates: what staff may write in the admin, and the size and time limits DB templates render under."""

from __future__ import annotations

import time
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.template import Engine, TemplateSyntaxError, engines
from django.template.base import Lexer, Template, TokenType

#: Tag libraries a template edited in the admin may {% load %}: formatting only, nothing that reads settings.
ALLOWED_LIBRARIES = frozenset({"i18n", "l10n", "tz", "static", "acetags"})
#: Tags refused outright: {% debug %} prints the whole context and the loaded modules.
FORBIDDEN_TAGS = frozenset({"debug"})

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
DEFAULT_MAX_SECONDS = 2.0
_BUDGET_KEY = "ace_admin.render_budget"


class TemplateLimitExceeded(RuntimeError):
    """A DB template rendered too much text or took too long; nothing is sent."""


def max_bytes() -> int:
    return int(getattr(settings, "ACE_ADMIN_TEMPLATE_MAX_BYTES", DEFAULT_MAX_BYTES))


def max_seconds() -> float:
    return float(getattr(settings, "ACE_ADMIN_TEMPLATE_MAX_SECONDS", DEFAULT_MAX_SECONDS))


def project_engine() -> Engine:
    """The project's Django template engine (so {% load acetags %} and the builtins are the real ones)."""
    return engines["django"].engine


@lru_cache(maxsize=1)
def _checking_engine() -> Engine:
    # A debug twin of the project's engine: debug makes syntax errors carry their line number.
    # It has no loaders: checking only parses, {% extends %}/{% include %} load at render time.
    base = project_engine()
    return Engine(dirs=[], app_dirs=False, loaders=[], debug=True, libraries=base.libraries,
                  builtins=[path for path in base.builtins if isinstance(path, str)] or None,
                  autoescape=base.autoescape, string_if_invalid=base.string_if_invalid)


def _refused_tags(source: str) -> None:
    for token in Lexer(source).tokenize():
        if token.token_type is not TokenType.BLOCK:
            continue
        bits = token.split_contents()
        if not bits:
            continue
        if bits[0] in FORBIDDEN_TAGS:
            raise ValidationError({"content": f"Line {token.lineno}: the {{% {bits[0]} %}} tag is not allowed "
                                              f"in templates edited here (it can reveal private data)."})
        if bits[0] == "load":
            names = bits[bits.index("from") + 1:] if "from" in bits else bits[1:]
            for name in names:
                if name not in ALLOWED_LIBRARIES:
                    raise ValidationError({"content": (
                        f"Line {token.lineno}: {{% load {name} %}} is not allowed here; "
                        f"allowed tag libraries: {', '.join(sorted(ALLOWED_LIBRARIES))}.")})


def check_template_source(source: str, name: str = "") -> None:
    """Raise ``ValidationError`` (with the engine's message and the line number) unless ``source`` is a
    valid template that only uses what admin-edited templates may use."""
    source = source or ""
    _refused_tags(source)
    try:
        Template(source, engine=_checking_engine(), name=name or None)
    except TemplateSyntaxError as error:
        info = getattr(error, "template_debug", None) or {}
        line = info.get("line")
        prefix = f"Line {line}: " if line else ""
        raise ValidationError({"content": f"{prefix}{error}"})


# ---------------------------------------------------------------------------------------------------------------
# Render limits: every node of a DB template is wrapped to check the budget of the whole render.


def _budget(context) -> list:
    # The bottom dict of the render context lives for the whole render, across {% extends %}/{% include %}.
    root = context.render_context.dicts[0]
    budget = root.get(_BUDGET_KEY)
    if budget is None:
        budget = root[_BUDGET_KEY] = [time.monotonic(), 0, max_bytes(), max_seconds()]
    return budget


def _guard(node, leaf: bool):
    original = node.render_annotated

    def render_annotated(context):
        budget = _budget(context)
        if time.monotonic() - budget[0] > budget[3]:
            raise TemplateLimitExceeded(f"Template took more than {budget[3]:g} s to render; stopped.")
        output = original(context)
        if leaf:
            budget[1] += len(output)
            if budget[1] > budget[2]:
                raise TemplateLimitExceeded(
                    f"Template rendered more than {budget[2] // 1024} KiB of text; stopped.")
        return output

    node.render_annotated = render_annotated


def _guard_nodelist(nodelist) -> None:
    for node in nodelist:
        children = [getattr(node, attr, None) for attr in node.child_nodelists]
        children = [child for child in children if child]
        _guard(node, leaf=not children)
        for child in children:
            _guard_nodelist(child)


class GuardedTemplate(Template):
    """A compiled DB template whose rendering stops beyond the size and time limits."""

    def __init__(self, template_string, *args, **kwargs):
        # Rows written around the model's validation (raw SQL, an old release) get the same check.
        try:
            _refused_tags(template_string)
        except ValidationError as error:
            raise TemplateSyntaxError(" ".join(error.messages))
        super().__init__(template_string, *args, **kwargs)
        _guard_nodelist(self.nodelist)

    def render(self, context):
        output = super().render(context)
        # Checked again on the whole text: output from filesystem templates it includes counts too.
        if len(output) > max_bytes():
            raise TemplateLimitExceeded(f"Template rendered more than {max_bytes() // 1024} KiB of text; stopped.")
        return output
