"""Image assets: checked by content, stored once under a content-hashed name, uploaded through a CSRF-protected,
permission-checked endpoint, served with long cache headers, referenced by absolute URL."""

from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from ace_admin.content.assets import asset_url, check_image, store_image
from ace_admin.models import ImageAsset
from ace_admin.preview import csp
from tests.factories import EditorFactory, ImageAssetFactory, StaffFactory, image_bytes

pytestmark = pytest.mark.django_db

SVG = b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"><rect/></svg>'
HTML = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>"


@pytest.mark.parametrize(("image_format", "extension", "content_type"), [
    ("PNG", "png", "image/png"), ("JPEG", "jpg", "image/jpeg"), ("GIF", "gif", "image/gif"),
    ("WEBP", "webp", "image/webp")])
def test_accepted_formats_are_recognised_from_the_content(image_format, extension, content_type):
    checked = check_image(image_bytes(image_format, size=(5, 7)))
    assert (checked.extension, checked.content_type, checked.width, checked.height) == (
        extension, content_type, 5, 7)


@pytest.mark.parametrize(("data", "reason"), [
    (SVG, "markup"),
    (HTML, "markup"),
    (b"GIF89a" + HTML, "markup"),  # an HTML page behind an image signature
    (b"just some text, not an image", "not a PNG"),
    (image_bytes("PNG")[:40], "cannot be read|not a PNG"),  # truncated
    (image_bytes("BMP"), "not accepted"),
    (b"", "empty"),
])
def test_what_is_not_an_accepted_image_is_refused(data, reason):
    with pytest.raises(ValidationError, match=reason):
        check_image(data)


def test_size_limits(settings):
    settings.ACE_ADMIN_ASSET_MAX_BYTES = 100
    with pytest.raises(ValidationError, match="the most is"):
        check_image(image_bytes("PNG", size=(64, 64), color=(1, 2, 3)) + b"\0" * 200)
    settings.ACE_ADMIN_ASSET_MAX_BYTES = 10_000_000
    settings.ACE_ADMIN_ASSET_MAX_PIXELS = 100
    with pytest.raises(ValidationError, match="pixels"):
        check_image(image_bytes("PNG", size=(20, 20)))


def test_stored_once_under_a_content_hashed_name(media_root):
    data = image_bytes("PNG")
    first = store_image(data, "logo.png")
    again = store_image(data, "copy-of-logo.png")
    assert again.pk == first.pk and ImageAsset.objects.count() == 1
    digest = hashlib.sha256(data).hexdigest()
    assert first.file.name == f"ace/assets/{digest}.png"
    assert (media_root / "ace" / "assets" / f"{digest}.png").read_bytes() == data


def test_absolute_url_on_the_public_base_url(media_root, settings):
    settings.ACE_PUBLIC_BASE_URL = "https://mail.example.org/base"
    asset = ImageAssetFactory()
    assert asset_url(asset) == f"https://mail.example.org/base/media/{asset.file.name}"  # the site under /base
    settings.MEDIA_URL = "https://cdn.example.net/m/"  # a storage with its own absolute URLs is used as it is
    assert asset_url(asset) == f"https://cdn.example.net/m/{asset.file.name}"


def test_served_publicly_with_long_cache_headers(media_root, client):
    asset = ImageAssetFactory()
    response = client.get(f"/media/{asset.file.name}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == (media_root / asset.file.name).read_bytes()
    assert response["Content-Type"] == "image/png"
    assert response["Cache-Control"] == "public, max-age=31536000, immutable"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in response["Content-Security-Policy"]
    for name in ["ace/assets/../../secret_key", "ace/assets/abc.png", "other/file.png", f"{asset.file.name}.html"]:
        assert client.get(f"/media/{name}").status_code == 404
    assert client.post(f"/media/{asset.file.name}").status_code == 405


def upload(client, data, name="photo.png", **extra):
    return client.post("/admin/ace_admin/imageasset/upload/",
                       {"upload": SimpleUploadedFile(name, data, content_type="image/png"), **extra})


def test_editor_uploads_through_the_endpoint(media_root, settings):
    settings.ACE_PUBLIC_BASE_URL = "https://mail.example.org"
    editor = EditorFactory()
    client = Client(enforce_csrf_checks=True)
    client.force_login(editor)
    # Without the CSRF token: refused.
    assert upload(client, image_bytes("PNG")).status_code == 403
    client.get("/admin/ace_admin/imageasset/add/")
    token = client.cookies["csrftoken"].value
    response = upload(client, image_bytes("JPEG", size=(8, 6)), name="team.jpg", alt="Our team",
                      csrfmiddlewaretoken=token)
    assert response.status_code == 200, response.content
    body = response.json()
    asset = ImageAsset.objects.get()
    assert body == {"uploaded": 1, "url": f"https://mail.example.org/media/{asset.file.name}", "fileName": "team.jpg",
                    "width": 8, "height": 6, "alt": "Our team", "id": asset.pk}
    assert asset.uploaded_by == editor and asset.content_type == "image/jpeg"
    refused = upload(client, SVG, name="logo.svg", csrfmiddlewaretoken=token)
    assert refused.status_code == 400
    assert refused.json()["uploaded"] == 0 and "markup" in refused.json()["error"]["message"]
    assert ImageAsset.objects.count() == 1


def test_upload_needs_the_permission(media_root, client):
    client.force_login(StaffFactory())  # staff without any role
    assert upload(client, image_bytes("PNG")).status_code == 403
    client.logout()
    assert upload(client, image_bytes("PNG")).status_code == 302  # to the login page
    assert ImageAsset.objects.count() == 0


def test_admin_add_page_uploads_and_lists(media_root, client):
    client.force_login(EditorFactory())
    page = client.get("/admin/ace_admin/imageasset/add/")
    assert page.status_code == 200 and page["Content-Security-Policy"] == csp.ADMIN_POLICY
    response = client.post("/admin/ace_admin/imageasset/add/", {
        "upload": SimpleUploadedFile("banner.gif", image_bytes("GIF", size=(30, 10))), "alt_text": "Banner"})
    assert response.status_code == 302, response.content.decode()[:3000]
    asset = ImageAsset.objects.get()
    assert (asset.width, asset.height, asset.alt_text, asset.original_name) == (30, 10, "Banner", "banner.gif")
    bad = client.post("/admin/ace_admin/imageasset/add/", {"upload": SimpleUploadedFile("x.png", HTML)})
    assert bad.status_code == 200 and "markup" in bad.content.decode()
    again = client.post("/admin/ace_admin/imageasset/add/", {
        "upload": SimpleUploadedFile("same.gif", image_bytes("GIF", size=(30, 10)))})
    assert again.status_code == 200 and "uploaded already (as banner.gif)" in again.content.decode()
    assert ImageAsset.objects.count() == 1
    listing = client.get("/admin/ace_admin/imageasset/").content.decode()
    assert f"/media/{asset.file.name}" in listing
    change = client.get(f"/admin/ace_admin/imageasset/{asset.pk}/change/").content.decode()
    assert f"http://127.0.0.1:8000/media/{asset.file.name}" in change  # the URL for emails, to copy


def test_admin_policy_allows_the_storage_origin(settings):
    assert csp.admin_policy() == csp.ADMIN_POLICY  # media served by this site: 'self' covers it
    settings.MEDIA_URL = "https://cdn.example.net/media/"
    assert "img-src 'self' https://cdn.example.net data: blob:" in csp.admin_policy()
    assert "script-src 'self';" in csp.admin_policy()
