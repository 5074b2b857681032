"""Preview and test sends: render a message type exactly as ``ace.send`` would, with sample data and unsaved edits.

Rendering goes through ``ace.presentation.render`` (the engine's renderer for the channel type) and the
project's template engine, so the database loader, language and site choice, ``{% extends %}`` and
``{% include %}`` all behave as in a real send. Unsaved editor content stands in for the saved templates
through the loader's :func:`~ace_admin.content.loader.render_session`, for this one render only: nothing is saved.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache

from django.core.exceptions import ValidationError
from django.db.models import F, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.template import TemplateDoesNotExist, TemplateSyntaxError
from django.template.base import Lexer, TokenType

from ace import ace as ace_send
from ace import presentation
from ace.channel import ChannelType, channels, get_channel_for_message
from ace.channel.mixins import EmailChannelMixin
from ace.errors import UnsupportedChannelError
from ace.message import Message
from ace.recipient import Recipient
from ace.renderers import html_to_text
from ace_admin.content.loader import Loader, render_session
from ace_admin.content.safety import check_template_source, project_engine
from ace_admin.content.sandbox import collect_refusals
from ace_admin.models import Template, TemplateRevision
from ace_admin.preview import preflight
from ace_admin.preview.preflight import HTML_CLIP_BYTES  # noqa: F401  (re-exported for callers)

PART_LABELS = {
    "from_name": "From name", "subject": "Subject", "head_html": "HTML head", "body_html": "HTML body",
    "body": "Text body", "title": "Push title",
}


@dataclass
class PreviewRequest:
    """What to preview: a message type, its sample data, and the language / site / channel picked."""

    message_type: object  # ace_admin.models.MessageType
    context: dict = field(default_factory=dict)
    language: str = ""
    site: object = None  # django.contrib.sites.models.Site or None
    channel_type: ChannelType = ChannelType.EMAIL
    channel_name: str = ""  # "" = the channel routing picks
    overlay: dict[str, str] = field(default_factory=dict)  # template name -> unsaved content


@dataclass
class TemplateSource:
    """Where one template used by the render came from."""

    name: str
    kind: str  # "database", "unsaved", "file"
    pk: int | None = None
    revision: int | None = None
    path: str = ""
    language: str = ""
    site: str = ""
    content: str | None = field(default=None, repr=False)

    def describe(self) -> str:
        if self.kind == "database":
            where = ", ".join(filter(None, [self.language or "any language", self.site]))
            return f"database, version {self.revision} ({where})"
        if self.kind == "unsaved":
            return "draft or unsaved changes from the editor (not published)"
        return f"file {self.path}"


@dataclass
class Part:
    field: str
    label: str
    template_name: str
    value: str | None
    source: TemplateSource | None
    note: str = ""


@dataclass
class PreviewError:
    template_name: str
    message: str
    line: int | None = None


@dataclass
class Preview:
    """The outcome of one preview render."""

    channel_type: ChannelType
    channel_name: str = ""
    channel_note: str = ""
    parts: list[Part] = field(default_factory=list)
    sources: list[TemplateSource] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: PreviewError | None = None
    html_document: str = ""
    html_bytes: int = 0
    from_header: str = ""
    findings: list = field(default_factory=list)  # preflight.Finding
    headers: list = field(default_factory=list)  # (name, value) the recipient gets

    @property
    def panel_findings(self) -> list:
        """Preflight findings for the page's panel, errors first; the headers are shown with the parts instead."""
        order = {preflight.ERROR: 0, preflight.WARNING: 1, preflight.INFO: 2}
        shown = [f for f in self.findings if not (f.level == preflight.INFO and f.code.startswith("header-"))]
        return sorted(shown, key=lambda finding: order.get(finding.level, 3))
    message_context: dict = field(default_factory=dict, repr=False)  # as the templates saw it (unsubscribe_url...)

    def part(self, field_name: str) -> Part | None:
        return next((part for part in self.parts if part.field == field_name), None)


@dataclass
class TestSend:
    """What became of a test send to one address."""

    address: str
    status: str
    detail: str = ""
    channel_name: str = ""

    @property
    def sent(self) -> bool:
        return self.status == "sent"


# --- input -------------------------------------------------------------------------------------------------------


def parse_context(text: str) -> dict:
    """The sample data typed as JSON; ``ValueError`` with a message a person can act on."""
    text = (text or "").strip()
    if not text:
        return {}
    try:
        value = json.loads(text)
    except json.JSONDecodeError as error:
        raise ValueError(f"The sample data is not valid JSON: {error.msg} (line {error.lineno}, "
                         f"column {error.colno}).")
    if not isinstance(value, dict):
        raise ValueError("The sample data must be a JSON object, e.g. {\"first_name\": \"Ada\"}.")
    return value


