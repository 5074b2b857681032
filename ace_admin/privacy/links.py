"""Opaque unsubscribe and preference links, the ``List-Unsubscribe`` headers, and recording what people choose.

A link's token is encrypted and authenticated (Fernet from ``cryptography``: AES-128-CBC + HMAC-SHA256,
with a key derived from ``SECRET_KEY`` and a salt per kind of link; ``SECRET_KEY_FALLBACKS`` still
open older tokens). It carries the recipient (user id and address), the message's category (or
message type) and its language, yet nothing in it is readable (mail logs, proxies and forwarded
emails see no address) and it cannot be forged or altered without the key. Tokens do not expire: a
person must be able to unsubscribe from an old email. Links sent before tokens were encrypted (signed,
readable base64) keep working; new links are never made that way.

:func:`prepare_message` is an ``ACE_MESSAGE_PREPARERS`` callable: it gives every template
``{{ preferences_url }}`` and, for non-transactional messages, ``{{ unsubscribe_url }}`` plus the
RFC 2369 / RFC 8058 headers. Code that renders messages without ``ace.send`` (campaign batches) calls
it itself.
"""

from __future__ import annotations

import base64
import functools
import json
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q
from django.urls import get_script_prefix, get_urlconf, reverse
from django.utils.crypto import salted_hmac

from ace_admin.content import message_types
from ace_admin.models import MessageType, OptOut
from ace_admin.settings import admin_settings

UNSUBSCRIBE_SALT = "ace_admin.privacy.links"
PREFERENCES_SALT = "ace_admin.preferences"
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8000"
ONE_CLICK = "List-Unsubscribe=One-Click"
#: The headers this module adds; removed again from a message that turns out to be transactional.
HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post")


def public_base_url() -> str:
    """``ACE_PUBLIC_BASE_URL``: where people reach this site from their mailbox (scheme, host, optional path)."""
    value = admin_settings.ACE_PUBLIC_BASE_URL or DEFAULT_PUBLIC_BASE_URL
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        # A link that mailbox providers cannot follow would make every unsubscribe silently fail.
        raise ImproperlyConfigured(
            f"ACE_PUBLIC_BASE_URL must be the http(s) address people reach this site at, such as "
            f"'https://mail.example.org', not {value!r}.")
    return value.rstrip("/")


def unsubscribe_mailto() -> str:
    """``ACE_UNSUBSCRIBE_MAILTO``: an address that unsubscribes whoever writes to it, or '' when there is none."""
    return str(admin_settings.ACE_UNSUBSCRIBE_MAILTO or "").strip()


@dataclass(frozen=True)
class Subscriber:
    """Who a link was made for, and for which category or message type (as signed into its token)."""

    user_id: str = ""
    email: str = ""
    category: str = ""
    message_type: str = ""  # "app_label.name", only when the message has no category
    language: str = ""

    def payload(self) -> dict:
        data = {"u": self.user_id, "e": self.email}
        if self.category:
            data["c"] = self.category
        if self.message_type:
            data["t"] = self.message_type
        if self.language:
            data["l"] = self.language
        return data

    @classmethod
    def from_payload(cls, data) -> Subscriber:
        if not isinstance(data, dict):
            raise signing.BadSignature("not a subscriber token")
        values = {key: str(data.get(short) or "") for key, short in
                  (("user_id", "u"), ("email", "e"), ("category", "c"), ("message_type", "t"), ("language", "l"))}
        if not values["user_id"] and not values["email"]:
            raise signing.BadSignature("the token names nobody")
        return cls(**values)

    @classmethod
    def for_message(cls, message, info=None) -> Subscriber | None:
        recipient = message.recipient
        if recipient is None:
            return None
        user_id = "" if recipient.lms_user_id in (None, "") else str(recipient.lms_user_id).strip()
        email = (recipient.email_address or "").strip().lower()
        if not user_id and not email:
            return None
        category = message_types.category_of(message, info)
        return cls(user_id=user_id, email=email, category=category,
                   message_type="" if category else f"{message.app_label}.{message.name}",
                   language=message.language or "")

    def who(self, id_field: str = "lms_user_id", email_field: str = "email") -> Q:
        """The rows of this person: their user id or their address."""
        condition = Q()
        if self.user_id:
            condition |= Q(**{id_field: self.user_id})
        if self.email:
            condition |= Q(**{email_field: self.email})
        return condition


