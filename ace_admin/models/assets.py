"""Reusable content: snippets (named template blocks shared by many messages) and uploaded images."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from ace_admin.models.content import Template, TemplateManager

#: Snippet templates are named ``snippets/<name>.html`` and included as ``{% include "snippets/<name>.html" %}``.
SNIPPET_PREFIX = "snippets/"
SNIPPET_SUFFIX = ".html"


class SnippetManager(TemplateManager):
    def get_queryset(self):
        return super().get_queryset().filter(name__startswith=SNIPPET_PREFIX)


class Snippet(Template):
    """A reusable block (header, footer, call to action): a template named ``snippets/<name>.html``, per language
    and site like every template, with its versions, rendered through the same sandbox."""

    objects = SnippetManager()

    class Meta:
        proxy = True
        verbose_name = "snippet"
        verbose_name_plural = "snippets"

    @property
    def snippet_name(self) -> str:
        return self.name.removeprefix(SNIPPET_PREFIX).removesuffix(SNIPPET_SUFFIX)


class ImageAsset(models.Model):
    """An image uploaded for use in emails, stored under a name made from its content (so it never changes and
    can be cached for ever), referenced in emails by its absolute URL."""

    file = models.FileField("file", max_length=255, unique=True,
                            help_text="Where the image is stored (named after its content).")
    sha256 = models.CharField("content hash", max_length=64, unique=True, editable=False,
                              help_text="SHA-256 of the file: the same image uploaded twice is stored once.")
    original_name = models.CharField("uploaded as", max_length=255, blank=True,
                                     help_text="The file name it was uploaded with.")
    content_type = models.CharField("type", max_length=50, help_text="The image type found in the file itself.")
    width = models.PositiveIntegerField("width", help_text="Width in pixels.")
    height = models.PositiveIntegerField("height", help_text="Height in pixels.")
    size = models.PositiveIntegerField("size", help_text="Size in bytes.")
    alt_text = models.CharField(
        "description (alt text)", max_length=255, blank=True,
        help_text="What the image shows, for people who cannot see it and for mail clients that block images. "
                  "Suggested when the image is inserted.")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+", verbose_name="uploaded by", help_text="Who uploaded it.")
    created_at = models.DateTimeField("uploaded", auto_now_add=True, help_text="When it was uploaded.")

    class Meta:
        verbose_name = "image"
        verbose_name_plural = "images"
        ordering = ["-created_at"]

    def __str__(self):
        return self.original_name or self.file.name
