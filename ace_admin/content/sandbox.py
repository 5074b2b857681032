"""The data-only sandbox for templates a person edits in the admin (DB templates, preview edits, imports).

Applied when such a template is compiled (:class:`SandboxParser`), so every node keeps the rules of the
template it was written in: a filesystem template extending or including a DB template, or the reverse,
renders each node with its own template's rules. By allowlist, not blocklist:

- a variable resolves through :func:`lookup`: mapping keys, sequence indexes, the few data attributes and
  pure zero-argument methods listed in ``ATTRIBUTES`` for plain value types, and the documented fields of
  read-only views of ACE's message, recipient and channel. The context itself is only read by key (never
  ``context.template``...). Nothing else is reachable and nothing else is called;
- every value a sandboxed expression yields goes through :func:`guard` (plain data, views, or an empty
  :data:`HIDDEN` placeholder), so a filesystem template it includes is never handed a raw object;
- only the tags and filters listed in ``TAGS`` / ``FILTERS`` compile; filters that can allocate have their
  arguments capped, every filter's result is checked against the output budget;
- rendering counts nodes, includes (count and depth), output bytes as they are produced and time per node
  (:class:`Budget`); crossing a limit raises :class:`TemplateLimitExceeded`, which fails the message
  with ``TEMPLATE_ERROR``.
"""

from __future__ import annotations

import contextvars
import datetime
import enum
import itertools
import re
import time
import uuid
from decimal import Decimal, InvalidOperation
from functools import cache, lru_cache, wraps

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.template import TemplateSyntaxError, defaultfilters, defaulttags, loader_tags
from django.template.base import FilterExpression, Node, NodeList, Parser, Variable, VariableDoesNotExist
from django.template.defaulttags import GroupedResult
from django.template.loader_tags import BlockNode
from django.utils.functional import LazyObject, Promise, empty
from django.utils.safestring import SafeData, SafeString, mark_safe
from django.utils.timezone import template_localtime

from ace.channel import Channel
from ace.message import Message
from ace.recipient import Recipient
from ace_admin.settings import DEFAULTS, admin_settings

# --- settings ------------------------------------------------------------------------------------------------------

#: name -> default (defined with their meaning in ``ace_admin.settings``); read through :func:`limit`, re-read
#: when a test overrides them.
LIMITS = {name: default for name, default in DEFAULTS.items() if name.startswith("ACE_ADMIN_TEMPLATE_MAX_")}


@cache
def limit(name: str):
    return type(LIMITS[name])(getattr(admin_settings, name))


@receiver(setting_changed)
def _limits_changed(*, setting: str, **kwargs) -> None:
    if setting in LIMITS:
        limit.cache_clear()


class TemplateLimitExceeded(RuntimeError):
    """A sandboxed template went over one of its render limits; nothing is sent."""


class SandboxRefused(VariableDoesNotExist):
    """A sandboxed template asked for something it may not read; it renders as a missing variable."""


# --- refusals, for the preview ----------------------------------------------------------------------------------

_refusals: contextvars.ContextVar = contextvars.ContextVar("ace_admin_sandbox_refusals", default=None)


class collect_refusals:
    """``with collect_refusals() as refused:`` -> the variable paths a sandboxed template was refused."""

    def __enter__(self) -> list[str]:
        self.found: list[str] = []
        self.token = _refusals.set(self.found)
        return self.found

    def __exit__(self, *exc):
        _refusals.reset(self.token)


def _refused(path: str) -> SandboxRefused:
    found = _refusals.get()
    if found is not None and len(found) < 50 and path not in found:
        found.append(path)
    return SandboxRefused("%s is not available in templates edited in the admin", (path,))


# --- values ------------------------------------------------------------------------------------------------------


class Hidden:
    """What a sandboxed template gets for an object it may not see: renders empty, has no attributes."""

    __slots__ = ()

    def __str__(self):
        return ""

    def __repr__(self):
        return "''"

    def __bool__(self):
        return False


HIDDEN = Hidden()


class _View:
    """A read-only view of an ACE object: only the names in ``fields`` exist for a template."""

    __slots__ = ("_target",)
    fields: frozenset[str] = frozenset()

    def __init__(self, target):
        object.__setattr__(self, "_target", target)

    def __setattr__(self, name, value):
        raise AttributeError("read-only")

    def __repr__(self):
        return f"<{type(self).__name__}>"

    def __eq__(self, other):
        return isinstance(other, _View) and other._target is self._target

    def __hash__(self):
        return id(self._target)


