"""Admin forms for content: template editing (the source editor for any template, the visual one for what it
round-trips)."""

from __future__ import annotations

import re

from django import forms

from ace_admin.content import editors
from ace_admin.content.picker import picker_items
from ace_admin.content.widgets import TemplateEditor, VisualSubmission
from ace_admin.models import TEMPLATE_NAME_SCHEME, Template

SHORT_NAME = re.compile(r"^(email|push)/[\w.-]+$")


class TemplateSourceField(forms.CharField):
    """Template text, byte for byte: nothing stripped or added.

    Line ends: browsers post every textarea with CRLF; the stored convention of the template is kept (LF
    unless the stored text uses CRLF), so an unchanged save gives back the stored bytes. A save from the
    visual editor is merged into the source and checked (:func:`ace_admin.content.editors.accept_visual`)."""

    def __init__(self, *args, **kwargs):
        kwargs["strip"] = False
        super().__init__(*args, **kwargs)
        self.crlf = False  # set by the form from the stored text

    def to_python(self, value):
        if isinstance(value, VisualSubmission):
            try:
                value = editors.accept_visual(value.source, value.initial, value.edited)
            except editors.NotVisual as error:
                raise forms.ValidationError(f"The visual editor cannot save this template: {error}")
        value = "" if value in self.empty_values else str(value).replace("\r\n", "\n")
        return value.replace("\n", "\r\n") if self.crlf else value


class TemplateForm(forms.ModelForm):
    """A template in the editor its content allows (see :mod:`ace_admin.content.editors`), with the
    merge-tag picker of its message type.

    Validation is the model's: an invalid template is refused with the engine's message and line.
    """

    content = TemplateSourceField(required=False, label="Content", widget=TemplateEditor,
                                  help_text=Template._meta.get_field("content").help_text)

    class Meta:
        model = Template
        fields = ["name", "language", "site", "published", "content"]

    def __init__(self, *args, parent=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.parent = parent  # the message type whose page this form is on (unsaved on its add page)
        if parent is not None and "name" in self.fields:
            self.fields["name"].help_text = ("Which part: email/subject.txt, email/body.html, email/body.txt, "
                                             "email/from_name.txt, push/title.txt… (the full template name is "
                                             "filled in when you save).")
        if "content" in self.fields:
            field = self.fields["content"]
            field.crlf = "\r\n" in (self.instance.content or "")
            field.widget.template_name_hint = self.instance.name or self.initial.get("name") or ""
            owner = parent if parent is not None and parent.pk else (
                self.instance.message_type if self.instance.message_type_id else None)
            field.widget.picker = picker_items(owner, self.instance.content or "")
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


class TemplateInlineFormSet(forms.BaseInlineFormSet):
    """Gives each template form its message type, so short names ("email/subject.txt") can be expanded."""

    def get_form_kwargs(self, index):
        return {**super().get_form_kwargs(index), "parent": self.instance}
