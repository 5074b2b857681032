"""Validators for what people type into message types: one sender address, JSON objects where objects are expected."""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.core.validators import validate_email

# A display name: a quoted string (with \" escapes) or words of printable characters that need no quoting.
_QUOTED = r'"(?:[^"\\\r\n]|\\.)*"'
_PHRASE = r"[^\"<>@,;:()\[\]\\\x00-\x1f\x7f]+"
_NAMED = re.compile(rf"^\s*(?P<name>{_QUOTED}|{_PHRASE})?\s*<(?P<address>[^<>\s]+)>\s*$")


def validate_sender_address(value: str) -> None:
    """One address, bare (``news@example.org``) or with a display name (``Example <news@example.org>``).

    Refused, never rewritten: several addresses, a line break or other control character, no address,
    a display name with unquoted special characters (``,``, ``@``, ``<``...) or an unbalanced quote.
    """
    if not value:
        return
    if any(ord(char) < 32 or ord(char) == 127 for char in value):
        raise ValidationError("The address must be on one line, without control characters.", code="control")
    text = value.strip()
    match = _NAMED.match(text)
    address = match["address"] if match else text
    if not match and ("<" in text or ">" in text or '"' in text):
        raise ValidationError(
            "Write the sender as 'Name <address@example.org>' (quote a name holding , ; : @ or < >: "
            "'\"Doe, Jane\" <jane@example.org>').", code="display_name")
    if "," in address or ";" in address or " " in address:
        raise ValidationError("Give exactly one address (several were given).", code="several")
    try:
        validate_email(address)
    except ValidationError:
        raise ValidationError(f"{address!r} is not a valid email address.", code="invalid_address")


def validate_json_object(value) -> None:
    """A JSON object (``{"name": "Ada"}``), not a string, number or list."""
    if not isinstance(value, dict):
        raise ValidationError(f"Give a JSON object such as {{\"user_name\": \"Ada\"}}, not a {type(value).__name__}.",
                              code="not_an_object")


def normalize_language(value: str) -> str:
    """'pt_BR' / 'PT-br' -> 'pt-br': the form Django's translation.get_language() returns."""
    return (value or "").strip().replace("_", "-").lower()