class RecipientView(_View):
    """``recipient``: ``lms_user_id`` and ``email_address``."""

    __slots__ = ()
    fields = frozenset({"lms_user_id", "email_address"})

    @property
    def lms_user_id(self):
        return guard(self._target.lms_user_id)

    @property
    def email_address(self):
        return guard(self._target.email_address)

    def __str__(self):
        return str(self._target.email_address or "")


class MessageView(_View):
    """``message``: its documented fields; ``context`` and ``options`` are plain mappings."""

    __slots__ = ()
    fields = frozenset({"app_label", "name", "recipient", "expiration_time", "context", "send_uuid", "options",
                        "language", "log_level", "uuid", "log_id", "unique_name"})

    def __str__(self):
        return str(self._target.unique_name)

    def __getattr__(self, name):
        if name in MessageView.fields:
            return guard(getattr(self._target, name))
        raise AttributeError(name)


class ChannelView(_View):
    """``channel``: ``channel_type``, ``name``, ``action_links``, ``tracker_image_sources``; plus
    ``get_action_links`` for ``{% get_action_links channel %}`` (a tag may call it, a variable may not)."""

    __slots__ = ()
    fields = frozenset({"channel_type", "name", "action_links", "tracker_image_sources"})

    def __str__(self):
        return str(self._target.name or "")

    def __getattr__(self, name):
        if name in ChannelView.fields:
            return guard(getattr(self._target, name, None))
        raise AttributeError(name)

    def get_action_links(self, message=None, omit_unsubscribe_link=False):
        method = getattr(self._target, "get_action_links", None)
        if method is None:
            return []
        if isinstance(message, MessageView):
            message = message._target
        return guard(method(message=message, omit_unsubscribe_link=omit_unsubscribe_link))


class BlockView(_View):
    """``block`` inside ``{% block %}``: only ``block.super``."""

    __slots__ = ()
    fields = frozenset({"super"})

    def super(self):
        return self._target.super()

    def __str__(self):
        return ""


VIEWS = ((Message, MessageView), (Recipient, RecipientView), (Channel, ChannelView), (BlockNode, BlockView))

_DATETIME = ("year", "month", "day", "hour", "minute", "second", "microsecond", "fold")
#: type -> {name: True for a pure zero-argument method to call, False for a data attribute}.
ATTRIBUTES: dict[type, dict[str, bool]] = {
    str: {name: True for name in (
        "upper", "lower", "title", "capitalize", "casefold", "swapcase", "strip", "lstrip", "rstrip", "split",
        "splitlines", "isdigit", "isalpha", "isalnum", "isspace", "isupper", "islower", "istitle", "isnumeric",
        "isdecimal")},
    dict: {"items": True, "keys": True, "values": True},
    datetime.datetime: {**{name: False for name in _DATETIME},
                        **{name: True for name in ("isoformat", "weekday", "isoweekday", "date", "time",
                                                   "timestamp", "utcoffset", "tzname", "toordinal", "ctime")}},
    datetime.date: {**{name: False for name in ("year", "month", "day")},
                    **{name: True for name in ("isoformat", "weekday", "isoweekday", "toordinal", "ctime")}},
    datetime.time: {**{name: False for name in ("hour", "minute", "second", "microsecond", "fold")},
                    "isoformat": True},
    datetime.timedelta: {"days": False, "seconds": False, "microseconds": False, "total_seconds": True},
    uuid.UUID: {"hex": False, "int": False, "urn": False, "version": False},
    Decimal: {"is_signed": True, "is_zero": True},
    int: {}, float: {"is_integer": True}, bool: {}, type(None): {}, list: {}, tuple: {},
}

_SCALARS = frozenset({str, SafeString, int, float, bool, type(None), Decimal, uuid.UUID, datetime.date,
                      datetime.datetime, datetime.time, datetime.timedelta})