def build_message(request: PreviewRequest, address: str = "", *, is_test: bool = False) -> Message:
    """The ``Message`` a platform would send for this message type, to ``address``."""
    message_type = request.message_type
    options = {"transactional": bool(message_type.transactional)}
    if message_type.category:
        options["category"] = message_type.category
    if request.site is not None:
        options["site"] = request.site.domain
    if is_test:
        options["is_test"] = True
    return Message(app_label=message_type.app_label, name=message_type.name,
                   recipient=Recipient(lms_user_id=None, email_address=address or None),
                   language=request.language or None, context=dict(request.context), options=options)


def pick_channel(request: PreviewRequest, message: Message):
    """(channel, note): the channel picked in the form, else the one routing picks for a real send."""
    if request.channel_name:
        try:
            return channels().get_channel_by_name(request.channel_type, request.channel_name), "picked here"
        except KeyError:
            raise UnsupportedChannelError(
                f"The {request.channel_type.value} channel {request.channel_name!r} is not enabled.")
    return get_channel_for_message(request.channel_type, message), "chosen by routing, as for a real send"


# --- render ------------------------------------------------------------------------------------------------------


def render_preview(request: PreviewRequest, address: str = "") -> Preview:
    """Render every part of the message type for ``request``; errors and warnings are reported, not raised."""
    message = build_message(request, address)
    # What send() adds before rendering (ACE_MESSAGE_PREPARERS: unsubscribe and preference links...).
    ace_send.prepare(message)
    preview = Preview(channel_type=request.channel_type, message_context=message.context)
    try:
        channel, preview.channel_note = pick_channel(request, message)
    except UnsupportedChannelError as error:
        preview.error = PreviewError("", str(error))
        return preview
    preview.channel_name = channel.name or ""
    renderer = presentation.RENDERERS[request.channel_type]
    names = {fld: renderer.get_template_for_message(channel, message, filename)
             for fld, filename in renderer.template_files.items()}
    with render_session(request.overlay) as session, collect_refusals() as refused:
        try:
            rendered = presentation.render(channel, message)
        except TemplateDoesNotExist as error:
            rendered = None
            preview.error = PreviewError(str(error), f"The template {error} does not exist (neither in the "
                                                     f"database for this language and site, nor on disk).")
        except Exception as error:  # noqa: BLE001 — any template failure is shown to the editor, never a 500
            rendered = None
            preview.error = _explain(error, session, request)
    preview.sources = _sources(session, request)
    by_name = {}
    for source in preview.sources:
        by_name.setdefault(source.name, source)
    for fld, name in names.items():
        value = getattr(rendered, fld) if rendered is not None else None
        source = by_name.get(name)
        note = ""
        if source is None and rendered is not None:
            note = "derived from the HTML body" if fld == "body" else "no template: left empty"
        elif fld == "body" and getattr(rendered, "body_html", None) and value == html_to_text(rendered.body_html):
            note = "derived from the HTML body (the HTML was edited here, this text template was not)"
        preview.parts.append(Part(fld, PART_LABELS.get(fld, fld), name, value, source, note))
    if rendered is not None:
        _finish_email(preview, rendered, message, channel)
        preview.warnings += _missing_variable_warnings(preview.sources, request, message.context)
    preview.warnings += [f"{{{{ {path} }}}} is not available in templates edited here (only data and the documented "
                         f"fields of message, recipient and channel are): it renders empty." for path in refused]
    return preview


def _finish_email(preview: Preview, rendered, message, channel) -> None:
    if preview.channel_type is not ChannelType.EMAIL:
        return
    preview.html_document = EmailChannelMixin.html_document(rendered)
    preview.html_bytes = len(preview.html_document.encode("utf-8"))
    from_address = getattr(channel, "from_address", None) or EmailChannelMixin.from_address
    try:
        preview.from_header = from_address(message, rendered)
    except Exception as error:  # noqa: BLE001 — a bad From setting is a warning here, the send would fail
        preview.warnings.append(f"The From header cannot be built: {error}")
    # Preflight (size, subject, preheader, images, links, translations, headers): the panel of the page.
    preview.findings = preflight.check(rendered, message, channel)
    preview.headers = preflight.recipient_headers(message, rendered, channel)


