"""An email channel that hands rendered messages to Sailthru's ``send`` API (through ``sailthru-client``).

Sample settings::

    ACE_CHANNEL_SAILTHRU_DEBUG = False
    ACE_CHANNEL_SAILTHRU_TEMPLATE_NAME = "Some template name"
    ACE_CHANNEL_SAILTHRU_API_KEY = "1234567890"
    ACE_CHANNEL_SAILTHRU_API_SECRET = "this is secret"
    ACE_CHANNEL_SAILTHRU_API_URL = None   # the client's own host; tests point it at a local server

The named Sailthru template stays minimal: ACE renders everything and passes it as the template vars
``ace_template_from_name``, ``ace_template_subject``, ``ace_template_head_html``,
``ace_template_body_html`` and ``ace_template_body`` (the plain-text body). Its "From Name" is
``{{ace_template_from_name}}``, its "Subject" ``{{ace_template_subject}}``, and its code::

    <html xmlns="http://www.w3.org/1999/xhtml" lang="en">
      <head>
        {{ace_template_head_html}}
      </head>
      <body>
        {body_html = replace(ace_template_body_html, '{view_url}', view_url)}
        {body_html = replace(body_html, '{optout_confirm_url}', optout_confirm_url)}
        {body_html = replace(body_html, '{forward_url}', forward_url)}
        {body_html = replace(body_html, '{beacon_src}', beacon_src)}
        {body_html}
        <span id="sailthru-message-id" style="display: none;">{message_id()}</span>
        <a href="{optout_confirm_url}" style="display: none;"></a>
      </body>
    </html>

Delivery is "at most once" from Sailthru's side: a success only means Sailthru accepted the request.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from email.utils import parseaddr
from enum import Enum, IntEnum

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from ace.channel import Channel
from ace.channel.mixins import EmailChannelMixin
from ace.errors import FatalChannelDeliveryError, InvalidMessageError, RecoverableChannelDeliveryError
from ace.settings import ace_settings
from ace.utils.date import get_current_time

try:
    from sailthru.sailthru_client import SailthruClient
    from sailthru.sailthru_error import SailthruClientError
except ImportError:  # the channel reports itself disabled instead of breaking the plug-in loader
    SailthruClient = None
    SailthruClientError = None

LOG = logging.getLogger(__name__)


class RecoverableErrorCodes(IntEnum):
    """Sailthru error codes that mean "wait a bit and try again"; every other code is fatal."""

    #: Something went wrong on Sailthru's end; the request was probably not saved.
    INTERNAL_ERROR = 9
    #: Too many requests of this type this minute to this endpoint.
    RATE_LIMIT = 43


class ResponseHeaders(Enum):
    """Rate-limit headers on every Sailthru API response."""

    RATE_LIMIT_REMAINING = "X-Rate-Limit-Remaining"
    RATE_LIMIT_RESET = "X-Rate-Limit-Reset"


def _api_url() -> str | None:
    url = ace_settings.ACE_CHANNEL_SAILTHRU_API_URL
    if not url:
        return None  # sailthru-client's own default host
    if not isinstance(url, str) or not url.startswith(("http://", "https://")):
        raise ImproperlyConfigured(
            f"ACE_CHANNEL_SAILTHRU_API_URL must be an http(s) URL such as https://api.sailthru.com, not {url!r}."
        )
    return url.rstrip("/")  # the client appends "/send"


def _retry_after_delay() -> datetime:
    return get_current_time() + timedelta(seconds=ace_settings.ACE_CHANNEL_SAILTHRU_RETRY_DELAY)


def _rate_limit_reset(response) -> datetime:
    """When Sailthru's rate-limit window resets (``X-Rate-Limit-Reset``, Unix seconds), else the
    configured retry delay from now."""
    raw = response.get_response().headers.get(ResponseHeaders.RATE_LIMIT_RESET.value)
    try:
        return max(datetime.fromtimestamp(int(raw), tz=UTC), get_current_time())
    except (TypeError, ValueError, OverflowError, OSError):
        return _retry_after_delay()


class SailthruEmailChannel(EmailChannelMixin, Channel):
    """An email channel that delivers through the Sailthru REST API.

    The API key and secret are read from settings at each send and never kept on the channel: the
    channel object is reachable from templates as ``{{ channel }}``.
    """

    @classmethod
    def enabled(cls) -> bool:
        """True when the Sailthru client library is installed and the template name, API key and secret are
        set — or ``ACE_CHANNEL_SAILTHRU_DEBUG`` is on, where nothing is sent (as edx-ace, which enables the
        channel with empty keys)."""
        if SailthruClient is None:
            LOG.warning("The sailthru_email channel needs the sailthru-client package, which is not installed.")
            return False
        if ace_settings.ACE_CHANNEL_SAILTHRU_DEBUG:
            return True
        return all((ace_settings.ACE_CHANNEL_SAILTHRU_TEMPLATE_NAME, ace_settings.ACE_CHANNEL_SAILTHRU_API_KEY,
                    ace_settings.ACE_CHANNEL_SAILTHRU_API_SECRET))

    def get_action_links(self, **kwargs) -> list[tuple[str, str]]:
        """``(url, label)`` links for the email, filled in by Sailthru when sending: "View on Web" and, unless
        ``omit_unsubscribe_link=True`` (only for mail not covered by anti-spam law, CAN-SPAM), unsubscribe."""
        links = [("{view_url}", _("View on Web"))]
        if not kwargs.get("omit_unsubscribe_link"):
            links.append(("{optout_confirm_url}", _("Unsubscribe from this list")))
        return links

    @property
    def tracker_image_sources(self) -> list[str]:
        """The open-tracking image Sailthru fills in (``{beacon_src}``)."""
        return ["{beacon_src}"]

    def template_vars(self, message, rendered_message) -> dict[str, str]:
        """The vars the minimal Sailthru template expects, from the rendered email."""
        # Without a from_name template, the display name of the configured sender keeps the
        # Sailthru template's "From Name" from coming out empty.
        from_name = rendered_message.from_name or parseaddr(
            message.options.get("from_address") or settings.DEFAULT_FROM_EMAIL or "")[0]
        return {
            "ace_template_from_name": from_name,
            "ace_template_subject": rendered_message.subject,
            "ace_template_head_html": rendered_message.head_html or "",
            "ace_template_body_html": rendered_message.body_html,
            "ace_template_body": rendered_message.body or "",
        }

    def send_options(self, message) -> dict[str, str]:
        """Sailthru send options, as edx-ace sends them: ``behalf_email`` is the ``reply_to`` option when set,
        else ``from_address``; plus ``headers`` (ACE: extra headers such as List-Unsubscribe)."""
        options = {}
        if message.options.get("reply_to"):
            options["behalf_email"] = message.options["reply_to"]
        elif "from_address" in message.options:
            options["behalf_email"] = message.options["from_address"]
        headers = message.options.get("email_headers")
        if headers:
            options["headers"] = dict(headers)
        return options

    def deliver(self, message, rendered_message) -> dict | None:
        """Ask Sailthru to send the rendered email; returns ``{"send_id": ...}`` on success."""
        if getattr(message.recipient, "email_address", None) is None:
            raise InvalidMessageError(
                f"No email address specified for recipient {message.recipient} while sending message {message.log_id}")
        template = ace_settings.ACE_CHANNEL_SAILTHRU_TEMPLATE_NAME
        email = message.recipient.email_address
        template_vars = self.template_vars(message, rendered_message)
        options = self.send_options(message)
        logger = message.get_message_specific_logger(LOG)

        if ace_settings.ACE_CHANNEL_SAILTHRU_DEBUG:
            logger.info("Sailthru debug mode, not sending: template=%r email=%r options=%r vars=%r",
                        template, email, options, template_vars)
            return {"sailthru_debug": True}
        if SailthruClient is None:
            raise FatalChannelDeliveryError("Sailthru channel is disabled (sailthru-client is not installed).")

        # A client per send, dropped afterwards: it holds the secret and must not outlive this call.
        client = SailthruClient(ace_settings.ACE_CHANNEL_SAILTHRU_API_KEY,
                                ace_settings.ACE_CHANNEL_SAILTHRU_API_SECRET, api_url=_api_url())
        try:
            response = client.send(template, email, _vars=template_vars, options=options)
        except SailthruClientError as error:
            raise RecoverableChannelDeliveryError(f"Sailthru could not be reached: {error}", _retry_after_delay())

        status, body = response.get_status_code(), response.get_body()
        if isinstance(status, int):  # success is a 2xx JSON object without an error code
            accepted = 200 <= status < 300 and isinstance(body, dict) and "error" not in body
        else:  # a stand-in response (tests written for edx-ace patch the client): its own verdict
            accepted = bool(response.is_ok())
        if accepted:
            send_id = body.get("send_id") if isinstance(body, dict) else None
            logger.info("Sailthru accepted the message (send_id %s).", send_id)
            return {"send_id": send_id}
        self._raise_for_error(response)

    @staticmethod
    def _raise_for_error(response):
        status = response.get_status_code()
        body = response.get_body()
        try:
            code, text = int(body["error"]), str(body.get("errormsg", ""))
        except (KeyError, TypeError, ValueError, AttributeError):
            # Not a Sailthru error document (a proxy's HTML page, or a body without an error code).
            code, text = 0, f"unexpected answer: {response.get_body(as_dictionary=False)[:200]!r}"
        if code == 0 and status >= 500:
            # No Sailthru error body at all (a proxy's 502/503 page): the service is having trouble.
            raise RecoverableChannelDeliveryError(f"Sailthru answered HTTP {status}: {text}", _retry_after_delay())
        if code == RecoverableErrorCodes.RATE_LIMIT:
            raise RecoverableChannelDeliveryError(f"Sailthru error {code}: {text}", _rate_limit_reset(response))
        if code == RecoverableErrorCodes.INTERNAL_ERROR:
            raise RecoverableChannelDeliveryError(f"Sailthru error {code}: {text}", _retry_after_delay())
        error = FatalChannelDeliveryError(f"Sailthru error {code} (HTTP {status}): {text}")
        error.code, error.provider_message = code, text
        raise error

