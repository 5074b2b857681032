"""The template editor widget: a source editor for any template, a visual editor for what it can round-trip.

The server picks the editor (:func:`ace_admin.content.editors.classify`); the page holds the source in a
textarea (what is posted with JavaScript off, or in source mode) and, for visual templates, the visual
editor's HTML in a second one. ``ace_admin/editors/template_editor.js`` turns the first into CodeMirror
and the second into CKEditor, with the merge-tag picker and the switch between the two.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from ckeditor.widgets import CKEditorWidget
from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.templatetags.static import static
from django.urls import reverse

from ace_admin.content import editors

CSS = "ace_admin/css/ace_admin.css"
CODEMIRROR = "ace_admin/vendor/codemirror/"


@dataclass(frozen=True)
class VisualSubmission:
    """What the visual editor posted: the source the page was built from, the editor's serialisation when it
    loaded and at submit."""

    source: str
    initial: str
    edited: str


def _lf(text: str | None) -> str:
    return (text or "").replace("\r\n", "\n")


class TemplateEditor(forms.Textarea):
    """Source editor (CodeMirror; a plain textarea without JavaScript) or visual editor (CKEditor).

    ``template_name_hint`` (the template's name) and ``picker`` (a list of
    :class:`~ace_admin.content.picker.PickerItem`) are set by the form."""

    template_name = "ace_admin/widgets/template_editor.html"

    def __init__(self, attrs=None):
        defaults = {"class": "vLargeTextField ace-code ace-source-text", "rows": 18, "spellcheck": "false",
                    "wrap": "off"}
        super().__init__({**defaults, **(attrs or {})})
        self.template_name_hint = ""
        self.picker = []

    def verdict(self, value) -> editors.Verdict:
        return editors.classify(_lf(value), self.template_name_hint)

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        source = "" if value is None else str(value)
        verdict = self.verdict(source)
        groups: dict[str, list] = {}
        for item in self.picker:
            groups.setdefault(item.group, []).append(item)
        config = {**settings.CKEDITOR_CONFIGS.get("ace_visual", {}),
                  "contentsCss": [static("ckeditor/ckeditor/contents.css"),
                                  static("ace_admin/editors/visual_contents.css")],
                  # The Image dialog's "Upload" tab stores the file as an image asset (type and size checked,
                  # permission and CSRF checked by the admin) and inserts its absolute URL.
                  "filebrowserImageUploadUrl": reverse("admin:ace_admin_imageasset_upload"),
                  "filebrowserUploadMethod": "xhr"}
        context["editor"] = {
            "mode": verdict.editor,
            "reason": verdict.reason,
            "html": self.template_name_hint.lower().endswith((".html", ".htm")) or not self.template_name_hint,
            "visual": editors.to_visual(_lf(source)) if verdict.editor == editors.VISUAL else None,
            "picker": sorted(groups.items(), key=lambda pair: list(groups).index(pair[0])),
            "config": json.dumps(config),
        }
        return context

    def value_from_datadict(self, data, files, name):
        source = data.get(name)
        if data.get(f"{name}__mode") == editors.VISUAL and f"{name}__visual" in data:
            return VisualSubmission(_lf(source), _lf(data.get(f"{name}__initial")), _lf(data.get(f"{name}__visual")))
        return source

    @property
    def media(self):
        ckeditor = CKEditorWidget(config_name="ace_visual").media
        own = forms.Media(
            css={"all": [CODEMIRROR + "lib/codemirror.css", CSS]},
            js=[CODEMIRROR + "lib/codemirror.js", CODEMIRROR + "addon/mode/overlay.js", CODEMIRROR + "mode/xml/xml.js",
                CODEMIRROR + "mode/css/css.js", CODEMIRROR + "mode/javascript/javascript.js",
                CODEMIRROR + "mode/htmlmixed/htmlmixed.js", CODEMIRROR + "mode/django/django.js",
                "ace_admin/editors/template_editor.js"])
        return ckeditor + own


def is_html_part(name: str, part: str = "") -> bool:
    """Whether the template is HTML rather than text."""
    return editors.is_html_name(part or name or "")


def posted_source(data, name: str) -> str:
    """The template text a form post carries in field ``name``, whichever editor posted it (for previews of
    unsaved edits; a visual edit whose logic check fails previews as the editor showed it)."""
    value = TemplateEditor().value_from_datadict(data, {}, name)
    if not isinstance(value, VisualSubmission):
        return _lf(value)
    try:
        return editors.accept_visual(value.source, value.initial, value.edited)
    except (ValidationError, editors.NotVisual):
        return editors.from_visual(value.edited)
