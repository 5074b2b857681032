"""An email channel that sends rendered messages through Braze's ``/messages/send`` REST endpoint.

Sample settings::

    ACE_CHANNEL_BRAZE_API_KEY = "..."                       # a REST API key allowed to send messages
    ACE_CHANNEL_BRAZE_APP_ID = "..."                        # the app the emails are attributed to
    ACE_CHANNEL_BRAZE_REST_ENDPOINT = "rest.iad-01.braze.com"   # or a full URL, e.g. a local test server
    ACE_CHANNEL_BRAZE_CAMPAIGNS = {"welcome": "campaign_id:variation_id"}   # optional
    ACE_CHANNEL_BRAZE_FROM_EMAIL = "Example <mail@example.org>"   # optional: an allow-listed sender
    ACE_DEFAULT_API_TIMEOUT = 5                             # seconds (ACE_CHANNEL_BRAZE_TIMEOUT wins if set)

Braze addresses people by their LMS user id (``external_user_ids``); a recipient without one gets the
email through ``django_email`` instead (as in edx-ace). A
message named in ``ACE_CHANNEL_BRAZE_CAMPAIGNS`` is attributed to that campaign, and Braze claims it
even when it is transactional (``overrides_delivery_for_message``).
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import requests
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext as _

from ace.channel import Channel
from ace.channel.django_email import DjangoEmailChannel
from ace.channel.mixins import EmailChannelMixin
from ace.errors import FatalChannelDeliveryError, RecoverableChannelDeliveryError
from ace.settings import ace_settings
from ace.utils.date import get_current_time

LOG = logging.getLogger(__name__)

#: Braze's Liquid tag for a one-click unsubscribe URL; Braze fills it in for each recipient.
UNSUBSCRIBE_URL = "{{${set_user_to_unsubscribed_url}}}"
RATE_LIMIT_RESET_HEADER = "X-RateLimit-Reset"


def api_base_url() -> str:
    """``https://HOST`` for a host-name setting, or the full http(s) URL the setting gives."""
    endpoint = ace_settings.ACE_CHANNEL_BRAZE_REST_ENDPOINT
    if not isinstance(endpoint, str) or not endpoint.strip():
        raise ImproperlyConfigured("ACE_CHANNEL_BRAZE_REST_ENDPOINT is not set (e.g. 'rest.iad-01.braze.com').")
    endpoint = endpoint.strip()
    if "://" not in endpoint:
        endpoint = f"https://{endpoint}"
    parts = urlsplit(endpoint)
    if parts.scheme not in ("http", "https") or not parts.netloc or parts.query or parts.fragment:
        raise ImproperlyConfigured(
            f"ACE_CHANNEL_BRAZE_REST_ENDPOINT must be a host name such as 'rest.iad-01.braze.com' or an "
            f"http(s) URL, not {ace_settings.ACE_CHANNEL_BRAZE_REST_ENDPOINT!r}."
        )
    return endpoint.rstrip("/")


def campaign_for(message_name: str) -> tuple[str | None, str | None]:
    """``(campaign_id, variation_id)`` configured for a message name, or ``(None, None)`` (also for an
    empty value, as in edx-ace)."""
    campaigns = ace_settings.ACE_CHANNEL_BRAZE_CAMPAIGNS or {}
    if not isinstance(campaigns, dict):
        raise ImproperlyConfigured("ACE_CHANNEL_BRAZE_CAMPAIGNS must be a dict of message name -> "
                                   f"'campaign_id[:variation_id]', not {type(campaigns).__name__}.")
    value = campaigns.get(message_name)
    if not value:
        return None, None
    if not isinstance(value, str) or not value.split(":", 1)[0].strip():
        raise ImproperlyConfigured(f"ACE_CHANNEL_BRAZE_CAMPAIGNS[{message_name!r}] must be "
                                   f"'campaign_id' or 'campaign_id:variation_id', not {value!r}.")
    campaign_id, _sep, variation_id = value.partition(":")
    return campaign_id.strip() or None, variation_id.partition(":")[0].strip() or None


def _retry_after_delay() -> datetime:
    return get_current_time() + timedelta(seconds=ace_settings.ACE_CHANNEL_BRAZE_RETRY_DELAY)


def _rate_limit_reset(response) -> datetime:
    """When Braze's rate-limit window resets (``X-RateLimit-Reset``, Unix seconds), else the
    configured retry delay from now."""
    try:
        reset = datetime.fromtimestamp(int(response.headers[RATE_LIMIT_RESET_HEADER]), tz=UTC)
    except (KeyError, TypeError, ValueError, OverflowError, OSError):
        return _retry_after_delay()
    return max(reset, get_current_time())


