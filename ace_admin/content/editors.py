"""Which editor a template opens in, and the proofs that keep both editors lossless.

Template source is text, not HTML: a WYSIWYG editor works on a DOM and re-serialises it, so it cannot give
back arbitrary source byte for byte. Two editors therefore share the work:

* the *source* editor (CodeMirror, or a plain textarea without JavaScript) edits any template as text;
* the *visual* editor (CKEditor) only gets HTML fragments whose template constructs map one to one onto
  elements the editor keeps: merge tags ``{{ var }}`` and ``{% include %}`` (non-editable chips), and
  block-level ``{% if %}``/``{% for %}``/``{% block %}`` sections (labelled boxes around their content).

:func:`classify` decides by a parse -> serialise test: the source is turned into the editor's HTML
(:func:`to_visual`) and back (:func:`from_visual`); only a template that comes back identical, and whose
every construct sits where a chip or a section can stand, is visual.

A save from the visual editor (:func:`accept_visual`) is merged into the stored source: the change between
what the editor showed at load and what it posts is spliced into the source, so text the user did not touch
keeps its bytes (the editor's reformatting of untouched markup is discarded); then re-parsing must prove
that every template construct survived (only whole merge tags may be added or removed), or nothing is saved.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass
from difflib import SequenceMatcher

from django.core.exceptions import ValidationError
from django.template.base import DebugLexer, TokenType

VISUAL = "visual"
SOURCE = "source"

#: Tags the visual editor shows as a section around its content, with the tags that continue and end it.
SECTIONS = {"if": ({"elif", "else"}, "endif"), "for": ({"empty"}, "endfor"), "block": (set(), "endblock")}
#: Single-tag constructs shown as a chip (an included snippet or button, the layout a child extends).
ATOMIC_TAGS = {"include", "extends", "load"}
#: Elements a section (a <div> in the editor) may stand in: anything that holds flow content.
FLOW_PARENTS = {"div", "td", "th", "li", "blockquote", "center", "section", "article", "header", "footer", "main",
                "aside", "nav", "dd", "figure"}
#: Markup that only makes sense in a whole document, or that the editor would rewrite or drop.
DOCUMENT_MARKUP = re.compile(r"<!--|<!doctype|<\?xml|<!\[cdata\[|<(html|head|body|title|style|script|meta|link|base)\b",
                             re.I)
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
TAG = re.compile(r"<(/?)([A-Za-z][A-Za-z0-9:-]*)((?:\"[^\"]*\"|'[^']*'|[^'\">])*)>")
ATTR = re.compile(r"([^\s=/>]+)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s>]+)))?")
MASK = "\ue000"  # stands in for a template construct while the HTML around it is scanned


@dataclass(frozen=True)
class Verdict:
    editor: str  # VISUAL or SOURCE
    reason: str  # why, in words for the person editing


class NotVisual(ValueError):
    """The template cannot be represented in the visual editor (the message says why)."""


def is_html_name(name: str) -> bool:
    return (name or "").lower().endswith((".html", ".htm"))


def classify(source: str, name: str = "") -> Verdict:
    """Which editor ``source`` opens in, and why."""
    if name and not is_html_name(name):
        return Verdict(SOURCE, "A text part is edited as text.")
    if not (source or "").strip():
        return Verdict(SOURCE, "An empty template starts in the source editor.")
    try:
        visual = to_visual(source)
    except NotVisual as reason:
        return Verdict(SOURCE, str(reason))
    if from_visual(visual) != source:  # the parse -> serialise test
        return Verdict(SOURCE, "The visual editor could not give this template back unchanged.")
    return Verdict(VISUAL, "An HTML fragment with merge tags and sections: the visual editor keeps it intact.")


# --- source -> the visual editor's HTML ---------------------------------------------------------------------

def _tokens(source: str):
    """(token, raw text, start, end) for every token of the template."""
    for token in DebugLexer(source).tokenize():
        start, end = token.position
        yield token, source[start:end], start, end


def _label(token) -> str:
    if token.token_type is TokenType.VAR:
        return token.contents.strip()
    bits = token.split_contents()
    name = bits[0] if bits else ""
    rest = " ".join(bits[1:])
    if name in ("include", "extends") and len(bits) > 1:
        target = bits[1].strip("\"'").rsplit("/", 1)[-1]
        shown = re.search(r"\blabel=([\"'])(.*?)\1", rest)  # a button's text says more than its file name
        if name == "extends":
            return f"Layout: {target}"
        return f"{target.rsplit('.', 1)[0].capitalize()}: {shown.group(2)}" if shown else f"Insert: {target}"
    words = {"if": "If", "elif": "Else if", "else": "Otherwise", "for": "For each", "empty": "If there are none",
             "block": "Block", "include": "Insert", "extends": "Layout", "load": "Uses tags"}
    return f"{words.get(name, name)} {rest}".strip()


def _chip(raw: str, label: str, block: bool = False) -> str:
    kind = "ace-tag ace-tag-block" if block else "ace-tag"
    return f'<span class="{kind}" data-ace-src="{html.escape(raw)}">{html.escape(label)}</span>'


def _section(raw: str, label: str, branch: bool = False) -> str:
    kind = "ace-section ace-branch" if branch else "ace-section"
    return f'<div class="{kind}" data-ace-open="{html.escape(raw)}" data-ace-label="{html.escape(label)}">'


def _scan_markup(masked: str):
    """Tag spans of the masked source: (start, end, closing, name, attribute text, attribute text start)."""
    return [(m.start(), m.end(), bool(m.group(1)), m.group(2).lower(), m.group(3), m.start(3))
            for m in TAG.finditer(masked)]


def _contexts(source: str, constructs):
    """For each construct (start, end): ('attr'|'text'|'tag', parent element stack as a tuple)."""
    masked = list(source)
    for _token, _raw, start, end in constructs:
        masked[start:end] = MASK * (end - start)
    masked = "".join(masked)
    tags = _scan_markup(masked)
    stack: list[str] = []
    result = []
    index = 0
    for _token, _raw, start, _end in constructs:
        while index < len(tags) and tags[index][1] <= start:
            _s, _e, closing, tag, _attrs, _astart = tags[index]
            if closing:
                if tag not in stack:
                    raise NotVisual(f"The HTML is not balanced (</{tag}> closes nothing): edit it as source.")
                while stack and stack.pop() != tag:
                    pass
            elif tag not in VOID and not _attrs.rstrip().endswith("/"):
                stack.append(tag)
            index += 1
        inside = index < len(tags) and tags[index][0] < start
        if inside:
            attrs, astart = tags[index][4], tags[index][5]
            before = attrs[:start - astart]
            quoted = before.count('"') % 2 == 1 or before.count("'") % 2 == 1
            result.append(("attr" if quoted else "tag", tuple(stack)))
        else:
            result.append(("text", tuple(stack), masked, start))
    return result


def _standalone(masked: str, start: int, end: int) -> bool:
    """Nothing but whitespace between the construct and the markup (or construct) on either side."""
    before = masked[:start].rstrip()
    after = masked[end:].lstrip()
    return (not before or before[-1] in ">" + MASK) and (not after or after[0] in "<" + MASK)


def to_visual(source: str) -> str:
    """The HTML the visual editor loads for ``source``; raises :class:`NotVisual` saying why it cannot."""
    source = source or ""
    match = DOCUMENT_MARKUP.search(source)
    if match:
        what = match.group(0)
        if what == "<!--":
            raise NotVisual("HTML comments (such as Outlook's <!--[if mso]>) are edited as source.")
        raise NotVisual(f"A whole email document ({what}…) is a layout: it is edited as source.")
    tokens = list(_tokens(source))
    constructs = [t for t in tokens if t[0].token_type is not TokenType.TEXT]
    for token, raw, _s, _e in constructs:
        if token.token_type is TokenType.COMMENT:
            raise NotVisual(f"Template comments ({raw[:40]}) are edited as source.")
        if token.token_type is TokenType.BLOCK:
            bits = token.split_contents()
            name = bits[0] if bits else ""
            known = name in SECTIONS or name in ATOMIC_TAGS or any(
                name in cont or name == end for cont, end in SECTIONS.values())
            if not known:
                raise NotVisual(f"{{% {name} %}} (line {token.lineno}) is template logic the visual editor "
                                "cannot show: this template is edited as source.")
    contexts = iter(_contexts(source, constructs))
    out: list[str] = []
    open_sections: list[tuple[str, int, tuple]] = []  # (end tag name, index in out of the last branch, parents)
    last = 0
    for token, raw, start, end in constructs:
        out.append(source[last:start])
        last = end
        where = next(contexts)
        kind, parents = where[0], where[1]
        if token.token_type is TokenType.VAR:
            if kind == "tag":
                raise NotVisual(f"A merge tag between attributes (line {token.lineno}) is edited as source.")
            out.append(raw if kind == "attr" else _chip(raw, _label(token)))
            continue
        name = token.split_contents()[0]
        if kind != "text":
            raise NotVisual(f"{{% {name} %}} inside an HTML tag (line {token.lineno}) is edited as source.")
        masked, position = where[2], where[3]
        if name in ATOMIC_TAGS:
            out.append(_chip(raw, _label(token), block=True))
            continue
        if name in ("block", "endblock"):  # a child template's blocks: at the top, around any content
            block_ok = not parents
        else:
            block_ok = (not parents or parents[-1] in FLOW_PARENTS) and _standalone(masked, position, end)
        if not block_ok:
            place = f"inside <{parents[-1]}>" if parents else "inside a line of text"
            raise NotVisual(f"{{% {name} %}} (line {token.lineno}) stands {place}, where a visual section cannot: "
                            "this template is edited as source.")
        if name in SECTIONS:
            out.append(_section(raw, _label(token)))
            open_sections.append((SECTIONS[name][1], len(out) - 1, parents))
            continue
        if not open_sections or open_sections[-1][2] != parents:
            raise NotVisual(f"{{% {name} %}} (line {token.lineno}) does not close a section at the same level.")
        end_name, index, _parents = open_sections[-1]
        if name == end_name:
            open_sections.pop()
            # The closing tag rides on the last branch's <div> (an empty element would be dropped by the editor).
            out[index] = out[index][:-1] + f' data-ace-close="{html.escape(raw)}">'
            out.append("</div>")
        else:
            out.append("</div>" + _section(raw, _label(token), branch=True))
            open_sections[-1] = (end_name, len(out) - 1, parents)
    if open_sections:
        raise NotVisual("A section is not closed: edit this template as source.")
    out.append(source[last:])
    return "".join(out)


# --- the visual editor's HTML -> source ---------------------------------------------------------------------

def _attrs(text: str) -> dict[str, str]:
    found = {}
    for m in ATTR.finditer(text or ""):
        value = next((v for v in m.group(2, 3, 4) if v is not None), "")
        found[m.group(1).lower()] = html.unescape(value)
    return found


def from_visual(markup: str) -> str:
    """Template source from the visual editor's HTML: chips become their tag again, sections their tags."""
    out: list[str] = []
    divs: list[str | None] = []  # for each open <div>: None, or the closing tag of the section it is
    last = 0
    skip_until_span_close = None
    for m in TAG.finditer(markup or ""):
        closing, tag = bool(m.group(1)), m.group(2).lower()
        if skip_until_span_close is not None:
            if closing and tag == "span":
                last = m.end()
                skip_until_span_close = None
            continue
        attrs = None if closing else _attrs(m.group(3))
        classes = set((attrs or {}).get("class", "").split())
        if tag == "span" and not closing and "ace-tag" in classes:
            out.append(markup[last:m.start()])
            out.append(attrs.get("data-ace-src", ""))
            last = m.end()
            skip_until_span_close = True
        elif tag == "div" and not closing:
            section = "ace-section" in classes
            divs.append(attrs.get("data-ace-close", "") if section else None)
            if section:
                out.append(markup[last:m.start()])
                out.append(attrs.get("data-ace-open", ""))
                last = m.end()
        elif tag == "div" and closing and divs:
            close = divs.pop()
            if close is not None:
                out.append(markup[last:m.start()])
                out.append(close)
                last = m.end()
    out.append(markup[last:])
    return "".join(out)