#: Every Fernet token starts with its version byte 0x80, base64-encoded: "gAAAAA".
_FERNET_PREFIX = "gAAAAA"
#: Longer tokens are not read at all (a real one is about 200 characters).
MAX_TOKEN_LENGTH = 2000


@functools.lru_cache(maxsize=8)
def _cipher(salt: str, secret_key: str, fallbacks: tuple) -> MultiFernet:
    def fernet(secret):
        key = salted_hmac(f"{salt}.fernet", "ace_admin link key", secret=secret, algorithm="sha256").digest()
        return Fernet(base64.urlsafe_b64encode(key))

    return MultiFernet([fernet(secret_key), *(fernet(secret) for secret in fallbacks)])


def _current_cipher(salt: str) -> MultiFernet:
    return _cipher(salt, settings.SECRET_KEY, tuple(getattr(settings, "SECRET_KEY_FALLBACKS", ()) or ()))


def make_token(subscriber: Subscriber, salt: str = UNSUBSCRIBE_SALT) -> str:
    """An opaque token for ``subscriber``: encrypted and authenticated, URL-safe, without padding."""
    payload = json.dumps(subscriber.payload(), separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return _current_cipher(salt).encrypt(payload).decode("ascii").rstrip("=")


def read_token(token: str, salt: str = UNSUBSCRIBE_SALT) -> Subscriber:
    """The subscriber a token names; ``signing.BadSignature`` when it was forged, altered or truncated."""
    if not isinstance(token, str) or len(token) > MAX_TOKEN_LENGTH:
        raise signing.BadSignature("not a link token")
    try:
        if token.startswith(_FERNET_PREFIX):
            padded = token + "=" * (-len(token) % 4)
            try:
                data = json.loads(_current_cipher(salt).decrypt(padded.encode("ascii")))
            except (InvalidToken, ValueError, UnicodeError) as error:
                raise signing.BadSignature(f"not a valid link token ({type(error).__name__})")
        else:
            # A link from an email sent before tokens were encrypted: a signed (readable) payload.
            data = signing.loads(token, salt=salt)
        return Subscriber.from_payload(data)
    except signing.BadSignature:
        raise
    except Exception as error:  # a validly signed but malformed payload (cannot happen unless the key leaked)
        raise signing.BadSignature(str(error))


@functools.lru_cache(maxsize=16)
def _path_around_token(name: str, urlconf, script_prefix: str) -> tuple[str, str]:
    # reverse() costs more than signing; a batch needs the same path around a different token each time.
    before, _, after = reverse(name, kwargs={"token": _PLACEHOLDER}, urlconf=urlconf).partition(_PLACEHOLDER)
    return before, after


_PLACEHOLDER = "TOKEN"


def _link(name: str, token: str) -> str:
    before, after = _path_around_token(name, get_urlconf() or settings.ROOT_URLCONF, get_script_prefix())
    return f"{public_base_url()}{before}{token}{after}"


def unsubscribe_url(subscriber: Subscriber) -> str:
    return _link("ace_admin:unsubscribe", make_token(subscriber, UNSUBSCRIBE_SALT))


def preferences_url(subscriber: Subscriber) -> str:
    return _link("ace_admin:preferences", make_token(subscriber, PREFERENCES_SALT))


def list_unsubscribe_headers(url: str, subscriber: Subscriber) -> dict[str, str]:
    """RFC 2369 ``List-Unsubscribe`` (https URL first, then mailto when configured) and RFC 8058's
    ``List-Unsubscribe-Post``."""
    targets = [f"<{url}>"]
    mailto = unsubscribe_mailto()
    if mailto:
        # The token in the subject lets whoever reads that mailbox find the person and the category.
        targets.append(f"<mailto:{mailto}?subject=unsubscribe%20{make_token(subscriber)}>")
    return {"List-Unsubscribe": ", ".join(targets), "List-Unsubscribe-Post": ONE_CLICK}


def prepare_message(message) -> None:
    """Add ``preferences_url`` (and for non-transactional messages ``unsubscribe_url`` and the
    List-Unsubscribe headers) to ``message``. Idempotent; makes no database query once caches are warm."""
    info = message_types.message_type_for(message)
    subscriber = Subscriber.for_message(message, info)
    if subscriber is None:
        return
    transactional = message_types.is_transactional(message, info)
    # A transactional category (account, receipts) is not one people can switch off: not on the page.
    page_for = replace(subscriber, category="", message_type="") if transactional else subscriber
    # New dicts rather than updates in place: a caller may share one context dict between messages.
    context = {**message.context, "preferences_url": preferences_url(page_for)}
    headers = {name: value for name, value in (message.options.get("email_headers") or {}).items()
               if name not in HEADERS}
    if transactional:
        context.pop("unsubscribe_url", None)
    else:
        url = unsubscribe_url(subscriber)
        context["unsubscribe_url"] = url
        headers.update(list_unsubscribe_headers(url, subscriber))
    message.context = context
    message.options = {**message.options, "email_headers": headers}


# ---------------------------------------------------------------------------------------------------------------
# Recording choices


def _message_type_key(subscriber: Subscriber) -> tuple[str, str]:
    """(app_label, name) of the token's message type, or ('', '')."""
    app_label, _, name = (subscriber.message_type or "").partition(".")
    return (app_label, name) if app_label and name else ("", "")


def opt_out(subscriber: Subscriber, *, everything: bool = False, category: str | None = None,
            message_type: bool = False, source: str = "unsubscribe"):
    """Record that ``subscriber`` wants no more messages of the token's category (or, for a message without a
    category, of the token's message type only), of ``category``, of the token's message type
    (``message_type``), or no non-transactional message at all (``everything``). Idempotent; returns the OptOut.

    Message types are named by natural key (app_label + name), whether or not the admin knows them: the
    opt-out outlives deleting and re-creating the message type.
    """
    app_label = name = ""
    if everything:
        category = ""
    elif message_type:
        category = ""
        app_label, name = _message_type_key(subscriber)
    elif category is None:
        category = subscriber.category
        if not category:
            app_label, name = _message_type_key(subscriber)
    # (A token naming neither, which ACE never makes, leaves all non-transactional mail, as before.)
    scope = Q(category=category or "", app_label=app_label, message_name=name)
    with transaction.atomic():
        existing = OptOut.objects.filter(subscriber.who() & scope).first()
        if existing is not None:
            return existing
        return OptOut.objects.create(lms_user_id=subscriber.user_id, email=subscriber.email, category=category or "",
                                     app_label=app_label, message_name=name, source=source)


def marketing_categories() -> list[str]:
    """Every category of non-transactional message types, in alphabetical order."""
    return sorted(set(MessageType.objects.filter(transactional=False).exclude(category="")
                      .values_list("category", flat=True)))


@dataclass
class Preferences:
    """What a person receives: each category on or off, the link's message type (for a message without a
    category; None otherwise) on or off, and whether they left all marketing."""

    categories: dict[str, bool]
    all_off: bool
    message_type: bool | None = None


def _message_type_opt_outs(subscriber: Subscriber):
    app_label, name = _message_type_key(subscriber)
    return OptOut.objects.filter(subscriber.who(), app_label=app_label, message_name=name, category="")


def preferences_of(subscriber: Subscriber) -> Preferences:
    rows = list(OptOut.objects.filter(subscriber.who(), message_name="").values_list("category", flat=True))
    all_off = "" in rows
    names = set(marketing_categories()) | {name for name in rows if name}
    if subscriber.category:
        names.add(subscriber.category)
    this_type = None
    if not subscriber.category and _message_type_key(subscriber)[1]:
        this_type = not all_off and not _message_type_opt_outs(subscriber).exists()
    return Preferences(categories={name: not all_off and name not in rows for name in sorted(names)}, all_off=all_off,
                       message_type=this_type)


def save_preferences(subscriber: Subscriber, wanted: set[str], *, everything_off: bool = False,
                     message_type_on: bool | None = None) -> Preferences:
    """Apply the preference form: categories in ``wanted`` on, the others off; the link's message type on or
    off (``message_type_on``, when the page showed it); ``everything_off`` leaves all marketing. Saving the
    form with some category on also ends an earlier "unsubscribe from all"."""
    current = preferences_of(subscriber)
    with transaction.atomic():
        if everything_off:
            opt_out(subscriber, everything=True, source="unsubscribe")
            return preferences_of(subscriber)
        if current.message_type is not None and message_type_on is not None:
            if message_type_on:
                _message_type_opt_outs(subscriber).delete()
            else:
                opt_out(subscriber, message_type=True, source="unsubscribe")
        base = OptOut.objects.filter(subscriber.who(), message_name="")
        base.filter(category="").delete()
        for name in current.categories:
            if name in wanted:
                base.filter(category=name).delete()
            else:
                opt_out(subscriber, category=name, source="unsubscribe")
    return preferences_of(subscriber)
