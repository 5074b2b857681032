"""The push_notification channel (edx-ace 1.15's) over django-push-notifications and Firebase, against a fake
of the FCM HTTP v1 API at the transport level: the Firebase app's HTTP session sends its
``POST /v1/projects/{project}/messages:send`` requests to :class:`FakeFcm`, which answers with the documented
response shapes (a message name, or an error whose details carry the FCM error code)."""

from __future__ import annotations

import json
import threading
import uuid

import firebase_admin
import pytest
import requests
from django.contrib.auth import get_user_model
from firebase_admin import credentials, messaging
from google.auth.credentials import AnonymousCredentials
from push_notifications.models import GCMDevice
from push_notifications.settings import PUSH_NOTIFICATIONS_SETTINGS

from ace import send
from ace.channel import ChannelType, channels
from ace.channel.push_notification import PushNotificationChannel
from ace.outcome import DeliveryStatus
from ace.recipient import Recipient
from tests.ace.helpers import make_message

pytestmark = pytest.mark.django_db

PROJECT = "ace-test-project"


class _NoGoogleAccount(credentials.Base):
    """A Firebase credential that signs nothing: the fake FCM needs no OAuth token."""

    def get_credential(self):
        return AnonymousCredentials()


class FakeFcm(requests.adapters.BaseAdapter):
    """The FCM HTTP v1 ``messages:send`` endpoint, as a requests transport adapter.

    Tokens in ``unregistered`` get FCM's reply for an app instance that is gone (404 NOT_FOUND with the
    ``UNREGISTERED`` error code); ``unavailable`` tokens a 503 UNAVAILABLE; every other token is accepted.
    """

    def __init__(self, unregistered=(), unavailable=()):
        super().__init__()
        self.unregistered, self.unavailable = set(unregistered), set(unavailable)
        self.requests: list[dict] = []
        self._lock = threading.Lock()

    def send(self, request, **kwargs):
        assert request.method == "POST"
        assert request.url == f"https://fcm.googleapis.com/v1/projects/{PROJECT}/messages:send"
        body = json.loads(request.body)
        with self._lock:
            self.requests.append(body)
        token = body["message"]["token"]
        if token in self.unregistered:
            return self._reply(request, 404, {"error": {
                "code": 404, "message": "Requested entity was not found.", "status": "NOT_FOUND",
                "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                             "errorCode": "UNREGISTERED"}]}})
        if token in self.unavailable:
            return self._reply(request, 503, {"error": {
                "code": 503, "message": "The service is currently unavailable.", "status": "UNAVAILABLE",
                "details": [{"@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError",
                             "errorCode": "UNAVAILABLE"}]}})
        return self._reply(request, 200, {"name": f"projects/{PROJECT}/messages/{uuid.uuid4().int}"})

    @staticmethod
    def _reply(request, status, payload):
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(payload).encode()
        response.headers["Content-Type"] = "application/json; charset=UTF-8"
        response.encoding = "utf-8"
        response.url = request.url
        response.request = request
        return response

    def close(self):
        pass

    def sent_to(self) -> list[str]:
        return sorted(body["message"]["token"] for body in self.requests)


@pytest.fixture
def fcm(monkeypatch, settings):
    """A Firebase app for the ``ace-test`` FCM application whose HTTP transport is a FakeFcm."""
    app = firebase_admin.initialize_app(_NoGoogleAccount(), options={"projectId": PROJECT},
                                        name=f"ace-test-{uuid.uuid4()}")
    fake = FakeFcm()
    # The transport of the app's messaging client: every request to FCM goes to the fake.
    messaging._get_messaging_service(app)._client.session.mount("https://fcm.googleapis.com", fake)
    monkeypatch.setitem(PUSH_NOTIFICATIONS_SETTINGS["APPLICATIONS"]["ace-test"], "FIREBASE_APP", app)
    settings.ACE_ENABLED_CHANNELS = ["django_email", "push_notification"]
    settings.ACE_CHANNEL_DEFAULT_PUSH = "push_notification"
    yield fake
    firebase_admin.delete_app(app)


@pytest.fixture
def learner():
    user = get_user_model().objects.create(username="ann", email="ann@example.com")
    return user


def devices(user, *tokens):
    return [GCMDevice.objects.create(user=user, registration_id=token, cloud_message_type="FCM", active=True)
            for token in tokens]


def push_message(user, **context):
    message = make_message(name="pushonly", context={"push_notification_extra_context": context} if context else None)
    message.recipient = Recipient(user.pk, "ann@example.com")
    return message


def test_channel_is_the_push_notification_entry_point(fcm):
    assert isinstance(channels().get_channel_by_name(ChannelType.PUSH, "push_notification"), PushNotificationChannel)


def test_every_active_device_gets_the_rendered_notification(fcm, learner):
    devices(learner, "phone-token", "tablet-token")
    GCMDevice.objects.create(user=learner, registration_id="old-token", cloud_message_type="FCM", active=False)

    [outcome] = send(push_message(learner, course_id="course-v1:X+Y+Z"), limit_to_channels=[ChannelType.PUSH])

    assert (outcome.status, outcome.channel_name) == (DeliveryStatus.SENT, "push_notification")
    assert fcm.sent_to() == ["phone-token", "tablet-token"]
    sent = fcm.requests[0]["message"]
    assert sent["android"]["notification"] == {"title": "Push for Ann", "body": "Push body Ann"}
    assert sent["data"] == {"course_id": "course-v1:X+Y+Z"}
    assert sent["apns"]["payload"]["aps"] == {"alert": {"title": "Push for Ann", "body": "Push body Ann"},
                                              "sound": "default"}
    assert sent["apns"]["headers"] == {"apns-priority": "5", "apns-push-type": "alert"}


def test_unregistered_token_deactivates_the_device_and_the_others_still_get_it(fcm, learner):
    stale, current = devices(learner, "stale-token", "current-token")
    fcm.unregistered.add("stale-token")

    [outcome] = send(push_message(learner), limit_to_channels=[ChannelType.PUSH])

    assert outcome.status is DeliveryStatus.SENT
    assert fcm.sent_to() == ["current-token", "stale-token"]
    stale.refresh_from_db()
    current.refresh_from_db()
    assert (stale.active, current.active) == (False, True)
    assert PushNotificationChannel.get_user_device_tokens(learner.pk) == ["current-token"]


def test_only_unregistered_devices_fails_and_deactivates_them(fcm, learner):
    [stale] = devices(learner, "stale-token")
    fcm.unregistered.add("stale-token")

    [outcome] = send(push_message(learner), limit_to_channels=[ChannelType.PUSH])

    assert outcome.status is DeliveryStatus.FAILED
    stale.refresh_from_db()
    assert stale.active is False
    assert send(push_message(learner), limit_to_channels=[ChannelType.PUSH])[0].status is DeliveryStatus.SENT
    assert fcm.sent_to() == ["stale-token"]  # a deactivated device is not asked again


def test_fcm_unavailable_is_retried(fcm, learner, settings):
    devices(learner, "busy-token")
    fcm.unavailable.add("busy-token")
    settings.ACE_DELIVERY_MAX_ATTEMPTS = 2

    [outcome] = send(push_message(learner), limit_to_channels=[ChannelType.PUSH])

    assert (outcome.status, outcome.attempts) == (DeliveryStatus.FAILED, 2)
    assert fcm.sent_to() == ["busy-token", "busy-token"]


def test_recipient_without_devices_is_skipped(fcm, learner):
    [outcome] = send(push_message(learner), limit_to_channels=[ChannelType.PUSH])
    assert outcome.status is DeliveryStatus.SENT  # nothing to do, as in edx-ace
    assert fcm.requests == []


def test_push_notifications_views_are_importable_under_the_edx_ace_name():
    from edx_ace.push_notifications.views import GCMDeviceViewSet

    assert GCMDeviceViewSet.queryset.model is GCMDevice