# --- saving from the visual editor --------------------------------------------------------------------------

def constructs(source: str) -> list[tuple[str, str]]:
    """Every template construct of ``source``, in order: (kind, raw text)."""
    found = []
    for token in DebugLexer(source or "").tokenize():
        if token.token_type is not TokenType.TEXT:
            start, end = token.position
            found.append((token.token_type.name, source[start:end]))
    return found


def _is_atom(construct: tuple[str, str]) -> bool:
    kind, raw = construct
    return kind == "VAR" or (kind == "BLOCK" and raw[2:].strip().startswith("include"))


def check_constructs(before: str, after: str) -> None:
    """Refuse (ValidationError) unless every template construct of ``before`` survived in ``after``.

    Whole merge tags and includes may be added or removed (the picker inserts them, a chip can be deleted);
    every other construct must come back identical and in the same order."""
    old, new = constructs(before), constructs(after)
    for op, i1, i2, j1, j2 in SequenceMatcher(None, old, new, autojunk=False).get_opcodes():
        if op == "equal":
            continue
        changed = [c for c in old[i1:i2] + new[j1:j2] if not _is_atom(c)]
        if changed:
            raise ValidationError(
                "The visual editor would have changed the template's logic (%(what)s), so nothing was saved. "
                "Edit this template in the source editor (\"Edit source\") to change its logic.",
                code="visual_lost_logic", params={"what": changed[0][1][:80]})


