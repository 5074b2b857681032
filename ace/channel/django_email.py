"""A channel that sends email with Django's mail framework (``EMAIL_BACKEND``).

Useful as the transactional channel, as an alternative to a provider, and in tests through the
locmem backend (``django.core.mail.outbox``).

Sample settings::

    EMAIL_BACKEND = 'django.core.mail.backends.smtp.EmailBackend'
    EMAIL_HOST = 'localhost'
    DEFAULT_FROM_EMAIL = 'hello@example.org'
    ACE_CHANNEL_DEFAULT_EMAIL = 'sailthru_email'
    ACE_CHANNEL_TRANSACTIONAL_EMAIL = 'django_email'
    ACE_ENABLED_CHANNELS = ['sailthru_email', 'django_email']

SMTP replies map onto ACE errors: a 4xx reply or a lost connection is a
``RecoverableChannelDeliveryError`` (tried again after ``ACE_CHANNEL_DJANGO_EMAIL_RETRY_DELAY``
seconds), a 5xx reply a ``FatalChannelDeliveryError``.
"""

from __future__ import annotations

import contextlib
import smtplib
import threading
from datetime import timedelta

from django.core.mail import BadHeaderError, get_connection

from ace.channel import Channel
from ace.channel.mixins import EmailChannelMixin
from ace.errors import FatalChannelDeliveryError, RecoverableChannelDeliveryError
from ace.settings import ace_settings
from ace.utils.date import get_current_time


def smtp_error_code(error: Exception) -> int | None:
    """The SMTP reply code behind ``error``, when it carries one."""
    if isinstance(error, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in error.recipients.values()]
        return max(codes) if codes else None
    return getattr(error, "smtp_code", None)


class DjangoEmailChannel(EmailChannelMixin, Channel):
    """An email channel that sends through Django's ``EMAIL_BACKEND``."""

    def __init__(self):
        self._local = threading.local()

    @classmethod
    def enabled(cls) -> bool:
        """Always True: Django's mail settings have defaults."""
        return True

    @contextlib.contextmanager
    def batch(self):
        """Reuse one open connection for every ``deliver`` inside the block (in this thread)."""
        if getattr(self._local, "connection", None) is not None:
            yield self._local.connection
            return
        connection = get_connection()
        self._local.connection = connection
        try:
            connection.open()
            yield connection
        finally:
            self._local.connection = None
            with contextlib.suppress(Exception):
                connection.close()

    def check_message(self, message) -> None:
        self.check_recipient_and_sender(message)

    def deliver(self, message, rendered_message) -> dict | None:
        """Send the email; returns ``{"provider_message_id": ...}`` when the backend reports the provider's id
        (django-anymail's ``anymail_status.message_id``), so the delivery log can match the provider's events."""
        email = self.build_email(message, rendered_message)
        envelope_sender = message.options.get("envelope_sender")
        if envelope_sender:
            # SMTP's MAIL FROM (the Return-Path, where bounces go) is Django's from_email; the From header stays.
            email.extra_headers["From"] = email.from_email
            email.from_email = envelope_sender
        # django-anymail sends ``metadata`` to the provider, which hands it back with each event.
        email.metadata = {"ace_message_id": str(message.uuid)}
        try:
            email.connection = self._batch_connection()
            email.send(fail_silently=False)
        except BadHeaderError as error:
            raise FatalChannelDeliveryError(f"Refused to build a header: {error}")
        except smtplib.SMTPResponseException as error:
            if error.smtp_code == 421:  # the server is closing the connection (smtplib has closed it)
                self._drop_batch_connection()
            self._raise_for_code(error.smtp_code, f"{error.smtp_code} {error.smtp_error!r}")
        except smtplib.SMTPRecipientsRefused as error:
            code = smtp_error_code(error)
            if code == 421:
                self._drop_batch_connection()
            self._raise_for_code(code, f"recipient refused: {error.recipients}")
        except (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError) as error:
            self._drop_batch_connection()
            raise RecoverableChannelDeliveryError(f"SMTP connection failed: {error}", self._retry_time())
        except smtplib.SMTPException as error:  # any other SMTP error: fatal, as in edx-ace
            raise FatalChannelDeliveryError(f"An SMTP error occurred: {error!r}") from error
        except (ConnectionError, TimeoutError, OSError) as error:  # refused, reset, unreachable: try again later
            self._drop_batch_connection()
            raise RecoverableChannelDeliveryError(f"SMTP connection failed: {error}", self._retry_time())
        return self._provider_details(email)

    @staticmethod
    def _provider_details(email) -> dict | None:
        status = getattr(email, "anymail_status", None)
        message_id = getattr(status, "message_id", None)
        if isinstance(message_id, set):  # one id per recipient: ACE sends to one recipient
            message_id = next(iter(message_id), None) if len(message_id) == 1 else None
        return {"provider_message_id": str(message_id)} if message_id not in (None, "") else None

    def _batch_connection(self):
        """The open connection of the current ``batch()``, reopened if the server dropped it, else None.

        Reopening here (not inside ``send``) keeps it the batch's one shared connection: a connection
        that Django's backend opens itself is closed again after a single message.
        """
        connection = getattr(self._local, "connection", None)
        if connection is not None and getattr(connection, "connection", True) is None:
            connection.open()
        return connection

    def _drop_batch_connection(self):
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            with contextlib.suppress(Exception):
                connection.close()

    def _retry_time(self):
        return get_current_time() + timedelta(seconds=ace_settings.ACE_CHANNEL_DJANGO_EMAIL_RETRY_DELAY)

    def _raise_for_code(self, code, text):
        if code is not None and 400 <= code < 500:
            raise RecoverableChannelDeliveryError(f"SMTP temporary failure: {text}", self._retry_time())
        raise FatalChannelDeliveryError(f"SMTP permanent failure: {text}")
