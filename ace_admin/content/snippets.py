"""Snippets: reusable named blocks (header, footer, call to action) that any template includes.

A snippet is an ordinary DB template named ``snippets/<name>.html`` (per language and site, with versions), so
the loader serves it and the sandbox renders it like every template edited here; a template uses it with
``{% include "snippets/<name>.html" %}`` (the sandbox wants the name written out). The editors' merge-tag
picker lists them with :func:`available_snippets`.
"""

from __future__ import annotations

import re

from ace_admin.models.assets import SNIPPET_PREFIX, SNIPPET_SUFFIX, Snippet

#: What a snippet's short name may be: it becomes part of a template name.
SNIPPET_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,99}$")


def template_name(name: str) -> str:
    """``"footer"`` -> ``"snippets/footer.html"``."""
    return f"{SNIPPET_PREFIX}{name}{SNIPPET_SUFFIX}"


def include_tag(name: str) -> str:
    """The tag that inserts snippet ``name`` into a template."""
    return "{% include \"" + template_name(name) + "\" %}"


def available_snippets() -> list[dict[str, str]]:
    """Every snippet saved in the admin, once per name, sorted: ``{"name", "template_name", "include"}`` each
    (languages and sites are the loader's choice at render time, as for any template)."""
    names = sorted(set(Snippet.objects.exclude(archived=True).values_list("name", flat=True)))
    found = []
    for full in names:
        short = full.removeprefix(SNIPPET_PREFIX).removesuffix(SNIPPET_SUFFIX)
        if full.endswith(SNIPPET_SUFFIX) and SNIPPET_NAME.match(short):
            found.append({"name": short, "template_name": full, "include": include_tag(short)})
    return found

