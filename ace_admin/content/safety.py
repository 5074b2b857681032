"""Safe templates: what staff may write in the admin, and the size and time limits DB templates render under."""

from __future__ import annotations

from functools import lru_cache

from django.core.exceptions import ValidationError
from django.template import Engine, TemplateSyntaxError, engines
from django.template.base import DebugLexer, Lexer, Origin, Template, TokenType

from ace_admin.content.sandbox import ALLOWED_LIBRARIES, LIMITS, SandboxParser, TemplateLimitExceeded, budget_scope

__all__ = ["ALLOWED_LIBRARIES", "LIMITS", "GuardedTemplate", "TemplateLimitExceeded", "check_template_source"]

#: Tags refused outright: {% debug %} prints the whole context and the loaded modules.
FORBIDDEN_TAGS = frozenset({"debug"})


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
    origin = Origin(name or "<unsaved>", template_name=name or None)
    try:
        GuardedTemplate(source, origin=origin, name=name or None, engine=_checking_engine())
    except TemplateSyntaxError as error:
        info = getattr(error, "template_debug", None) or {}
        line = info.get("line")
        text = str(error)
        prefix = f"Line {line}: " if line and not text.startswith("Line ") else ""
        raise ValidationError({"content": f"{prefix}{text}"})
    except RecursionError:
        raise ValidationError({"content": "The template nests tags too deeply."})
    except (ValueError, TypeError, OverflowError, MemoryError) as error:
        raise ValidationError({"content": f"The template cannot be compiled: {type(error).__name__}"})


class GuardedTemplate(Template):
    """A template a person wrote (DB row, unsaved preview edit): compiled by the sandbox's parser, rendered
    under the render budget (see :mod:`ace_admin.content.sandbox`)."""

    def __init__(self, template_string, *args, **kwargs):
        # Rows written around the model's validation (raw SQL, an old release) get the same check.
        try:
            _refused_tags(template_string)
        except ValidationError as error:
            raise TemplateSyntaxError(" ".join(error.messages))
        super().__init__(template_string, *args, **kwargs)

    def compile_nodelist(self):
        lexer = DebugLexer(self.source) if self.engine.debug else Lexer(self.source)
        parser = SandboxParser(lexer.tokenize(), self.engine.template_libraries, self.engine.template_builtins,
                               self.origin)
        try:
            nodelist = parser.parse()
            self.extra_data = parser.extra_data
            return nodelist
        except Exception as error:
            token = getattr(error, "token", None)
            if self.engine.debug and token is not None:
                error.template_debug = self.get_exception_info(error, token)
            raise

    def _render(self, context):
        # The outermost sandboxed template of a render opens the budget; DB templates it extends or includes,
        # directly or through filesystem templates, spend the same one.
        with budget_scope():
            return super()._render(context)
