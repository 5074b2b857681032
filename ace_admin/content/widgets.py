"""Editors for template content: CKEditor set up for whole email documents, a monospace box for text parts."""

from __future__ import annotations

from ckeditor.widgets import CKEditorWidget
from django import forms
from django.templatetags.static import static

CSS = "ace_admin/css/ace_admin.css"


class EmailHtmlEditor(CKEditorWidget):
    """CKEditor for HTML email templates (``CKEDITOR_CONFIGS['ace_email']``).

    A template holding a whole document (``<html>``: a layout, a standalone body) is edited as a full
    page so its head and styles survive; a child template (``{% extends %}`` + blocks) as a fragment.
    Template tags are protected from the editor by ``ace_admin/ckeditor/email_config.js``.
    """

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("config_name", "ace_email")
        super().__init__(*args, **kwargs)

    def get_context(self, name, value, attrs):
        self.config["customConfig"] = static("ace_admin/ckeditor/email_config.js")
        self.config["fullPage"] = "<html" in (value or "").lower()
        return super().get_context(name, value, attrs)

    @property
    def media(self):
        return super().media + forms.Media(css={"all": [CSS]})


class CodeTextarea(forms.Textarea):
    """A plain monospace box: text parts (subject, plain-text body) are typed exactly as sent."""

    def __init__(self, attrs=None):
        defaults = {"class": "vLargeTextField ace-code", "rows": 14, "spellcheck": "false", "wrap": "off"}
        super().__init__({**defaults, **(attrs or {})})

    class Media:
        css = {"all": [CSS]}


def is_html_part(name: str, part: str = "") -> bool:
    """Whether the template is HTML (edited in CKEditor) rather than text."""
    return (part or name or "").lower().endswith((".html", ".htm"))
