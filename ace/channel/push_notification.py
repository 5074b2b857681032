"""A push channel that sends through Firebase Cloud Messaging with django-push-notifications (edx-ace 1.15's).

Sample settings::

    INSTALLED_APPS += ["push_notifications"]
    PUSH_NOTIFICATIONS_SETTINGS = {
        "CONFIG": "push_notifications.conf.AppConfig",
        "APPLICATIONS": {"my-app": {"PLATFORM": "FCM", "FIREBASE_APP": firebase_admin.initialize_app(...)}},
    }
    FCM_APP_NAME = "my-app"
    ACE_ENABLED_CHANNELS = ["django_email", "push_notification"]
    ACE_CHANNEL_DEFAULT_PUSH = "push_notification"

A recipient's devices are the active FCM ``GCMDevice`` rows of their ``lms_user_id``; each gets one FCM
HTTP v1 ``messages:send`` request with the rendered title and body (compressed to one line) plus
``context["push_notification_extra_context"]``, and an APNs alert for iOS. A device FCM answers
``UNREGISTERED`` (or a sender mismatch, or an invalid token) for is deactivated by django-push-notifications.
A recipient without devices is skipped, as in edx-ace.
"""

from __future__ import annotations

import logging
import re
import sys

from django.conf import settings
from firebase_admin import exceptions as firebase_exceptions
from firebase_admin.messaging import APNSConfig, APNSPayload, Aps, ApsAlert
from push_notifications.gcm import dict_to_fcm_message, send_message

from ace.channel import Channel, ChannelType
from ace.errors import FatalChannelDeliveryError, RecoverableChannelDeliveryError
from ace.utils.date import get_current_time

LOG = logging.getLogger(__name__)


def __getattr__(name):
    # ``GCMDevice`` (a module attribute, as in edx-ace) is imported on first use, so that this module imports
    # in a project without the push_notifications app (the channel is then simply not configured).
    if name == "GCMDevice":
        from push_notifications.models import GCMDevice

        return GCMDevice
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


APNS_DEFAULT_PRIORITY = "5"
APNS_DEFAULT_PUSH_TYPE = "alert"

#: FCM errors worth trying again later (the service, not the device, had a problem).
_TRANSIENT = (firebase_exceptions.UnavailableError, firebase_exceptions.InternalError,
              firebase_exceptions.DeadlineExceededError, firebase_exceptions.ResourceExhaustedError)


class PushNotificationChannel(Channel):
    """Sends each rendered push notification to every active FCM device of the recipient."""

    channel_type = ChannelType.PUSH

    @classmethod
    def enabled(cls) -> bool:
        """True when ``PUSH_NOTIFICATIONS_SETTINGS`` is configured."""
        return bool(getattr(settings, "PUSH_NOTIFICATIONS_SETTINGS", None))

    def deliver(self, message, rendered_message) -> dict | None:
        user_id = message.recipient.lms_user_id
        tokens = self.get_user_device_tokens(user_id)
        if not tokens:
            LOG.info("Recipient with ID %s has no push token. Skipping push notification.", user_id)
            return None
        failures = []
        for token in tokens:
            error = self._first_error(self.send_message(message, token, rendered_message))
            if error is not None:
                failures.append(error)
        if failures and len(failures) == len(tokens):
            # No device got it. Devices FCM no longer knows were deactivated; a service error is worth a retry.
            if any(isinstance(error, _TRANSIENT) for error in failures):
                raise RecoverableChannelDeliveryError(f"FCM could not deliver: {failures[0]}", get_current_time())
            raise FatalChannelDeliveryError(f"FCM refused the notification for every device: {failures[0]}")
        return {"devices": len(tokens) - len(failures), "device_failures": len(failures)}

    @staticmethod
    def _first_error(batch_response):
        for response in getattr(batch_response, "responses", None) or []:
            if getattr(response, "exception", None) is not None:
                return response.exception
        return None

    def send_message(self, message, token: str, rendered_message):
        """Send one push notification to the device with ``token``; returns FCM's batch response."""
        notification_data = {
            "title": self.compress_spaces(rendered_message.title),
            "body": self.compress_spaces(rendered_message.body),
            "notification_key": token,
            **message.context.get("push_notification_extra_context", {}),
        }
        fcm_message = dict_to_fcm_message(notification_data)
        # dict_to_fcm_message fills in Android's configuration only; iOS devices need the APNs alert.
        fcm_message.apns = self.collect_apns_config(notification_data)
        try:
            return send_message(token, fcm_message, getattr(settings, "FCM_APP_NAME", None))
        except Exception as error:
            LOG.exception("Failed to send push notification to %s", token)
            raise FatalChannelDeliveryError(f"Failed to send push notification to {token}") from error

    @staticmethod
    def collect_apns_config(notification_data: dict) -> APNSConfig:
        """The APNs part of the FCM message: an alert with the title and body, default sound, priority 5."""
        alert = ApsAlert(title=notification_data["title"], body=notification_data["body"])
        return APNSConfig(
            headers={"apns-priority": APNS_DEFAULT_PRIORITY, "apns-push-type": APNS_DEFAULT_PUSH_TYPE},
            payload=APNSPayload(Aps(alert=alert, sound="default")),
        )

    @staticmethod
    def get_user_device_tokens(user_id) -> list[str]:
        """The registration tokens of the user's active FCM devices."""
        device_model = sys.modules[__name__].GCMDevice  # honours a patched module attribute
        return list(device_model.objects.filter(user_id=user_id, cloud_message_type="FCM", active=True)
                    .values_list("registration_id", flat=True))

    @staticmethod
    def compress_spaces(text: str) -> str:
        """``text`` on one line: whitespace runs, newlines included, become one space."""
        return re.sub(r"\s+", " ", text or "").strip()
