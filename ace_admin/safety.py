"""Safe templates: what staff may write in the admin, and the size and time limits DB templates render under."""

from __future__ import annotations

import contextvars
import time
from functools import lru_cache

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import Engine, TemplateSyntaxError, engines
from django.template.base import Lexer, Template, TextNode, TokenType

#: Tag libraries a template edited in the admin may {% load %}: formatting only, nothing that reads settings.
ALLOWED_LIBRARIES = frozenset({"i18n", "l10n", "tz", "static", "acetags"})
#: Tags refused outright: {% debug %} prints the whole context and the loaded modules.
FORBIDDEN_TAGS = frozenset({"debug"})

DEFAULT_MAX_BYTES = 2 * 1024 * 1024
DEFAULT_MAX_SECONDS = 2.0


class TemplateLimitExceeded(RuntimeError):
    """A DB template rendered too much text or took too long; nothing is sent."""


@lru_cache(maxsize=1)
def max_bytes() -> int:
    """``ACE_ADMIN_TEMPLATE_MAX_BYTES``: the most text one DB template render may produce (default 2 MiB)."""
    return int(getattr(settings, "ACE_ADMIN_TEMPLATE_MAX_BYTES", DEFAULT_MAX_BYTES))


@lru_cache(maxsize=1)
def max_seconds() -> float:
    """``ACE_ADMIN_TEMPLATE_MAX_SECONDS``: the longest one DB template render may take (default 2 s)."""
    return float(getattr(settings, "ACE_ADMIN_TEMPLATE_MAX_SECONDS", DEFAULT_MAX_SECONDS))


@receiver(setting_changed)
def _limits_changed(*, setting: str, **kwargs) -> None:
    if setting.startswith("ACE_ADMIN_TEMPLATE_MAX_"):
        max_bytes.cache_clear()
        max_seconds.cache_clear()


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
# Render limits. Checks are placed where work is not bounded by the template's own size, and kept off
# the hot path: the clock is read once per loop iteration; output is counted for value-producing leaves
# outside loops and for each outermost loop as a whole; the total is checked at the end.


class _Budget:
    __slots__ = ("deadline", "left", "limit", "seconds")

    def __init__(self):
        self.limit, self.seconds = max_bytes(), max_seconds()
        self.deadline = time.monotonic() + self.seconds
        self.left = self.limit

    def too_much(self) -> TemplateLimitExceeded:
        return TemplateLimitExceeded(f"Template rendered more than {self.limit // 1024} KiB of text; stopped.")

    def too_long(self) -> TemplateLimitExceeded:
        return TemplateLimitExceeded(f"Template took more than {self.seconds:g} s to render; stopped.")


#: The budget of the outermost DB template being rendered in this context.
_active: contextvars.ContextVar = contextvars.ContextVar("ace_admin_render_budget", default=None)


def _count_output(node) -> None:
    original = node.render_annotated

    def render_annotated(context):
        output = original(context)
        budget = _active.get()
        if budget is not None:
            budget.left -= len(output)
            if budget.left < 0:
                raise budget.too_much()
        return output

    node.render_annotated = render_annotated


def _check_time(node) -> None:
    original = node.render_annotated

    def render_annotated(context):
        budget = _active.get()
        if budget is not None and time.monotonic() > budget.deadline:
            raise budget.too_long()
        return original(context)

    node.render_annotated = render_annotated


def _guard_nodelist(nodelist, in_loop: bool = False) -> None:
    for node in nodelist:
        children = [(attr, getattr(node, attr, None)) for attr in node.child_nodelists]
        children = [(attr, child) for attr, child in children if child]
        loop_body = getattr(node, "nodelist_loop", None)
        if loop_body:
            _check_time(loop_body[0])  # once per iteration
            if not in_loop:
                _count_output(node)
        elif not in_loop and not children and not isinstance(node, TextNode):
            _count_output(node)
        for attr, child in children:
            _guard_nodelist(child, in_loop or attr == "nodelist_loop")


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

    def _render(self, context):
        # Called for the template rendered and for DB templates it extends or includes: the outermost
        # one opens the budget they all share.
        outer = _active.get()
        if outer is not None:
            output = super()._render(context)
            outer.left -= len(output)  # an included DB template counts whole (safe side: counted twice)
            if outer.left < 0:
                raise outer.too_much()
            return output
        budget = _Budget()
        token = _active.set(budget)
        try:
            output = super()._render(context)
        finally:
            _active.reset(token)
        # Checked again on the whole text: output of filesystem templates it includes counts too.
        if len(output) > budget.limit:
            raise budget.too_much()
        return output
