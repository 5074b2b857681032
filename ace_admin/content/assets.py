"""Image assets: check an upload, store it in Django's default storage under a name made from its content, give
its absolute URL for emails, and serve it with long cache headers.

What a file is comes from its content, never from its name or the browser's word: Pillow must recognise it as
PNG, JPEG, GIF or WebP and read it whole. SVG (which can carry script) is not an image format Pillow reads, and
bytes that look like markup anywhere in the first kilobyte are refused too (an HTML page glued to a GIF header).
Sizes are capped in bytes (``ACE_ADMIN_ASSET_MAX_BYTES``) and pixels (``ACE_ADMIN_ASSET_MAX_PIXELS``, also
against decompression bombs). Files are named ``ace/assets/<sha256>.<ext>``: a new image never replaces an old
one that sent emails still show, and a URL's content never changes, so it is served ``immutable``.
"""

from __future__ import annotations

import hashlib
import io
import re
import warnings
from dataclasses import dataclass
from urllib.parse import urljoin

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404
from django.views.decorators.http import require_safe
from PIL import Image, UnidentifiedImageError

from ace_admin.models import ImageAsset
from ace_admin.privacy.links import public_base_url
from ace_admin.settings import admin_settings

ASSET_DIR = "ace/assets/"

#: Pillow format -> (extension, content type). Nothing else is accepted.
FORMATS = {
    "PNG": ("png", "image/png"),
    "JPEG": ("jpg", "image/jpeg"),
    "GIF": ("gif", "image/gif"),
    "WEBP": ("webp", "image/webp"),
}
CONTENT_TYPES = dict(FORMATS.values())
ASSET_NAME = re.compile(r"^ace/assets/[0-9a-f]{64}\.(png|jpg|gif|webp)$")
# (Not "<?xml": image metadata (XMP) may carry XML; SVG is refused by Pillow and by "<svg" here.)
_MARKUP = re.compile(rb"(?i)<\s*(!doctype|html|head|body|script|svg|iframe|object|embed)\b")

#: A year: the content behind a name never changes.
CACHE_CONTROL = "public, max-age=31536000, immutable"
ASSET_POLICY = "default-src 'none'; sandbox"


@dataclass(frozen=True)
class CheckedImage:
    data: bytes
    extension: str
    content_type: str
    width: int
    height: int


def check_image(data: bytes) -> CheckedImage:
    """``data`` as a checked image; ``ValidationError`` saying what is wrong otherwise."""
    limit = admin_settings.ACE_ADMIN_ASSET_MAX_BYTES
    if not data:
        raise ValidationError("The file is empty.")
    if len(data) > limit:
        raise ValidationError(f"The image is {len(data) / 1024 / 1024:.1f} MB; the most is "
                              f"{limit / 1024 / 1024:.1f} MB.")
    if _MARKUP.search(data[:1024]):
        raise ValidationError("This file contains markup (HTML or SVG), not only an image: it is refused.")
    max_pixels = admin_settings.ACE_ADMIN_ASSET_MAX_PIXELS
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                image_format, (width, height) = image.format, image.size
                if width * height > max_pixels:
                    raise ValidationError(f"The image is {width}×{height} pixels; the most is {max_pixels:,} pixels.")
                image.verify()  # reads the whole file: a truncated or corrupt image is refused
    except ValidationError:
        raise
    except (UnidentifiedImageError, Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError("This file is not a PNG, JPEG, GIF or WebP image (SVG is not accepted).")
    except (OSError, SyntaxError, ValueError) as error:
        raise ValidationError(f"This image cannot be read: {error}.")
    if image_format not in FORMATS:
        raise ValidationError(f"{image_format} images are not accepted: use PNG, JPEG, GIF or WebP.")
    extension, content_type = FORMATS[image_format]
    return CheckedImage(data, extension, content_type, width, height)


def existing_image(data: bytes) -> ImageAsset | None:
    """The asset already stored with exactly this content, if any."""
    return ImageAsset.objects.filter(sha256=hashlib.sha256(data).hexdigest()).first()


def store_image(data: bytes, original_name: str = "", *, user=None, alt_text: str = "") -> ImageAsset:
    """Check ``data`` and store it (once per content); the asset row, new or the existing one."""
    checked = check_image(data)
    digest = hashlib.sha256(data).hexdigest()
    existing = ImageAsset.objects.filter(sha256=digest).first()
    if existing is not None:
        return existing
    name = f"{ASSET_DIR}{digest}.{checked.extension}"
    if not default_storage.exists(name):
        saved = default_storage.save(name, ContentFile(data))
        if saved != name:  # a storage that renamed it: the URL would not be content-addressed
            raise ValidationError("The storage did not keep the image's name.")
    return ImageAsset.objects.create(
        file=name, sha256=digest, original_name=(original_name or "")[-255:], content_type=checked.content_type,
        width=checked.width, height=checked.height, size=len(data), alt_text=alt_text[:255], uploaded_by=user)


def asset_url(asset: ImageAsset) -> str:
    """The absolute URL of ``asset`` for emails: the storage's URL, on ``ACE_PUBLIC_BASE_URL`` when relative."""
    url = default_storage.url(asset.file.name)
    if url.startswith(("http://", "https://")):
        return url
    return urljoin(public_base_url().rstrip("/") + "/", url.lstrip("/"))


@require_safe
def serve(request, name: str):
    """An asset from the default storage, for mail clients: public, cached for a year, never run as a page."""
    if not ASSET_NAME.match(name):
        raise Http404("No such image.")
    try:
        handle = default_storage.open(name, "rb")
    except (FileNotFoundError, OSError):
        raise Http404("No such image.")
    response = FileResponse(handle, content_type=CONTENT_TYPES[name.rsplit(".", 1)[1]])
    response["Cache-Control"] = CACHE_CONTROL
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = ASSET_POLICY
    response["Cross-Origin-Resource-Policy"] = "cross-origin"
    response["ETag"] = f'"{name.rsplit("/", 1)[1].split(".")[0]}"'
    return response
