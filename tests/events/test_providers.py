"""Events from email services: each ESP's documented webhook payload posted to the real anymail endpoint
(Django test client), with anymail's authentication (basic auth, Mailgun's signature), recorded against the
delivery-log row of the message sent through anymail (its message id, or ACE's id in the metadata)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time

import pytest

from ace_admin.models import DeliveryEvent, EventType, OptOut, Suppression

pytestmark = pytest.mark.django_db

SECRET = "hooks:s3cret"
AUTH = {"HTTP_AUTHORIZATION": "Basic " + base64.b64encode(SECRET.encode()).decode()}
MAILGUN_KEY = "mailgun-signing-key"


@pytest.fixture
def esp(settings, sent):
    """Send through django-anymail's test backend (it reports a message id, as a real ESP backend does)."""
    settings.EMAIL_BACKEND = "anymail.backends.test.EmailBackend"
    settings.ANYMAIL = {"WEBHOOK_SECRET": SECRET, "MAILGUN_WEBHOOK_SIGNING_KEY": MAILGUN_KEY}
    return sent


def _post(client, esp_name, payload, **extra):
    return client.post(f"/ace/events/esp/{esp_name}/tracking/", data=json.dumps(payload),
                       content_type="application/json", **{**AUTH, **extra})


def _mailgun(event_data, key=MAILGUN_KEY):
    timestamp, token = str(int(time.time())), hashlib.sha256(str(time.time()).encode()).hexdigest()[:50]
    signature = hmac.new(key.encode(), f"{timestamp}{token}".encode(), hashlib.sha256).hexdigest()
    return {"signature": {"timestamp": timestamp, "token": token, "signature": signature}, "event-data": event_data}


def test_the_send_records_the_providers_message_id(esp):
    row, email = esp()
    assert row.provider_message_id == str(email.anymail_status.message_id)


def test_mailgun_permanent_failure_suppresses_and_a_bad_signature_is_refused(client, esp):
    row, _ = esp(email="gone@example.org")
    event_data = {"event": "failed", "severity": "permanent", "reason": "bounce", "timestamp": time.time(),
                  "id": "mg-ev-1", "recipient": "gone@example.org", "log-level": "error",
                  "message": {"headers": {"message-id": "20260101.abc@mg.example.org"}},
                  "user-variables": {"ace_message_id": str(row.message_uuid)},
                  "delivery-status": {"code": 550, "message": "5.1.1 The email account does not exist",
                                      "description": "No such user"}}
    assert _post(client, "mailgun", _mailgun(event_data, key="wrong-key")).status_code == 400
    assert not DeliveryEvent.objects.exists()
    assert _post(client, "mailgun", _mailgun(event_data)).status_code == 200
    event = DeliveryEvent.objects.get()
    assert (event.delivery, event.event_type, event.provider) == (row, EventType.BOUNCED_HARD, "mailgun")
    assert "5.1.1" in event.description and event.raw["event-data"]["id"] == "mg-ev-1"
    suppression = Suppression.objects.get()
    assert suppression.reason == Suppression.REASON_BOUNCE and suppression.event == event


def test_postmark_needs_the_webhook_secret_and_maps_bounces_and_opens(client, esp):
    row, _ = esp(email="pm@example.org")
    bounce = {"RecordType": "Bounce", "ID": 4323372036854775807, "Type": "SoftBounce", "TypeCode": 4096,
              "MessageID": row.provider_message_id, "Email": "pm@example.org", "BouncedAt": "2026-12-01T10:00:00Z",
              "Description": "The server was unable to deliver your message (mailbox full).",
              "Details": "smtp;552 5.2.2 Mailbox full", "Inactive": False, "CanActivate": True}
    assert _post(client, "postmark", bounce, HTTP_AUTHORIZATION="").status_code in (400, 401, 403)
    assert _post(client, "postmark", bounce).status_code == 200
    opened = {"RecordType": "Open", "MessageID": row.provider_message_id, "Recipient": "pm@example.org",
              "ReceivedAt": "2026-12-01T11:00:00Z", "FirstOpen": True, "Platform": "Desktop",
              "UserAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/120 Safari/537.36"}
    assert _post(client, "postmark", opened).status_code == 200
    types = dict(DeliveryEvent.objects.values_list("event_type", "delivery_id"))
    assert types == {EventType.BOUNCED_SOFT: row.pk, EventType.OPENED: row.pk}
    assert not Suppression.objects.exists()  # one soft bounce suppresses nothing


