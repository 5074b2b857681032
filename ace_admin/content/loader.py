"""A Django template loader serving published templates from the database, ahead of the filesystem loaders.

List it first in ``TEMPLATES[...]["OPTIONS"]["loaders"]``, before the (cached) filesystem and app
loaders: a name with a published DB version for the message being rendered is served from here,
any other name raises ``TemplateDoesNotExist`` so the engine asks the loaders that follow.
``{% extends %}`` and ``{% include %}`` go through the engine, so they cross between DB and files.

Only published content is served: a row's ``content`` while ``published`` is set. Drafts (``draft_content``, see
``ace_admin.content.publishing``) are never read here; the preview shows them through :func:`render_session`.

Choice for a template name, from ``ace.presentation.current_message()`` and the active language:
the language (exact ``pt-br``, then base ``pt``, then language-neutral); within each, the message's
site (``options['site']``: a domain or a site id) before the all-sites version.

Caching: every published row (name, language, site, content) is read in one query and each
template compiled once per process; the set is reloaded when the shared stamp
(``ace_admin.stamp``) changes, which every write bumps. A warm send makes no database query.
"""

from __future__ import annotations

import contextvars
import logging
import threading
from contextlib import contextmanager

from django.template import Origin, TemplateDoesNotExist
from django.template.loaders.base import Loader as BaseLoader
from django.utils import translation

from ace import presentation
from ace_admin import stamp
from ace_admin.content.safety import GuardedTemplate
from ace_admin.models import Template, normalize_language

LOG = logging.getLogger(__name__)


class RenderSession:
    """For one render in this context (the admin preview): template contents that stand in for the
    published ones, and what this loader served — ``(name, Template pk)``, pk ``None`` for a stand-in,
    ``(name, False)`` when it deferred to the loaders after it."""

    def __init__(self, contents: dict[str, str] | None = None):
        self.contents = dict(contents or {})
        self.served: list[tuple[str, int | None | bool]] = []
        self.asked: list[str] = []


_session: contextvars.ContextVar = contextvars.ContextVar("ace_admin_loader_session", default=None)


@contextmanager
def render_session(contents: dict[str, str] | None = None):
    """Within the block, names in ``contents`` render from those strings (unsaved edits; nothing is saved)
    and every lookup is recorded on the yielded :class:`RenderSession`."""
    session = RenderSession(contents)
    token = _session.set(session)
    try:
        yield session
    finally:
        _session.reset(token)


class _Variant:
    __slots__ = ("pk", "language", "site_id", "domain", "content", "origin")

    def __init__(self, pk, language, site_id, domain, content, origin):
        self.pk, self.language, self.site_id, self.domain = pk, language, site_id, domain
        self.content, self.origin = content, origin


def message_site(message):
    """The site a message is sent for, from ``options['site']``: an ``int`` id, a lower-case domain, or None."""
    if message is None:
        return None
    value = (message.options or {}).get("site")
    if value in (None, ""):
        return None
    if isinstance(value, int) or (isinstance(value, str) and value.isdigit()):
        return int(value)
    domain = getattr(value, "domain", None)  # a Site object
    return (domain or str(value)).strip().lower()


def language_candidates(language: str | None) -> list[str]:
    """'pt-br' -> ['pt-br', 'pt', '']: exact, base language, then language-neutral."""
    language = normalize_language(language or "")
    found = []
    if language:
        found.append(language)
        base = language.split("-")[0]
        if base != language:
            found.append(base)
    found.append("")
    return found


