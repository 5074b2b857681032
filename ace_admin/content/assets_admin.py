"""Admin pages of reusable content: snippets (named blocks templates include) and images (upload, list, alt text),
plus the upload endpoint the editors post images to."""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage
from django.http import JsonResponse
from django.urls import path
from django.utils.html import format_html
from django.views.decorators.http import require_POST

from ace_admin.archive import ArchiveAdminMixin
from ace_admin.content import assets, publishing, snippets
from ace_admin.content.publishing_admin import EditsDraftMixin, publish_and_report
from ace_admin.models import ImageAsset, Snippet

CSS = "ace_admin/css/ace_admin.css"


def _can_publish(request) -> bool:
    return request.user.has_perm("ace_admin.publish_template")


class SnippetForm(forms.ModelForm):
    snippet_name = forms.SlugField(
        label="snippet name", max_length=100,
        help_text="Short name, e.g. 'footer' or 'cta-button': templates insert it with "
                  "{% include \"snippets/footer.html\" %}.")

    class Meta:
        model = Snippet
        fields = ["language", "site", "published", "content"]
        widgets = {"content": forms.Textarea(attrs={"rows": 16, "class": "vLargeTextField ace-code",
                                                    "spellcheck": "false"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["snippet_name"].initial = self.instance.snippet_name

    def clean_snippet_name(self):
        name = self.cleaned_data["snippet_name"].strip().lower()
        if not snippets.SNIPPET_NAME.match(name):
            raise ValidationError("Use lower-case letters, digits, '-' and '_' only.")
        return name

    def _post_clean(self):
        if "snippet_name" not in self.cleaned_data:
            return  # the name is refused already: the model cannot be checked without one
        # The model's clean() checks the full name with the content (syntax, sandbox, duplicates).
        self.instance.name = snippets.template_name(self.cleaned_data["snippet_name"])
        super()._post_clean()


@admin.register(Snippet)
class SnippetAdmin(EditsDraftMixin, ArchiveAdminMixin, admin.ModelAdmin):
    """Snippets: templates named ``snippets/<name>.html``; saved, versioned and published like any template."""

    form = SnippetForm
    list_display = ["short_name", "include_tag", "language_display", "site", "published", "archived", "updated_at",
                    "updated_by"]
    list_filter = ["language", "site", "published"]
    search_fields = ["name", "content"]
    archive_updates = {"archived": True, "published": False}
    readonly_fields = ["include_tag", "updated_by", "updated_at"]
    fieldsets = [
        (None, {"fields": ["snippet_name", "language", "site", "published", "content"]}),
        ("Use", {"fields": ["include_tag"]}),
        ("History", {"fields": ["updated_by", "updated_at"]}),
    ]

    class Media:
        css = {"all": [CSS]}

    @admin.display(description="snippet", ordering="name")
    def short_name(self, obj):
        return obj.snippet_name

    @admin.display(description="insert with")
    def include_tag(self, obj):
        return format_html("<code>{}</code>", snippets.include_tag(obj.snippet_name)) if obj.pk else "-"

    @admin.display(description="language", ordering="language")
    def language_display(self, obj):
        return obj.language or "any"

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        return readonly if _can_publish(request) else [*readonly, "published"]

    def save_model(self, request, obj, form, change):
        # Like every template, through the publishing service: an edit is a draft (what is sent stays as it
        # was); "published" ticked by a manager publishes the draft, unticked unpublishes, both audited.
        wants_published = obj.published if _can_publish(request) else None
        was_published = Snippet.objects.filter(pk=obj.pk).values_list("published", flat=True).first() or False
        obj.published = was_published
        changed = publishing.save_draft(obj, obj.content, request.user)
        if wants_published and (obj.has_draft or not was_published):
            publish_and_report(self, request, obj)
        elif wants_published is False and was_published:
            publishing.unpublish(obj, request.user)
        elif changed:
            self.message_user(request, "Saved as a draft: not sent until a manager publishes it.", messages.INFO)


class ImageUploadForm(forms.ModelForm):
    upload = forms.FileField(label="image file", help_text="PNG, JPEG, GIF or WebP (no SVG).")

    class Meta:
        model = ImageAsset
        fields = ["alt_text"]

    def clean_upload(self):
        upload = self.cleaned_data["upload"]
        data = read_upload(upload)
        assets.check_image(data)
        existing = assets.existing_image(data)
        if existing is not None:
            raise ValidationError(f"This image was uploaded already (as {existing}): {assets.asset_url(existing)}")
        self.checked_data = data
        return upload


def read_upload(upload) -> bytes:
    """The uploaded file's bytes, refusing (without reading it all) a file larger than the limit."""
    limit = assets.admin_settings.ACE_ADMIN_ASSET_MAX_BYTES
    if upload.size is not None and upload.size > limit:
        raise ValidationError(f"The image is {upload.size / 1024 / 1024:.1f} MB; the most is "
                              f"{limit / 1024 / 1024:.1f} MB.")
    return upload.read()


class ImageChangeForm(forms.ModelForm):
    class Meta:
        model = ImageAsset
        fields = ["alt_text"]


@admin.register(ImageAsset)
class ImageAssetAdmin(admin.ModelAdmin):
    """Uploaded images: their absolute URL for emails, a preview, and the suggested alt text."""

    list_display = ["thumbnail", "original_name", "dimensions", "size_display", "email_url", "alt_text", "created_at",
                    "uploaded_by"]
    search_fields = ["original_name", "alt_text", "sha256"]
    readonly_fields = ["thumbnail", "email_url", "original_name", "content_type", "dimensions", "size_display",
                       "uploaded_by", "created_at"]
    list_select_related = ["uploaded_by"]

    class Media:
        css = {"all": [CSS]}

    def get_form(self, request, obj=None, change=False, **kwargs):
        kwargs["form"] = ImageChangeForm if obj is not None else ImageUploadForm
        return super().get_form(request, obj, change, **kwargs)

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["upload", "alt_text"]
        return ["thumbnail", "email_url", "alt_text", "original_name", "content_type", "dimensions", "size_display",
                "uploaded_by", "created_at"]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def save_model(self, request, obj, form, change):
        if change:
            obj.save()
            return
        stored = assets.store_image(form.checked_data, form.cleaned_data["upload"].name, user=request.user,
                                    alt_text=form.cleaned_data.get("alt_text") or "")
        obj.pk, obj.file, obj.sha256 = stored.pk, stored.file, stored.sha256
        obj._state.adding = False
        obj._state.db = stored._state.db

    @admin.display(description="image")
    def thumbnail(self, obj):
        # The admin shows it from this site (its own CSP allows the site's media), the email by absolute URL.
        return format_html('<img src="{}" alt="{}" class="ace-asset-thumb" width="{}">',
                           default_storage.url(obj.file.name), obj.alt_text, min(obj.width, 120))

    @admin.display(description="URL for emails")
    def email_url(self, obj):
        return format_html('<code class="ace-asset-url">{}</code>', assets.asset_url(obj))

    @admin.display(description="size (pixels)")
    def dimensions(self, obj):
        return f"{obj.width}×{obj.height}"

    @admin.display(description="file size", ordering="size")
    def size_display(self, obj):
        return f"{obj.size / 1024:.1f} KB"

    def get_urls(self):
        return [path("upload/", self.admin_site.admin_view(self.upload_view), name="ace_admin_imageasset_upload"),
                *super().get_urls()]

    def upload_view(self, request):
        return upload(request)


@require_POST
def upload(request):
    """The editors' image upload: a multipart POST with the file as ``upload`` (CKEditor's name) or ``file``, CSRF
    checked by the admin. JSON: ``{"uploaded": 1, "url", "fileName", "width", "height", "alt"}`` with the absolute
    URL to put in the email, or ``{"uploaded": 0, "error": {"message"}}`` with status 400."""
    if not request.user.has_perm("ace_admin.add_imageasset"):
        raise PermissionDenied
    upload_file = request.FILES.get("upload") or request.FILES.get("file")
    if upload_file is None:
        return _upload_error("Choose an image file to upload.")
    try:
        asset = assets.store_image(read_upload(upload_file), upload_file.name, user=request.user,
                                   alt_text=(request.POST.get("alt") or "")[:255])
    except ValidationError as error:
        return _upload_error(" ".join(error.messages))
    return JsonResponse({"uploaded": 1, "url": assets.asset_url(asset), "fileName": asset.original_name,
                         "width": asset.width, "height": asset.height, "alt": asset.alt_text, "id": asset.pk})


def _upload_error(message: str) -> JsonResponse:
    return JsonResponse({"uploaded": 0, "error": {"message": message}}, status=400)