def _sources(session, request: PreviewRequest) -> list[TemplateSource]:
    """Every template the render loaded, in order, once each, with where it came from."""
    engine = project_engine()
    found: list[TemplateSource] = []
    seen = set()
    for name, served in session.served:
        if (name, served) in seen:
            continue
        seen.add((name, served))
        if served is None:
            found.append(TemplateSource(name, "unsaved"))
        elif served is False:
            origin = _file_origin(engine, name)
            if origin is not None and not any(s.kind == "file" and s.name == name for s in found):
                found.append(TemplateSource(name, "file", path=str(origin.name)))
        else:
            found.append(TemplateSource(name, "database", pk=served))
    pks = [source.pk for source in found if source.kind == "database"]
    if pks:
        # One query: each row's language, site, content and the version of that content (drafts are newer; rows
        # loaded from fixtures may not say, then the newest version).
        latest = TemplateRevision.objects.filter(template=OuterRef("pk")).order_by("-number").values("number")[:1]
        rows = {row["pk"]: row for row in Template.objects.filter(pk__in=pks).order_by()
                .values("pk", "language", "site__domain", "content")
                .annotate(revision=Coalesce(F("content_revision"), Subquery(latest)))}
        for source in found:
            row = rows.get(source.pk) if source.kind == "database" else None
            if row is not None:
                source.revision, source.language = row["revision"], row["language"]
                source.site, source.content = row["site__domain"] or "", row["content"]
    return found


def _file_origin(engine, name: str):
    # The database loader deferred: the loader after it served this name (as the engine did during the render).
    for template_loader in engine.template_loaders:
        if isinstance(template_loader, Loader):
            continue
        try:
            return template_loader.get_template(name).origin
        except TemplateDoesNotExist:
            continue
    return None


def _source_text(name: str, session, request: PreviewRequest) -> str | None:
    if name in request.overlay:
        return request.overlay[name]
    for source_name, served in reversed(session.served):
        if source_name != name:
            continue
        if isinstance(served, int) and not isinstance(served, bool):
            return Template.objects.filter(pk=served).values_list("content", flat=True).first()
    origin = _file_origin(project_engine(), name)
    if origin is not None:
        try:
            return origin.loader.get_contents(origin)
        except (OSError, TemplateDoesNotExist):
            return None
    return None


_LINE = re.compile(r"^Line (\d+): (.*)$", re.S)


def _explain(error: Exception, session, request: PreviewRequest) -> PreviewError:
    """The engine's message, the template it is in and, for syntax errors, the line."""
    name = session.asked[-1] if session.asked else ""
    if isinstance(error, TemplateSyntaxError) and name:
        text = _source_text(name, session, request)
        if text is not None:
            try:
                check_template_source(text, name)
            except ValidationError as invalid:
                message = " ".join(invalid.messages)
                match = _LINE.match(message)
                if match:
                    return PreviewError(name, match[2], int(match[1]))
                return PreviewError(name, message)
        return PreviewError(name, str(error))
    return PreviewError(name, f"{type(error).__name__}: {error}")


# --- warnings about missing variables ------------------------------------------------------------------------------

_PATH = re.compile(r"^[A-Za-z_]\w*(?:\.\w+)*$")
_ALWAYS_DEFINED = {"True", "False", "None", "forloop", "block", "channel", "message"}
_OPERATORS = {"and", "or", "not", "in", "is", "==", "!=", "<", ">", "<=", ">="}


def _expression_path(expression: str) -> tuple[str | None, bool]:
    """``'user.name|default:"x"'`` -> ('user.name', True): the variable and whether it has a fallback."""
    head, _, filters = expression.partition("|")
    head = head.strip()
    fallback = bool(re.search(r"\|\s*default(_if_none)?\b", "|" + filters))
    return (head if _PATH.match(head) else None), fallback


@lru_cache(maxsize=256)
def template_variables(source: str) -> tuple[tuple[str, ...], frozenset[str]]:
    """The variable paths a template reads without a fallback, and the names it defines itself
    (loop variables, ``with`` names, ``as`` targets). A static approximation, for warnings only."""
    used: list[str] = []
    bound: set[str] = set()
    for token in Lexer(source or "").tokenize():
        if token.token_type is TokenType.VAR:
            path, fallback = _expression_path(token.contents)
            if path and not fallback:
                used.append(path)
            continue
        if token.token_type is not TokenType.BLOCK:
            continue
        bits = token.split_contents()
        if not bits:
            continue
        tag, args = bits[0], bits[1:]
        if "as" in args[:-1]:
            bound.update(args[args.index("as") + 1:])
        if tag == "for" and "in" in args:
            index = args.index("in")
            bound.update(name.strip(",") for name in " ".join(args[:index]).replace(",", " ").split())
            path, fallback = _expression_path(args[index + 1] if len(args) > index + 1 else "")
            if path and not fallback:
                used.append(path)
        elif tag in ("if", "elif"):
            for bit in args:
                path, _ = _expression_path(bit)
                if path and bit not in _OPERATORS:
                    used.append(path)
        elif tag in ("with", "include", "blocktranslate", "blocktrans"):
            for bit in args:
                if "=" in bit:
                    name, _, value = bit.partition("=")
                    bound.add(name)
                    path, fallback = _expression_path(value)
                    if path and not fallback:
                        used.append(path)
    return tuple(used), frozenset(bound)