def guard(value, _depth: int = 0, _count: list | None = None):
    """``value`` as a sandboxed template may hold it: plain data (containers checked through), a view, or
    :data:`HIDDEN`. Returns the very object when it is already plain data (no copy)."""
    kind = type(value)
    if kind in _SCALARS or isinstance(value, (_View, Hidden)):
        return value
    if kind is dict or kind is list or kind is tuple or kind is GroupedResult:
        return _guard_container(value, _depth, _count)
    if issubclass(kind, LazyObject):
        # SimpleLazyObject & co. pass isinstance() checks for what they wrap but are not it: guard the value.
        if value._wrapped is empty:
            value._setup()
        return guard(value._wrapped, _depth, _count)
    if isinstance(value, Promise):
        return str(value)
    if isinstance(value, enum.Enum):
        return str(value)
    if isinstance(value, SafeData) and isinstance(value, str):
        return SafeString(value)
    if isinstance(value, str):
        return str.__str__(value)
    if isinstance(value, bool):
        return bool(value)
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, (Decimal, uuid.UUID, datetime.date, datetime.time, datetime.timedelta)):
        return value
    for cls, view in VIEWS:
        if isinstance(value, cls):
            return view(value)
    if isinstance(value, (dict, list, tuple, set, frozenset, type({}.items()), type({}.keys()),
                          type({}.values()))):
        return _guard_container(value, _depth, _count)
    return HIDDEN


def _guard_container(value, depth, count):
    if count is None:
        count = [0]
    count[0] += len(value)
    if count[0] > limit("ACE_ADMIN_TEMPLATE_MAX_ITEMS"):
        raise TemplateLimitExceeded("A list or mapping in the template data is too large to use here.")
    if depth > 32:
        return HIDDEN
    depth += 1
    kind = type(value)
    # One pass; plain data (the usual case) comes back as is, copied only from the first item that changed.
    if isinstance(value, dict):
        result = None if kind is dict else {}
        for index, (key, item) in enumerate(dict.items(value)):
            new_key = key if type(key) in _SCALARS else guard(key, depth, count)
            new_item = item if type(item) in _SCALARS else guard(item, depth, count)
            if result is None and (new_key is not key or new_item is not item):
                result = dict(itertools.islice(dict.items(value), index))
            if result is not None:
                result[new_key] = new_item
        return value if result is None else result
    result = None
    for index, item in enumerate(value):
        new_item = item if type(item) in _SCALARS else guard(item, depth, count)
        if result is None and new_item is not item:
            result = list(itertools.islice(value, index))
        if result is not None:
            result.append(new_item)
    if result is None and (kind is list or kind is tuple):
        return value
    items = list(value) if result is None else result
    if kind is GroupedResult:
        return GroupedResult(*items)
    if isinstance(value, tuple) and not hasattr(value, "_fields"):
        return tuple(items)
    return items


def _as_index(bit: str):
    try:
        return int(bit)
    except ValueError:
        return None


def step(current, bit: str, path: str):
    """One ``.bit`` of a sandboxed variable path from the guarded value ``current``."""
    kind = type(current)
    if isinstance(current, dict):
        found = dict.get(current, bit, _MISSING)
        if found is not _MISSING:
            return found
        index = _as_index(bit)
        if index is not None and index in current:
            return dict.get(current, index)
        if bit in ATTRIBUTES[dict]:
            return list(getattr(dict, bit)(current))
        raise VariableDoesNotExist("%s does not exist", (path,))
    if isinstance(current, _View):
        if bit not in type(current).fields:
            raise _refused(path)
        value = getattr(current, bit)
        return value() if callable(value) else value
    if isinstance(current, (list, tuple, str)):
        if isinstance(current, tuple) and bit in getattr(current, "_fields", ()):
            return getattr(current, bit)
        index = _as_index(bit)
        if index is not None:
            try:
                return current[index]
            except IndexError:
                raise VariableDoesNotExist("%s has no item %s", (path, bit))
        if isinstance(current, str) and bit in ATTRIBUTES[str]:
            return getattr(str, bit)(current)
        raise _refused(path)
    for cls in (kind, *kind.__mro__[1:]):
        allowed = ATTRIBUTES.get(cls)
        if allowed is not None:
            call = allowed.get(bit)
            if call is None:
                raise _refused(path)
            value = getattr(cls, bit)
            if call:
                return value(current)
            return value.__get__(current, cls) if hasattr(value, "__get__") else value
    raise _refused(path)


_MISSING = object()


def lookup(context, bits, var: str):
    """Resolve the path ``bits`` in ``context`` by the sandbox's rules; ``VariableDoesNotExist`` when absent
    (``SandboxRefused`` when not allowed)."""
    try:
        current = context[bits[0]]
    except (KeyError, TypeError):
        raise VariableDoesNotExist("%s does not exist", (bits[0],))
    # Each step only needs the value's kind (step() reads nothing else); the result is guarded in depth.
    for position, bit in enumerate(bits[1:], start=2):
        current = step(_shallow(current), bit, ".".join(bits[:position]))
    return guard(current)


