"""Signed unsubscribe and preference links, the ``List-Unsubscribe`` headers, and recording what people choose.

A link's token is made with ``django.core.signing`` (HMAC over ``SECRET_KEY`` with a salt of its own):
it names the recipient (user id and address), the message's category (or message type) and its
language, and cannot be forged or altered without the key. Tokens do not expire: a person must be
able to unsubscribe from an old email.

:func:`prepare_message` is an ``ACE_MESSAGE_PREPARERS`` callable: it gives every template
``{{ preferences_url }}`` and, for non-transactional messages, ``{{ unsubscribe_url }}`` plus the
RFC 2369 / RFC 8058 headers. Code that renders messages without ``ace.send`` (campaign batches) calls
it itself.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass, replace
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.db.models import Q
from django.urls import get_script_prefix, get_urlconf, reverse

from ace_admin import cache as stamp

UNSUBSCRIBE_SALT = "ace_admin.unsubscribe"
PREFERENCES_SALT = "ace_admin.preferences"
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:8000"
ONE_CLICK = "List-Unsubscribe=One-Click"
#: The headers this module adds; removed again from a message that turns out to be transactional.
HEADERS = ("List-Unsubscribe", "List-Unsubscribe-Post")


def public_base_url() -> str:
    """``ACE_PUBLIC_BASE_URL``: where people reach this site from their mailbox (scheme, host, optional path)."""
    value = getattr(settings, "ACE_PUBLIC_BASE_URL", None) or DEFAULT_PUBLIC_BASE_URL
    parts = urlsplit(value) if isinstance(value, str) else None
    if parts is None or parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        # A link that mailbox providers cannot follow would make every unsubscribe silently fail.
        raise ImproperlyConfigured(
            f"ACE_PUBLIC_BASE_URL must be the http(s) address people reach this site at, such as "
            f"'https://mail.example.org', not {value!r}.")
    return value.rstrip("/")


def unsubscribe_mailto() -> str:
    """``ACE_UNSUBSCRIBE_MAILTO``: an address that unsubscribes whoever writes to it, or '' when there is none."""
    return str(getattr(settings, "ACE_UNSUBSCRIBE_MAILTO", None) or "").strip()


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
        category = stamp.category_of(message, info)
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


def make_token(subscriber: Subscriber, salt: str = UNSUBSCRIBE_SALT) -> str:
    # Not compressed: for a payload this small zlib saves a few bytes and doubles the cost of signing.
    return signing.dumps(subscriber.payload(), salt=salt)


def read_token(token: str, salt: str = UNSUBSCRIBE_SALT) -> Subscriber:
    """The subscriber a token names; ``signing.BadSignature`` when it was forged, altered or truncated."""
    try:
        return Subscriber.from_payload(signing.loads(token, salt=salt))
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
    info = stamp.message_type_for(message)
    subscriber = Subscriber.for_message(message, info)
    if subscriber is None:
        return
    transactional = stamp.is_transactional(message, info)
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


def _message_type(subscriber: Subscriber):
    from ace_admin.models import MessageType

    if not subscriber.message_type or "." not in subscriber.message_type:
        return None
    app_label, name = subscriber.message_type.split(".", 1)
    return MessageType.objects.filter(app_label=app_label, name=name).first()


def opt_out(subscriber: Subscriber, *, everything: bool = False, category: str | None = None,
            source: str = "unsubscribe"):
    """Record that ``subscriber`` wants no more messages of the token's category (or message type), of
    ``category``, or no non-transactional message at all (``everything``). Idempotent; returns the OptOut."""
    from ace_admin.models import OptOut

    message_type = None
    if everything:
        category = ""
    elif category is None:
        category = subscriber.category
        if not category:
            message_type = _message_type(subscriber)
    scope = Q(category=category or "", message_type=message_type) if message_type else \
        Q(category=category or "", message_type__isnull=True)
    with transaction.atomic():
        existing = OptOut.objects.filter(subscriber.who() & scope).first()
        if existing is not None:
            return existing
        return OptOut.objects.create(lms_user_id=subscriber.user_id, email=subscriber.email, category=category or "",
                                     message_type=message_type, source=source)


def marketing_categories() -> list[str]:
    """Every category of non-transactional message types, in alphabetical order."""
    from ace_admin.models import MessageType

    return sorted(set(MessageType.objects.filter(transactional=False).exclude(category="")
                      .values_list("category", flat=True)))


@dataclass
class Preferences:
    """What a person receives: each category on or off, and whether they left all marketing."""

    categories: dict[str, bool]
    all_off: bool


def preferences_of(subscriber: Subscriber) -> Preferences:
    from ace_admin.models import OptOut

    rows = list(OptOut.objects.filter(subscriber.who(), message_type__isnull=True).values_list("category", flat=True))
    all_off = "" in rows
    names = set(marketing_categories()) | {name for name in rows if name}
    if subscriber.category:
        names.add(subscriber.category)
    return Preferences(categories={name: not all_off and name not in rows for name in sorted(names)}, all_off=all_off)


def save_preferences(subscriber: Subscriber, wanted: set[str], *, everything_off: bool = False) -> Preferences:
    """Apply the preference form: categories in ``wanted`` on, the others off; ``everything_off`` leaves all
    marketing. Saving the form with some category on also ends an earlier "unsubscribe from all"."""
    from ace_admin.models import OptOut

    current = preferences_of(subscriber)
    with transaction.atomic():
        if everything_off:
            opt_out(subscriber, everything=True, source="unsubscribe")
            return preferences_of(subscriber)
        base = OptOut.objects.filter(subscriber.who(), message_type__isnull=True)
        base.filter(category="").delete()
        for name in current.categories:
            if name in wanted:
                base.filter(category=name).delete()
            else:
                opt_out(subscriber, category=name, source="unsubscribe")
    return preferences_of(subscriber)
