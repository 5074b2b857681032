"""``Recipient``: the contact information for the person a message is meant for."""

from __future__ import annotations

import attr

from ace.errors import InvalidMessageError
from ace.serialization import MessageAttributeSerializationMixin


def _check_email(instance, attribute, value):
    if value is not None and not isinstance(value, str):
        raise InvalidMessageError(f"Recipient.email_address must be a string or None, not {value!r}.")


@attr.s(init=False, repr=True, eq=True, hash=False)
class Recipient(MessageAttributeSerializationMixin):
    """The target for a message.

    :param lms_user_id: the LMS user id of the intended recipient.
    :param email_address: the recipient's email address (optional; email channels need it).

    ``email=`` is accepted as another spelling of ``email_address``, because the published
    edx-ace examples use it. Mutable, as edx-ace's (hashed by identity).
    """

    lms_user_id = attr.ib()
    email_address = attr.ib(default=None, validator=_check_email)

    def __init__(self, lms_user_id, email_address=None, *, email=None):
        if email is not None and email_address is not None and email != email_address:
            raise InvalidMessageError("Recipient got both email= and email_address= with different values.")
        self.__attrs_init__(lms_user_id, email_address if email_address is not None else email)

    @property
    def email(self):
        return self.email_address