def _shallow(value):
    kind = type(value)
    if kind is dict or kind is list or kind is tuple or kind in _SCALARS:
        return value
    if isinstance(value, (dict, list, tuple)) and not isinstance(value, GroupedResult):
        return guard(value)  # a subclass: a plain copy, read without its own methods
    if isinstance(value, (list, tuple, dict)):
        return value
    return guard(value)


class SandboxVariable(Variable):
    """A ``Variable`` whose lookups go through :func:`lookup`."""

    __slots__ = ()

    def _resolve_lookup(self, context):
        return lookup(context, self.lookups, self.var)


def _sandboxed_variable(variable):
    if not isinstance(variable, Variable) or isinstance(variable, SandboxVariable):
        return variable
    if variable.lookups and variable.lookups[0].startswith("_"):
        raise TemplateSyntaxError(f"Variables may not begin with underscores: '{variable.var}'")
    sandboxed = SandboxVariable.__new__(SandboxVariable)
    for name in Variable.__slots__:
        setattr(sandboxed, name, getattr(variable, name))
    return sandboxed


# --- budget ------------------------------------------------------------------------------------------------------


_monotonic = time.monotonic


class Budget:
    """What one message (all its rendered parts: subject, HTML body...) may still spend on one channel."""

    __slots__ = ("bytes", "deadline", "depth", "includes", "max_bytes", "nodes", "seconds")

    def __init__(self):
        self.seconds = limit("ACE_ADMIN_TEMPLATE_MAX_SECONDS")
        self.deadline = time.monotonic() + self.seconds
        self.max_bytes = limit("ACE_ADMIN_TEMPLATE_MAX_BYTES")
        self.bytes = 0
        self.nodes = limit("ACE_ADMIN_TEMPLATE_MAX_NODES")
        self.includes = limit("ACE_ADMIN_TEMPLATE_MAX_INCLUDES")
        self.depth = limit("ACE_ADMIN_TEMPLATE_MAX_DEPTH")

    def tick(self) -> None:
        self.nodes -= 1
        if self.nodes < 0:
            raise TemplateLimitExceeded("The template renders too many elements (loops, includes); stopped.")
        if _monotonic() > self.deadline:
            raise TemplateLimitExceeded(f"The template took more than {self.seconds:g} s to render; stopped.")

    def produced(self, size: int) -> None:
        self.bytes += size
        if self.bytes > self.max_bytes:
            raise self.too_much()

    def too_much(self) -> TemplateLimitExceeded:
        return TemplateLimitExceeded(f"The template rendered more than {self.max_bytes // 1024} KiB of text; "
                                     f"stopped.")

    def check_size(self, value) -> None:
        if isinstance(value, (str, list, tuple, dict)) and len(value) > self.max_bytes:
            raise self.too_much()


_budget: contextvars.ContextVar = contextvars.ContextVar("ace_admin_render_budget", default=None)


def active_budget() -> Budget | None:
    return _budget.get()


#: (the engine's current rendering, its budget): every part of one message spends the same budget.
_per_message: contextvars.ContextVar = contextvars.ContextVar("ace_admin_message_budget", default=(None, None))


def _current_rendering():
    """The engine's marker of the ``presentation.render(channel, message)`` call in progress (a new object per
    call), or None outside one (a template rendered on its own: a budget per render)."""
    from ace import presentation

    marker = getattr(presentation, "_rendering", None)
    value = marker.get() if isinstance(marker, contextvars.ContextVar) else None
    return value if isinstance(value, tuple) and value and value[0] is not None else None


def _budget_for_this_render() -> Budget:
    """While the engine renders a message, the one budget of that message for that channel (subject, bodies and
    every other part together); else a new budget."""
    rendering = _current_rendering()
    if rendering is None:
        return Budget()
    owner, budget = _per_message.get()
    if owner is not rendering:
        budget = Budget()
        _per_message.set((rendering, budget))  # kept until the next message renders in this context
    return budget


class budget_scope:
    """Open a budget unless one is active (the outermost sandboxed template of a render opens it); within the
    engine's rendering of a message, every part continues that message's budget."""

    def __enter__(self):
        self.token = _budget.set(_budget_for_this_render()) if _budget.get() is None else None
        return _budget.get()

    def __exit__(self, *exc):
        if self.token is not None:
            _budget.reset(self.token)