def missing_variables(source: str, context: dict, also_bound=frozenset()) -> list[str]:
    """Variable paths ``source`` reads that ``context`` lacks (nested keys of dicts checked too); names in
    ``also_bound`` are defined elsewhere (``{% include ... with name=... %}`` in the including template)."""
    used, bound = template_variables(source)
    bound = bound | set(also_bound)
    missing = []
    for path in used:
        parts = path.split(".")
        if parts[0] in bound or parts[0] in _ALWAYS_DEFINED:
            continue
        if parts[0] not in context:
            missing.append(path)
            continue
        value = context[parts[0]]
        for depth, key in enumerate(parts[1:], start=1):
            if isinstance(value, dict):
                if key not in value:
                    missing.append(".".join(parts[:depth + 1]))
                    break
                value = value[key]
            elif isinstance(value, list) and key.isdigit():
                if int(key) >= len(value):
                    missing.append(".".join(parts[:depth + 1]))
                    break
                value = value[int(key)]
            else:
                break  # an object or a method: only a real render knows
    return list(dict.fromkeys(missing))


def _missing_variable_warnings(sources: list[TemplateSource], request: PreviewRequest, context: dict) -> list[str]:
    warnings = []
    contents = _contents_of(sources, request)
    # Names one template defines (include ... with, for, with) count for all: a static check cannot follow
    # which include receives them.
    bound = set()
    for text in contents.values():
        bound |= template_variables(text or "")[1]
    for source in sources:
        text = contents.get((source.kind, source.pk, source.name))
        if not text:
            continue
        for path in missing_variables(text, context, bound):
            warnings.append(f"{source.name} uses {{{{ {path} }}}}, which the sample data does not have "
                            f"(it renders empty).")
    return warnings


def _contents_of(sources: list[TemplateSource], request: PreviewRequest) -> dict:
    engine = project_engine()
    contents = {}
    for source in sources:
        key = (source.kind, source.pk, source.name)
        if source.kind == "unsaved":
            contents[key] = request.overlay.get(source.name, "")
        elif source.kind == "database":
            contents[key] = source.content or ""
        else:
            origin = _file_origin(engine, source.name)
            try:
                contents[key] = origin.loader.get_contents(origin) if origin is not None else ""
            except (OSError, TemplateDoesNotExist):
                contents[key] = ""
    return contents


# --- test sends ------------------------------------------------------------------------------------------------


def send_test(request: PreviewRequest, addresses: list[str]) -> list[TestSend]:
    """Send the previewed message (unsaved edits included) to each address through ``ace.send``.

    Marked ``is_test``: the delivery log says so and the admin's policy lets it past opt-outs and caps.
    Routing picks the channel, as for a real send. Each address gets its own message.
    """
    results = []
    for address in addresses:
        message = build_message(request, address, is_test=True)
        with render_session(request.overlay):
            try:
                outcomes = ace_send.send(message, limit_to_channels=[request.channel_type])
            except Exception as error:  # noqa: BLE001 — the delivery error is what the page reports
                results.append(TestSend(address, "failed", f"{type(error).__name__}: {error}"))
                continue
        outcome = outcomes.for_channel(request.channel_type)
        if outcome is None:
            results.append(TestSend(address, "not sent", f"no {request.channel_type.value} channel is enabled"))
            continue
        policy_reason = (outcome.details or {}).get("policy_reason")
        detail = ": ".join(filter(None, [outcome.reason, policy_reason])) or (
            f"{type(outcome.error).__name__}: {outcome.error}" if outcome.error else "")
        results.append(TestSend(address, outcome.status.value, detail, outcome.channel_name or ""))
    return results


def split_addresses(text: str) -> list[str]:
    """Seed addresses typed one per line (commas and semicolons accepted too)."""
    return [item.strip() for item in re.split(r"[\s,;]+", text or "") if item.strip()]
