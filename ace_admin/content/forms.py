"""Admin forms for content: template editing (CKEditor or monospace)."""

from __future__ import annotations

import re

from django import forms

from ace_admin.content.widgets import CodeTextarea, EmailHtmlEditor, is_html_part
from ace_admin.models import TEMPLATE_NAME_SCHEME, Template

SHORT_NAME = re.compile(r"^(email|push)/[\w.-]+$")


class TemplateForm(forms.ModelForm):
    """A template: HTML parts in CKEditor, text parts (subject, plain body) in a monospace box.

    Validation is the model's: an invalid template is refused with the engine's message and line.
    """

    class Meta:
        model = Template
        fields = ["name", "language", "site", "published", "content"]
        widgets = {"content": CodeTextarea()}

    def __init__(self, *args, parent=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.parent = parent  # the message type whose page this form is on (unsaved on its add page)
        if parent is not None and "name" in self.fields:
            self.fields["name"].help_text = ("Which part: email/subject.txt, email/body.html, email/body.txt, "
                                             "email/from_name.txt, push/title.txt… (the full template name is "
                                             "filled in when you save).")
        name = self.instance.name or self.initial.get("name") or ""
        if "content" in self.fields and is_html_part(name, self.instance.part) and not self.source_mode():
            self.fields["content"].widget = EmailHtmlEditor()
        if "language" in self.fields:
            self.fields["language"].widget = forms.TextInput(attrs={"list": "ace-languages", "size": 8})

    def clean_name(self):
        name = (self.cleaned_data.get("name") or "").strip()
        owner = self.parent or (self.instance.message_type if self.instance.message_type_id else None)
        if owner is None or not owner.app_label or not owner.name:
            return name
        prefix = f"{owner.app_label}/edx_ace/{owner.name}/"
        if SHORT_NAME.match(name):
            return prefix + name  # "email/subject.txt" typed in a message type's page: the full name is implied
        match = TEMPLATE_NAME_SCHEME.match(name)
        if match is None or not name.startswith(prefix):
            raise forms.ValidationError(
                f"Templates of {owner} are named {prefix}<channel>/<part>, e.g. {prefix}email/subject.txt "
                "(or just email/subject.txt).")
        return name

    def clean_content(self):
        # Browsers post textareas with CRLF line ends; store the newlines templates on disk use.
        return (self.cleaned_data.get("content") or "").replace("\r\n", "\n")

    def source_mode(self) -> bool:
        """Layouts made of template logic only (no markup to edit visually) stay in the code editor."""
        content = (self.instance.content or "").strip()
        return bool(content) and "<" not in content.replace("{%", "").replace("{{", "")


class TemplateInlineFormSet(forms.BaseInlineFormSet):
    """Gives each template form its message type, so short names ("email/subject.txt") can be expanded."""

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "parent": self.instance}