class SandboxNodeList(NodeList):
    """Renders its nodes one by one, spending the budget: a node each, the text as it is produced."""

    def render(self, context):
        budget = _budget.get()
        if budget is None:
            with budget_scope():
                return self.render(context)
        parts = []
        append, tick = parts.append, budget.tick
        for node in self:
            tick()
            before = budget.bytes
            bit = node.render_annotated(context)
            # Leaves count their text; a node holding others adds only what its children did not count
            # (the text of a filesystem template it includes, for instance).
            extra = len(bit) - budget.bytes + before
            if extra > 0:
                budget.produced(extra)
            append(bit)
        return SafeString("".join(parts))


# --- filters -----------------------------------------------------------------------------------------------------


def _int_argument(value, what: str) -> None:
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return
    if abs(number) > limit("ACE_ADMIN_TEMPLATE_MAX_ARGUMENT"):
        raise TemplateLimitExceeded(f"{what} {number} is over the limit of "
                                    f"{limit('ACE_ADMIN_TEMPLATE_MAX_ARGUMENT')}.")


def _cap_width(value, arg=None):
    _int_argument(arg, "The width")


_FORMAT_NUMBERS = re.compile(r"\d+")


def _cap_format(value, arg=None):
    for number in _FORMAT_NUMBERS.findall(str(arg)):
        if len(number) > 6 or int(number) > 1000:
            raise TemplateLimitExceeded(f"The format {arg!s:.40} asks for too wide a value.")
    if "*" in str(arg):
        raise TemplateLimitExceeded("The format may not use '*'.")


def _cap_number(value, arg=-1):
    text = str(arg).rstrip("gGuU")  # floatformat's grouping / unlocalized suffixes
    try:
        precision = int(text or 0)
    except (ValueError, OverflowError):
        precision = 0
    if abs(precision) > 1000:
        raise TemplateLimitExceeded("The precision is over the limit of 1000.")
    kind = type(value)
    if kind is float or kind is bool:
        return  # a float's exponent stops at 308: never over the limit
    if kind is int:
        if value.bit_length() <= 3000:  # under 10**903: not worth a Decimal
            return
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
    except (InvalidOperation, ValueError, TypeError):
        return
    if number.is_finite() and abs(number.adjusted()) > 1000:
        raise TemplateLimitExceeded("The number is too large to format.")


def _cap_length(maximum: int):
    def check(value, arg=None):
        if isinstance(value, (str, list, tuple, dict)) and len(value) > maximum:
            raise TemplateLimitExceeded(f"The value is too long for this filter (over {maximum} items).")
    return check


def _cap_join(value, arg=""):
    if isinstance(value, (list, tuple)):
        size = len(str(arg)) * len(value) + sum(len(str(item)) for item in value[:100_000])
        budget = _budget.get()
        if budget is not None and size > budget.max_bytes:
            raise budget.too_much()


def _cap_date_format(value, arg=None):
    if arg is not None and len(str(arg)) > 200:
        raise TemplateLimitExceeded("The date format is longer than 200 characters.")


def _sandboxed_dictsort(reverse: bool):
    def dictsort(value, arg):
        if not isinstance(value, (list, tuple)):
            return ""
        if isinstance(arg, int):
            def key(item):
                return item[arg]
        else:
            bits = str(arg).split(".")
            if any(bit.startswith("_") or not bit for bit in bits):
                return ""

            def key(item):
                current = guard(item)
                for position, bit in enumerate(bits, start=1):
                    current = guard(step(current, bit, "|dictsort:" + ".".join(bits[:position])))
                return current
        try:
            return sorted(value, key=key, reverse=reverse)
        except (AttributeError, TypeError, IndexError, KeyError, VariableDoesNotExist):
            return ""
    dictsort.is_safe = False
    return dictsort


_DICTSORT = _sandboxed_dictsort(False)
_DICTSORT_REVERSED = _sandboxed_dictsort(True)