def _braze_message(response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text[:200]
    if isinstance(body, dict):
        return str(body.get("message") or body.get("errors") or body)
    return str(body)[:200]


class BrazeEmailChannel(EmailChannelMixin, Channel):
    """An email channel that delivers through Braze's REST API (``POST /messages/send``).

    The API key is read from settings at each send and never kept on the channel: the channel object
    is reachable from templates as ``{{ channel }}``.
    """

    @classmethod
    def enabled(cls) -> bool:
        """True when the API key, app id and REST endpoint are all set."""
        return bool(ace_settings.ACE_CHANNEL_BRAZE_API_KEY and ace_settings.ACE_CHANNEL_BRAZE_APP_ID
                    and ace_settings.ACE_CHANNEL_BRAZE_REST_ENDPOINT)

    def overrides_delivery_for_message(self, message) -> bool:
        """True for a message with a Braze campaign configured: Braze delivers it even when transactional."""
        return campaign_for(message.name)[0] is not None

    def get_action_links(self, **kwargs) -> list[tuple[str, str]]:
        """``(url, label)`` links for the email; Braze fills in the unsubscribe URL when sending.

        ``omit_unsubscribe_link=True`` leaves it out: do so only for mail not covered by anti-spam law (CAN-SPAM).
        """
        if kwargs.get("omit_unsubscribe_link"):
            return []
        return [(UNSUBSCRIBE_URL, _("Unsubscribe from this list"))]

    def braze_from_address(self, message) -> str:
        """The From field: ``ACE_CHANNEL_BRAZE_FROM_EMAIL`` (Braze only accepts allow-listed senders), else the
        message's ``from_address`` or ``DEFAULT_FROM_EMAIL``, as written there (as in edx-ace: the display name
        in the address is kept, ``from_name.txt`` is not used)."""
        return ace_settings.ACE_CHANNEL_BRAZE_FROM_EMAIL or self.get_from_address(message)

    def request_body(self, message, rendered_message) -> dict:
        """The JSON body of ``POST /messages/send`` for ``message`` (edx-ace's, keys with no value included)."""
        transactional = bool(message.options.get("transactional", False))
        campaign_id, variation_id = campaign_for(message.name)
        email = {
            "app_id": ace_settings.ACE_CHANNEL_BRAZE_APP_ID,
            "subject": self.get_subject(rendered_message),
            "from": self.braze_from_address(message),
            "reply_to": message.options.get("reply_to"),
            "body": self.make_simple_html_template(rendered_message.head_html, rendered_message.body_html),
            "plaintext_body": rendered_message.body,
            "message_variation_id": variation_id,
            # ACE templates carry their CSS inline already; Braze's inliner would only rewrite them.
            "should_inline_css": False,
        }
        # Extra headers (e.g. List-Unsubscribe added by a preparer): Braze's email object takes "headers".
        headers = message.options.get("email_headers")
        if headers:
            email["headers"] = dict(headers)
        return {
            "external_user_ids": [str(message.recipient.lms_user_id)],
            # Transactional mail (receipts, password resets) goes out even to people who unsubscribed.
            "recipient_subscription_state": "all" if transactional else "subscribed",
            "campaign_id": campaign_id,
            "override_frequency_capping": bool(message.options.get("override_frequency_capping", transactional)),
            "messages": {"email": email},
        }

    def deliver(self, message, rendered_message) -> dict:
        """Ask Braze to send the rendered email; returns ``{"dispatch_id": ...}`` on success.

        A recipient without ``lms_user_id`` (Braze addresses people by it) gets the email through the
        ``django_email`` channel instead, as in edx-ace."""
        if not self.enabled():
            raise FatalChannelDeliveryError("Braze channel is disabled, unable to send")
        if not getattr(message.recipient, "lms_user_id", None):
            return DjangoEmailChannel().deliver(message, rendered_message)
        body = self.request_body(message, rendered_message)
        url = f"{api_base_url()}/messages/send"
        logger = message.get_message_specific_logger(LOG)
        try:
            response = requests.post(
                url, headers={"Authorization": f"Bearer {ace_settings.ACE_CHANNEL_BRAZE_API_KEY}"}, json=body,
                timeout=ace_settings.ACE_CHANNEL_BRAZE_TIMEOUT or ace_settings.ACE_DEFAULT_API_TIMEOUT,
            )
        except (requests.ConnectionError, requests.Timeout) as error:
            # A read timeout may mean Braze accepted the message; retrying risks a duplicate, which is
            # better for one person than silently losing their mail.
            raise RecoverableChannelDeliveryError(f"Braze could not be reached: {error}", _retry_after_delay())
        except requests.RequestException as error:
            raise FatalChannelDeliveryError(f"Braze request failed: {error}")

        status = response.status_code
        if 200 <= status < 300:
            try:
                answer = response.json()
            except ValueError:
                answer = {}
            dispatch_id = answer.get("dispatch_id") if isinstance(answer, dict) else None
            logger.info("Braze accepted the message (dispatch_id %s).", dispatch_id)
            return {"dispatch_id": dispatch_id}
        text = _braze_message(response)
        if status == 429:
            raise RecoverableChannelDeliveryError(f"Braze rate limit (HTTP 429): {text}", _rate_limit_reset(response))
        if status >= 500:
            raise RecoverableChannelDeliveryError(f"Braze server error (HTTP {status}): {text}", _retry_after_delay())
        error = FatalChannelDeliveryError(f"Braze refused the message (HTTP {status}): {text}")
        error.status_code, error.provider_message = status, text
        raise error
