"""The variables a compiled template reads, found by walking its nodes (``{% extends %}``, blocks and
``{% include %}`` followed), and which of them a message's context lacks or leaves empty.

Used by the campaign preflight: with ``ACE_RAISE_TEMPLATE_ERRORS`` off a missing variable renders as ``''``
and nothing else says so. A variable is *not* reported when the template gives it a fallback
(``|default``, ``|default_if_none``), defines it itself (``for``, ``with``, ``include ... with``, a tag's
``as`` name) or only uses it after testing it (``{% if promo %}{{ promo.title }}{% endif %}``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

from django.template.base import FilterExpression, Node, Variable, VariableNode
from django.template.defaulttags import ForNode, IfNode, WithNode
from django.template.loader_tags import BlockNode, ExtendsNode, IncludeNode

#: Names the renderer (or Django) always provides.
ALWAYS_DEFINED = frozenset({"True", "False", "None", "forloop", "block", "channel", "message"})
_FALLBACK_FILTERS = frozenset({"default", "default_if_none"})
_MAX_DEPTH = 12  # nested includes/extends followed (the sandbox stops deeper ones at render time anyway)


@dataclass(frozen=True)
class Use:
    """One variable path read without a fallback, and the template it is written in."""

    path: str
    template: str


def _template_name(node) -> str:
    origin = getattr(node, "origin", None)
    return getattr(origin, "template_name", None) or getattr(origin, "name", "") or ""


def _paths(expression) -> Iterator[str]:
    """The variable paths a filter expression reads without a fallback (its own and its filters' arguments)."""
    if not isinstance(expression, FilterExpression):
        return
    names = {getattr(func, "__name__", "") for func, _ in expression.filters}
    variable = expression.var
    if isinstance(variable, Variable) and variable.lookups and not names & _FALLBACK_FILTERS:
        yield ".".join(variable.lookups)
    for _, args in expression.filters:
        for lookup, arg in args:
            if lookup and isinstance(arg, Variable) and arg.lookups:
                yield ".".join(arg.lookups)


def _condition_paths(condition) -> Iterator[str]:
    """Variables named in an ``{% if %}`` condition (tested there, so defined enough inside the branch)."""
    if condition is None:
        return
    value = getattr(condition, "value", None)
    if isinstance(value, FilterExpression) and isinstance(value.var, Variable) and value.var.lookups:
        yield ".".join(value.var.lookups)
    for side in ("first", "second"):
        yield from _condition_paths(getattr(condition, side, None))


def _constant_name(expression) -> str | None:
    if isinstance(expression, FilterExpression) and isinstance(expression.var, str):
        return expression.var
    return None


class Walker:
    """Walks compiled templates; ``resolve(name)`` returns the compiled template (``django.template.base.Template``)
    that a real render would load for ``name``, or None."""

    def __init__(self, resolve: Callable[[str], object | None]):
        self.resolve = resolve
        self.uses: list[tuple[Use, frozenset[str]]] = []  # each with the names in scope where it is read

    def template(self, template, scope=frozenset(), blocks=None, depth=0) -> None:
        if template is None or depth > _MAX_DEPTH:
            return
        nodelist = getattr(template, "nodelist", None)
        if nodelist is None:
            return
        extends = next((node for node in nodelist if isinstance(node, ExtendsNode)), None)
        if extends is not None:
            own = {block.name: block for block in nodelist.get_nodes_by_type(BlockNode)}
            merged = {**own, **(blocks or {})}  # the most derived template's block wins
            for node in nodelist:  # what a child writes outside its blocks is not output, but may bind names
                if not isinstance(node, (ExtendsNode, BlockNode)):
                    scope = scope | _bound_by(node)
            parent = _constant_name(extends.parent_name)
            self.template(self.resolve(parent) if parent else None, scope, merged, depth + 1)
            return
        self.nodes(nodelist, scope, blocks or {}, depth)

    def nodes(self, nodelist, scope, blocks, depth) -> None:
        scope = frozenset(scope)
        for node in nodelist:
            self.node(node, scope, blocks, depth)
            scope = scope | _bound_by(node)

    def read(self, expression, node, scope) -> None:
        for path in _paths(expression):
            self.uses.append((Use(path, _template_name(node)), scope))

    def node(self, node: Node, scope, blocks, depth) -> None:
        if isinstance(node, VariableNode):
            self.read(node.filter_expression, node, scope)
        elif isinstance(node, BlockNode):
            chosen = blocks.get(node.name, node)
            self.nodes(chosen.nodelist, scope, blocks, depth)
        elif isinstance(node, ForNode):
            self.read(node.sequence, node, scope)
            self.nodes(node.nodelist_loop, scope | set(node.loopvars), blocks, depth)
            self.nodes(node.nodelist_empty, scope, blocks, depth)
        elif isinstance(node, IfNode):
            for condition, nodelist in node.conditions_nodelists:
                self.nodes(nodelist, scope | set(_condition_paths(condition)), blocks, depth)
        elif isinstance(node, WithNode):
            for expression in node.extra_context.values():
                self.read(expression, node, scope)
            self.nodes(node.nodelist, scope | set(node.extra_context), blocks, depth)
        elif isinstance(node, IncludeNode):
            for expression in node.extra_context.values():
                self.read(expression, node, scope)
            inner = frozenset(node.extra_context) | (frozenset() if node.isolated_context else scope)
            name = _constant_name(node.template)
            self.template(self.resolve(name) if name else None, inner, None, depth + 1)
        else:
            self.generic(node, scope, blocks, depth)

    def generic(self, node, scope, blocks, depth) -> None:
        """Any other tag: the filter expressions among its attributes, and its child node lists."""
        for value in vars(node).values():
            if isinstance(value, FilterExpression):
                self.read(value, node, scope)
            elif isinstance(value, (list, tuple)):
                for item in value:
                    if isinstance(item, FilterExpression):
                        self.read(item, node, scope)
            elif isinstance(value, dict):
                for item in value.values():
                    if isinstance(item, FilterExpression):
                        self.read(item, node, scope)
        for attribute in getattr(node, "child_nodelists", ()):
            children = getattr(node, attribute, None)
            if children:
                self.nodes(children, scope, blocks, depth)


def _bound_by(node) -> frozenset[str]:
    """Names a tag defines for what follows it (``{% url ... as x %}``, ``{% get_action_links ... as x %}``,
    ``{% cycle ... as x %}``, ``{% regroup ... as x %}``, ``{% firstof ... as x %}``)."""
    names = set()
    for attribute in ("target_var", "asvar", "var_name", "variable_name"):
        value = getattr(node, attribute, None)
        if isinstance(value, str) and value:
            names.add(value)
    return frozenset(names)


def uses(templates, resolve) -> list[tuple[Use, frozenset[str]]]:
    """Every variable read (with its scope) by the compiled ``templates``, following extends and includes."""
    walker = Walker(resolve)
    for template in templates:
        walker.template(template)
    return walker.uses


_UNDEFINED = object()
_OPAQUE = object()


def lookup(context: dict, path: str):
    """The value of ``path`` in ``context`` as a template would find it through mappings and list indexes;
    ``_UNDEFINED`` when a step is missing, ``_OPAQUE`` when a step is an object only a render can read."""
    parts = path.split(".")
    if parts[0] not in context:
        return _UNDEFINED
    value = context[parts[0]]
    for key in parts[1:]:
        if isinstance(value, dict):
            if key not in value:
                return _UNDEFINED
            value = value[key]
        elif isinstance(value, (list, tuple)) and key.lstrip("-").isdigit():
            index = int(key)
            if not -len(value) <= index < len(value):
                return _UNDEFINED
            value = value[index]
        else:
            return _OPAQUE  # an object: not data, not judged here
    return value


def problems(found: list[tuple[Use, frozenset[str]]], context: dict) -> list[tuple[Use, str]]:
    """The uses ``context`` cannot fill: ("undefined" | "empty") per variable and template, once each."""
    result, seen = [], set()
    for use, scope in found:
        head = use.path.split(".")[0]
        if head in scope or head in ALWAYS_DEFINED or any(name.split(".")[0] == head for name in scope):
            continue
        value = lookup(context, use.path)
        if value is _OPAQUE:
            continue
        if value is _UNDEFINED:
            kind = "undefined"
        elif value is None or (isinstance(value, str) and not value.strip()):
            kind = "empty" if head in context else "undefined"
        else:
            continue
        if (use, kind) not in seen:
            seen.add((use, kind))
            result.append((use, kind))
    return result