#: Built-in filter name -> a check run on (value, argument) before the filter runs (None: none needed;
#: every filter's result is checked against the output budget after it runs).
FILTER_CHECKS = {
    "add": None, "addslashes": None, "capfirst": None, "center": _cap_width, "cut": None,
    "date": _cap_date_format, "default": None, "default_if_none": None, "dictsort": None,
    "dictsortreversed": None, "divisibleby": None, "escape": None, "escapejs": None, "escapeseq": None,
    "filesizeformat": None, "first": None, "floatformat": _cap_number, "force_escape": None,
    "get_digit": None, "iriencode": None, "join": _cap_join, "json_script": None, "last": None, "length": None,
    "linebreaks": None, "linebreaksbr": None, "linenumbers": _cap_length(100_000), "ljust": _cap_width,
    "lower": None, "make_list": _cap_length(100_000), "phone2numeric": None, "pluralize": None,
    "pprint": None, "random": None, "rjust": _cap_width, "safe": None, "safeseq": None, "slice": None,
    "slugify": None, "stringformat": _cap_format, "striptags": _cap_length(200_000), "time": _cap_date_format,
    "timesince": None, "timeuntil": None, "title": None, "truncatechars": None,
    "truncatechars_html": _cap_length(200_000), "truncatewords": None, "truncatewords_html": _cap_length(200_000),
    "unordered_list": None, "upper": None, "urlencode": None, "urlize": _cap_length(200_000),
    "urlizetrunc": _cap_length(200_000), "wordcount": None, "wordwrap": _cap_width, "yesno": None,
    # i18n, l10n, tz
    "language_name": None, "language_name_local": None, "language_bidi": None,
    "language_name_translated": None, "localize": None, "unlocalize": None, "localtime": None, "utc": None,
    "timezone": None,
}
_REPLACED_FILTERS = {"dictsort": _DICTSORT, "dictsortreversed": _DICTSORT_REVERSED}


def _sandboxed_filter(name, original):
    check = FILTER_CHECKS[name]
    function = _REPLACED_FILTERS.get(name, original)

    @wraps(original)
    def run(value, *args, **kwargs):
        budget = _budget.get()
        if budget is not None:
            budget.tick()
        if check is not None:
            check(value, *args)
        result = function(value, *args, **kwargs)
        if budget is not None:
            budget.check_size(result)
        return result

    return run


class SandboxFilterExpression(FilterExpression):
    """A ``FilterExpression`` whose variables resolve through the sandbox and whose results are guarded."""

    __slots__ = ()

    def __init__(self, token, parser):
        super().__init__(token, parser)
        self.var = _sandboxed_variable(self.var)
        self.filters = [(func, [(is_lookup, _sandboxed_variable(arg) if is_lookup else arg)
                                for is_lookup, arg in args]) for func, args in self.filters]

    def resolve(self, context, ignore_failures=False):
        if self.is_var:
            try:
                obj = self.var.resolve(context)
                if self.var.translate:
                    obj = guard(obj)
            except VariableDoesNotExist:
                if ignore_failures:
                    obj = None
                else:
                    string_if_invalid = context.template.engine.string_if_invalid
                    if string_if_invalid:
                        return string_if_invalid % self.var if "%s" in string_if_invalid else string_if_invalid
                    obj = string_if_invalid
        else:
            obj = guard(self.var)
        for func, args in self.filters:
            arg_values = [guard(arg.resolve(context)) if is_lookup else mark_safe(arg) for is_lookup, arg in args]
            if getattr(func, "expects_localtime", False):
                obj = template_localtime(obj, context.use_tz)
            if getattr(func, "needs_autoescape", False):
                new_obj = func(obj, *arg_values, autoescape=context.autoescape)
            else:
                new_obj = func(obj, *arg_values)
            if getattr(func, "is_safe", False) and isinstance(obj, SafeData):
                obj = mark_safe(new_obj)
            else:
                obj = new_obj
            obj = guard(obj)
        return obj


# --- tags --------------------------------------------------------------------------------------------------------


def _literal_name(expression, tag: str):
    if expression.is_var or expression.filters or not isinstance(expression.var, str):
        raise TemplateSyntaxError(f"{{% {tag} %}} takes the template's name in quotes here, not a variable.")


def _relative(parser, token, tag):
    bits = token.split_contents()
    if len(bits) > 1 and bits[1].strip("'\"").startswith(("./", "../")) and not parser.origin.template_name:
        raise TemplateSyntaxError(f"{{% {tag} {bits[1]} %}}: a relative name needs the template's own name; "
                                  f"write the full name instead.")