def test_amazon_ses_complaint_through_sns_suppresses_with_the_complaint_as_reason(client, esp):
    row, _ = esp(email="ses@example.org")
    ses_event = {"eventType": "Complaint",
                 "mail": {"timestamp": "2026-12-01T10:00:00.000Z", "messageId": row.provider_message_id,
                          "source": "no-reply@example.org", "destination": ["ses@example.org"], "headers": []},
                 "complaint": {"complainedRecipients": [{"emailAddress": "ses@example.org"}],
                               "timestamp": "2026-12-01T12:00:00.000Z", "feedbackId": "0100-feedback",
                               "complaintFeedbackType": "abuse", "userAgent": "Yahoo!-Mail-Feedback/2.0"}}
    sns = {"Type": "Notification", "MessageId": "sns-1", "TopicArn": "arn:aws:sns:us-east-1:123456789012:ses-events",
           "Message": json.dumps(ses_event), "Timestamp": "2026-12-01T12:00:01.000Z", "SignatureVersion": "1",
           "Signature": "EXAMPLE", "SigningCertURL": "https://sns.example/cert.pem"}
    response = _post(client, "amazon_ses", sns, HTTP_X_AMZ_SNS_MESSAGE_TYPE="Notification",
                     HTTP_X_AMZ_SNS_MESSAGE_ID="sns-1")
    assert response.status_code == 200
    event = DeliveryEvent.objects.get()
    assert (event.delivery, event.event_type) == (row, EventType.COMPLAINED)
    suppression = Suppression.objects.get()
    assert (suppression.reason, suppression.event, suppression.email) == (
        Suppression.REASON_COMPLAINT, event, "ses@example.org")


def test_sendgrid_batch_of_events_with_clicks_per_link(client, esp):
    row, _ = esp(email="sg@example.org")
    common = {"email": "sg@example.org", "anymail_id": row.provider_message_id, "timestamp": int(time.time())}
    payload = [{**common, "event": "delivered", "sg_event_id": "sg-1", "response": "250 OK"},
               {**common, "event": "click", "sg_event_id": "sg-2", "url": "https://shop.example.org/spring",
                "useragent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15"},
               {**common, "event": "click", "sg_event_id": "sg-2", "url": "https://shop.example.org/spring",
                "useragent": "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) AppleWebKit/605.1.15 Safari/605.1.15"}]
    assert _post(client, "sendgrid", payload).status_code == 200
    clicks = DeliveryEvent.objects.filter(event_type=EventType.CLICKED)
    assert clicks.count() == 1 and clicks.get().link.url == "https://shop.example.org/spring"
    assert DeliveryEvent.objects.filter(event_type=EventType.DELIVERED, delivery=row).exists()


def test_sparkpost_hard_bounce_class(client, esp):
    row, _ = esp(email="sp@example.org")
    payload = [{"msys": {"message_event": {
        "type": "bounce", "bounce_class": "10", "event_id": "sp-1", "transmission_id": row.provider_message_id,
        "raw_rcpt_to": "sp@example.org", "timestamp": str(int(time.time())), "reason": "550 5.1.1 unknown user",
        "raw_reason": "550 5.1.1 <sp@example.org>: Recipient address rejected: User unknown"}}}]
    assert _post(client, "sparkpost", payload).status_code == 200
    assert DeliveryEvent.objects.get().event_type == EventType.BOUNCED_HARD
    assert Suppression.objects.get().email == "sp@example.org"


def test_brevo_soft_bounce_and_mailjet_unsubscribe_records_an_opt_out(client, esp):
    row, _ = esp(email="bv@example.org")
    brevo = {"event": "soft_bounce", "email": "bv@example.org", "id": 1, "message-id": row.provider_message_id,
             "ts_epoch": int(time.time() * 1000), "reason": "mailbox full"}
    assert _post(client, "brevo", brevo).status_code == 200
    assert DeliveryEvent.objects.get().event_type == EventType.BOUNCED_SOFT
    row2, _ = esp(email="mj@example.org")
    mailjet = [{"event": "unsub", "time": int(time.time()), "MessageID": int(row2.provider_message_id),
                "email": "mj@example.org", "mj_campaign_id": 0, "mj_contact_id": 7, "customcampaign": "",
                "mj_list_id": 1, "ip": "127.0.0.1", "geo": "FR", "agent": "Mozilla/5.0 (Windows NT 10.0)"}]
    assert _post(client, "mailjet", mailjet).status_code == 200
    event = DeliveryEvent.objects.get(event_type=EventType.UNSUBSCRIBED)
    assert event.delivery == row2
    opt_out = OptOut.objects.get()
    assert (opt_out.email, opt_out.source, opt_out.event, opt_out.category) == ("mj@example.org", "provider", event, "")
