"""Short HMAC signatures for ids that travel in addresses and links (envelope senders, open and click links)."""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac

from django.conf import settings

from ace.settings import on_reload


@functools.cache
def _key(purpose: str) -> bytes:
    return hashlib.sha256(f"ace_admin.events.{purpose}:{settings.SECRET_KEY}".encode()).digest()


on_reload(_key.cache_clear)


def sign(purpose: str, data: bytes, size: int = 10) -> bytes:
    """The first ``size`` bytes of HMAC-SHA256(``data``) under a key for ``purpose`` derived from SECRET_KEY."""
    return hmac.new(_key(purpose), data, hashlib.sha256).digest()[:size]


def verify(purpose: str, data: bytes, signature: bytes) -> bool:
    return hmac.compare_digest(sign(purpose, data, len(signature) or 1), signature)


def b32(data: bytes) -> str:
    """Lower-case base32 without padding: survives mail systems that change the case of local parts."""
    return base64.b32encode(data).decode("ascii").rstrip("=").lower()


def unb32(text: str) -> bytes:
    text = text.upper()
    return base64.b32decode(text + "=" * (-len(text) % 8))


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode("ascii").rstrip("=")


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