def _counted(render):
    @wraps(render)
    def counted(context):
        budget = _budget.get()
        if budget is None:
            return render(context)
        budget.includes -= 1
        if budget.includes < 0:
            raise TemplateLimitExceeded("The template includes other templates too many times; stopped.")
        budget.depth -= 1
        try:
            if budget.depth < 0:
                raise TemplateLimitExceeded("Templates are included too deeply; stopped.")
            return render(context)
        finally:
            budget.depth += 1
    return counted


def _loader_tag(django_tag, name_of):
    """A sandboxed ``include`` or ``extends``: Django's own tag, with a literal template name (no relative
    one) and every render counted against the message's include budget."""
    tag_name = django_tag.__name__.removeprefix("do_")

    def compile_tag(parser, token):
        _relative(parser, token, tag_name)
        node = django_tag(parser, token)
        _literal_name(name_of(node), tag_name)
        node.render = _counted(node.render)
        return node

    return compile_tag


_include = _loader_tag(loader_tags.do_include, lambda node: node.template)
_extends = _loader_tag(loader_tags.do_extends, lambda node: node.parent_name)


class _LoopBody(Node):
    """The body of a sandboxed ``{% for %}`` as one node: Django's loop renders the nodes of its body itself,
    this makes each turn go through :class:`SandboxNodeList` (nodes, text and time counted)."""

    child_nodelists = ("nodelist",)

    def __init__(self, nodelist, token, origin):
        self.nodelist, self.token, self.origin = nodelist, token, origin

    def render(self, context):
        return self.nodelist.render(context)


def _for(parser, token):
    node = defaulttags.do_for(parser, token)
    node.nodelist_loop = NodeList([_LoopBody(node.nodelist_loop, token, parser.origin)])
    return node


def _load(parser, token):
    bits = token.contents.split()
    names = bits[bits.index("from") + 1:] if "from" in bits else bits[1:]
    for name in names:
        if name not in ALLOWED_LIBRARIES:
            raise TemplateSyntaxError(f"{{% load {name} %}} is not allowed here; allowed tag libraries: "
                                      f"{', '.join(sorted(ALLOWED_LIBRARIES))}.")
    return defaulttags.load(parser, token)


def _capped_count(attribute: str, what: str):
    """A tag whose node resolves a count (lorem) or a width (widthratio): capped at compile time when
    literal, at render time otherwise."""
    def wrap(original):
        def compile_tag(parser, token):
            node = original(parser, token)
            expression = getattr(node, attribute)
            if not expression.is_var:
                _compile_cap(expression.var, what)
            elif expression.var.lookups is None:  # a number written in the tag
                _compile_cap(expression.var.literal, what)
            render = node.render

            def render_capped(context):
                _int_argument(guard(expression.resolve(context, ignore_failures=True)), what)
                return render(context)

            node.render = render_capped
            return node
        return compile_tag
    return wrap


def _compile_cap(value, what):
    try:
        _int_argument(value, what)
    except TemplateLimitExceeded as error:
        raise TemplateSyntaxError(str(error))


def _guard_stored(original, attribute: str):
    """A tag that can store its value in the context (``... as name``): the stored value is guarded."""
    def compile_tag(parser, token):
        node = original(parser, token)
        name = getattr(node, attribute, None)
        if name:
            render = node.render

            def render_guarded(context):
                output = render(context)
                for layer in reversed(context.dicts):
                    if name in layer:
                        layer[name] = guard(layer[name])
                        break
                return output

            node.render = render_guarded
        return node
    return compile_tag


def _blocktranslate(original):
    """``{% blocktranslate %}`` reads the variables of its body from the context itself: guard them first."""
    def compile_tag(parser, token):
        node = original(parser, token)
        names = {token.contents for token in (*node.singular, *(node.plural or ())) if token.token_type.value == 1}
        render = node.render

        def render_guarded(context, nested=False):
            values = {}
            for name in names:
                try:
                    values[name] = guard(context[name])
                except KeyError:
                    pass
            with context.push(**values):
                return render(context, nested)

        node.render = render_guarded
        return node
    return compile_tag


#: Tag libraries a template edited in the admin may {% load %}: formatting only, nothing that reads settings.
ALLOWED_LIBRARIES = frozenset({"i18n", "l10n", "tz", "static", "acetags"})