TOKEN = re.compile(r"<[^>]*>|&[#\w]+;|\w+|\s+|.", re.S)


def _token_offsets(text: str) -> list[tuple[str, int]]:
    return [(m.group(0), m.start()) for m in TOKEN.finditer(text)]


def merge_edit(shown: str, initial: str, edited: str) -> str:
    """Apply the changes ``initial`` -> ``edited`` (two serialisations by the editor) to ``shown`` (what the
    server gave the editor), so that what the user did not touch keeps its bytes.

    Each changed stretch is located in ``shown`` through a token alignment of ``initial`` with it; where the
    editor had reformatted the markup around a change, the change is widened to that whole reformatted
    stretch (the caller checks the result still says what the editor showed)."""
    if initial == edited:
        return shown
    a_tokens, b_tokens, s_tokens = _token_offsets(initial), _token_offsets(edited), _token_offsets(shown)
    to_shown = []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, [t for t, _ in a_tokens], [t for t, _ in s_tokens],
                                              autojunk=False).get_opcodes():
        to_shown.append((op, _at(a_tokens, i1, initial), _at(a_tokens, i2, initial), _at(s_tokens, j1, shown),
                         _at(s_tokens, j2, shown)))

    def locate(a0: int, a1: int) -> tuple[int, int, int, int]:
        """(a0, a1) widened to whole unequal blocks, and where they fall in `shown`."""
        s0, s1 = len(shown), 0
        for op, b0, b1, t0, _t1 in to_shown:
            if b0 <= a0 < b1:
                s0, a0 = (t0 + a0 - b0, a0) if op == "equal" else (t0, b0)
                break
        for op, b0, b1, t0, t1 in to_shown:
            if b0 < a1 <= b1:
                s1, a1 = (t0 + a1 - b0, a1) if op == "equal" else (t1, b1)
                break
        return a0, a1, s0, max(s0, s1)

    spans: list[tuple[int, int, int, int, int, int]] = []  # (a0, a1, b0, b1, s0, s1) of each change
    for op, i1, i2, j1, j2 in SequenceMatcher(None, [t for t, _ in a_tokens], [t for t, _ in b_tokens],
                                              autojunk=False).get_opcodes():
        if op == "equal":
            continue
        a0, a1 = _at(a_tokens, i1, initial), _at(a_tokens, i2, initial)
        b0, b1 = _at(b_tokens, j1, edited), _at(b_tokens, j2, edited)
        while True:
            wa0, wa1, s0, s1 = locate(a0, a1)
            if spans and (wa0 < spans[-1][1] or s0 < spans[-1][5]):  # overlaps the previous change: one change
                previous = spans.pop()
                a0, b0 = previous[0], previous[2]
                continue
            break
        spans.append((wa0, wa1, b0 - (a0 - wa0), b1 + (wa1 - a1), s0, s1))
    merged = shown
    for _a0, _a1, b0, b1, s0, s1 in reversed(spans):
        merged = merged[:s0] + edited[b0:b1] + merged[s1:]
    return merged