class Loader(BaseLoader):
    """Serves published ``ace_admin.Template`` rows; raises ``TemplateDoesNotExist`` for everything else."""

    def __init__(self, engine):
        super().__init__(engine)
        self._lock = threading.Lock()
        self._stamp = None
        self._index: dict[str, list[_Variant]] = {}
        self._compiled: dict[int, GuardedTemplate] = {}
        # (name, language, site) -> (the index it was computed from, ordered variants)
        self._choices: dict[tuple, tuple] = {}

    # -- cache -----------------------------------------------------------------------------------------------

    def _current_index(self) -> dict[str, list[_Variant]]:
        current = stamp.current_stamp(presentation.current_message())
        if current == self._stamp:
            return self._index
        with self._lock:
            if current != self._stamp:
                index = self._load()
                self._index, self._compiled, self._choices, self._stamp = index, {}, {}, current
            return self._index

    def _load(self) -> dict[str, list[_Variant]]:
        rows = Template.objects.filter(published=True).values_list(
            "pk", "name", "language", "site_id", "site__domain", "content")
        index: dict[str, list[_Variant]] = {}
        for pk, name, language, site_id, domain, content in rows:
            origin = Origin(name=f"ace_admin.Template:{pk}", template_name=name, loader=self)
            index.setdefault(name, []).append(
                _Variant(pk, normalize_language(language), site_id, (domain or "").lower(), content, origin))
        return index

    def reset(self):
        with self._lock:
            self._stamp, self._index, self._compiled, self._choices = None, {}, {}, {}

    # -- lookup ----------------------------------------------------------------------------------------------

    def candidates(self, template_name: str) -> list[_Variant]:
        """The published variants of ``template_name`` for the current message, best first."""
        index = self._current_index()
        variants = index.get(template_name)
        if not variants:
            return []
        site = message_site(presentation.current_message())
        key = (template_name, translation.get_language(), site)
        memo = self._choices.get(key)
        if memo is not None and memo[0] is index:
            return memo[1]
        ordered = self._order(variants, site)
        self._choices[key] = (index, ordered)
        return ordered

    @staticmethod
    def _order(variants: list[_Variant], site) -> list[_Variant]:
        ordered = []
        for language in language_candidates(translation.get_language()):
            same_language = [variant for variant in variants if variant.language == language]
            if site is not None:
                ordered += [variant for variant in same_language
                            if variant.site_id is not None and site in (variant.site_id, variant.domain)]
            ordered += [variant for variant in same_language if variant.site_id is None]
        return ordered

    def get_template_sources(self, template_name):
        for variant in self.candidates(template_name):
            yield variant.origin

    def get_contents(self, origin):
        for variant in self._index.get(origin.template_name, ()):
            if variant.origin == origin:
                return variant.content
        raise TemplateDoesNotExist(origin)

    def get_template(self, template_name, skip=None):
        session = _session.get()
        if session is not None:
            return self._session_template(session, template_name, skip)
        return self._published_template(template_name, skip)

    def _session_template(self, session, template_name, skip):
        session.asked.append(template_name)
        if template_name in session.contents:
            origin = Origin(name=f"unsaved:{template_name}", template_name=template_name, loader=self)
            if skip is None or origin not in skip:
                session.served.append((template_name, None))
                return GuardedTemplate(session.contents[template_name], origin, template_name, self.engine)
            # The stand-in extends its own name: the published rows it replaces are skipped too.
            session.served.append((template_name, False))
            raise TemplateDoesNotExist(template_name, tried=[(origin, "Skipped to avoid recursion")])
        try:
            template = self._published_template(template_name, skip)
        except TemplateDoesNotExist:
            session.served.append((template_name, False))
            raise
        session.served.append((template_name, int(template.origin.name.rpartition(":")[2])))
        return template

    def _published_template(self, template_name, skip=None):
        tried = []
        for variant in self.candidates(template_name):
            if skip is not None and variant.origin in skip:
                tried.append((variant.origin, "Skipped to avoid recursion"))
                continue
            template = self._compiled.get(variant.pk)
            if template is None:
                template = GuardedTemplate(variant.content, variant.origin, template_name, self.engine)
                self._compiled[variant.pk] = template
            return template
        raise TemplateDoesNotExist(template_name, tried=tried)