@lru_cache(maxsize=1)
def _tag_rules() -> dict:
    """(tag name, the library's own compile function) -> the compile function a sandboxed template uses."""
    from django.templatetags import i18n, l10n, static, tz

    from ace.templatetags import acetags

    plain = {name: defaulttags.register.tags[name] for name in (
        "autoescape", "comment", "cycle", "filter", "firstof", "if", "ifchanged", "now", "regroup",
        "resetcycle", "spaceless", "templatetag", "url", "verbatim", "with")}
    plain["block"] = loader_tags.register.tags["block"]
    rules = {(name, function): function for name, function in plain.items()}
    for name, attribute in (("now", "asvar"), ("url", "asvar"), ("firstof", "asvar")):
        function = defaulttags.register.tags[name]
        rules[(name, function)] = _guard_stored(function, attribute)
    rules[("load", defaulttags.register.tags["load"])] = _load
    rules[("for", defaulttags.register.tags["for"])] = _for
    rules[("include", loader_tags.register.tags["include"])] = _include
    rules[("extends", loader_tags.register.tags["extends"])] = _extends
    lorem, ratio = defaulttags.register.tags["lorem"], defaulttags.register.tags["widthratio"]
    rules[("lorem", lorem)] = _capped_count("count", "The lorem count")(lorem)
    rules[("widthratio", ratio)] = _guard_stored(_capped_count("max_width", "The width")(ratio), "asvar")
    stored = {"get_available_languages": "variable", "get_language_info": "variable",
              "get_language_info_list": "variable", "get_current_language": "variable",
              "get_current_language_bidi": "variable", "translate": "asvar", "trans": "asvar"}
    for name, function in i18n.register.tags.items():
        if name in ("blocktranslate", "blocktrans"):
            rules[(name, function)] = _guard_stored(_blocktranslate(function), "asvar")
        elif name in stored:
            rules[(name, function)] = _guard_stored(function, stored[name])
        elif name == "language":
            rules[(name, function)] = function
    for name, function in l10n.register.tags.items():
        rules[(name, function)] = function
    for name, function in tz.register.tags.items():
        rules[(name, function)] = _guard_stored(function, "variable") if name == "get_current_timezone" \
            else function
    for name, function in static.register.tags.items():
        rules[(name, function)] = _guard_stored(function, "varname")
    for name, function in acetags.register.tags.items():
        rules[(name, function)] = _guard_stored(function, "target_var")
    return rules


@lru_cache(maxsize=256)
def _sandboxed_filter_for(name, original):
    return _sandboxed_filter(name, original)


class SandboxParser(Parser):
    """Compiles a template a person wrote: only allowlisted tags and filters, sandboxed expressions, nodes
    that spend the render budget."""

    def add_library(self, lib):
        rules = _tag_rules()
        for name, function in lib.tags.items():
            rule = rules.get((name, function))
            if rule is not None:
                self.tags[name] = rule
            else:
                self.tags.pop(name, None)
        for name, function in lib.filters.items():
            if name in FILTER_CHECKS and _known_filter(name, function):
                self.filters[name] = _sandboxed_filter_for(name, function)
            else:
                self.filters.pop(name, None)

    def parse(self, parse_until=None):
        nodelist = super().parse(parse_until)
        sandboxed = SandboxNodeList(nodelist)
        sandboxed.contains_nontext = getattr(nodelist, "contains_nontext", False)
        return sandboxed

    def compile_filter(self, token):
        return SandboxFilterExpression(token, self)

    def find_filter(self, filter_name):
        if filter_name in self.filters:
            return self.filters[filter_name]
        raise TemplateSyntaxError(f"Invalid filter: '{filter_name}' (templates edited here may use the "
                                  f"built-in filters only).")

    def invalid_block_tag(self, token, command, parse_until=None):
        if command in FORBIDDEN_MESSAGES:
            raise self.error(token, f"Line {token.lineno}: the {{% {command} %}} tag is not allowed in "
                                    f"templates edited here ({FORBIDDEN_MESSAGES[command]}).")
        return super().invalid_block_tag(token, command, parse_until)


FORBIDDEN_MESSAGES = {"debug": "it can reveal private data", "csrf_token": "it has no use in a message",
                      "querystring": "it reads the web request"}


@lru_cache(maxsize=1)
def _known_filters() -> dict:
    from django.templatetags import i18n, l10n, tz

    known = {}
    for library in (defaultfilters.register, i18n.register, l10n.register, tz.register):
        for name, function in library.filters.items():
            known[name] = function
    return known


def _known_filter(name, function) -> bool:
    return _known_filters().get(name) is function