def _at(tokens: list[tuple[str, int]], index: int, text: str) -> int:
    return tokens[index][1] if index < len(tokens) else len(text)


def _normal(markup: str) -> list:
    """A comparable form of HTML: tags with sorted attributes, text with whitespace collapsed and entities
    decoded (what a browser, and so the editor, sees), implicit <tbody> ignored."""
    items: list = []
    last = 0

    def text(chunk):
        value = " ".join(html.unescape(chunk).replace("\xa0", " ").split())
        if value:
            items.append(("text", value))

    for m in TAG.finditer(markup or ""):
        text(markup[last:m.start()])
        last = m.end()
        name = m.group(2).lower()
        if name == "tbody":
            continue
        attrs = {} if m.group(1) else _attrs(m.group(3))
        if "style" in attrs:
            attrs["style"] = ";".join(p.strip().replace(": ", ":") for p in attrs["style"].split(";") if p.strip())
        items.append((m.group(1), name, tuple(sorted(attrs.items()))))
    text(markup[last:])
    return items


def accept_visual(source: str, initial: str, edited: str) -> str:
    """The source to store for a save from the visual editor, or ValidationError (nothing is saved).

    ``source`` is the template the page was built from, ``initial`` the editor's own serialisation of it when
    it loaded, ``edited`` its serialisation at submit."""
    shown = to_visual(source)
    if initial and initial == edited:
        return source  # nothing changed in the editor: the stored bytes stay
    if initial:
        merged = merge_edit(shown, initial, edited)
        markup = merged if _normal(merged) == _normal(edited) else edited
    else:
        markup = edited  # the editor did not report its starting point: take its whole output
    result = from_visual(markup)
    check_constructs(source, result)
    return result
