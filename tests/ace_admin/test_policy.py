"""DatabasePolicy through ace.send: deny rules, disabled types, opt-outs, frequency caps, and what the log says."""

from __future__ import annotations

import pytest

from ace import ace
from ace.channel import ChannelType
from ace.outcome import DeliveryStatus
from ace_admin.models import DeliveryLog, MessageType
from tests.ace_admin.conftest import make_message, send_email
from tests.factories import MessageTypeFactory, OptOutFactory, PolicyRuleFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def welcome():
    return MessageTypeFactory(app_label="ace_admin_tests", name="welcome", category="marketing")


def log_rows(message):
    return list(DeliveryLog.objects.filter(message_uuid=message.uuid).order_by("channel_type"))


def assert_denied(message, result, expected_policy=None):
    """Nothing delivered, outcome DENIED, one log row saying so (naming ``expected_policy`` when given)."""
    _, email = result
    assert email is None
    assert result[0][0].status is DeliveryStatus.DENIED
    (row,) = log_rows(message)
    assert row.status == "denied"
    if expected_policy is not None:
        assert row.policy == expected_policy
    return row


def test_a_deny_rule_for_the_message_type_stops_email_and_the_log_names_it(welcome):
    rule = PolicyRuleFactory(kind="deny", channel_type="email", message_type=welcome,
                             description="welcome emails paused")
    message = make_message()
    row = assert_denied(message, send_email(message), rule.label)
    assert f"rule #{rule.pk}" in row.policy and "welcome emails paused" in row.policy
    assert send_email(make_message(app_label="tests", name="greeting"))[1] is not None  # another type: sent


def test_a_deny_rule_for_a_category_and_a_disabled_rule(welcome):
    rule = PolicyRuleFactory(kind="deny", category="marketing")
    message = make_message()
    assert_denied(message, send_email(message), rule.label)
    rule.enabled = False
    rule.save()
    assert send_email(make_message())[1] is not None


def test_a_deny_rule_for_push_leaves_email_alone(welcome, file_channel_dir):
    PolicyRuleFactory(kind="deny", channel_type="push", message_type=welcome)
    message = make_message()
    result = ace.send(message)
    assert result.for_channel(ChannelType.EMAIL).status is DeliveryStatus.SENT
    assert result.for_channel(ChannelType.PUSH).status is DeliveryStatus.DENIED
    assert [row.status for row in log_rows(message)] == ["sent", "denied"]
    assert not file_channel_dir.exists() or not list(file_channel_dir.glob("*.json"))


def test_a_disabled_message_type_is_not_sent_and_the_log_says_so(welcome):
    welcome.enabled = False
    welcome.save()
    message = make_message()
    assert_denied(message, send_email(message), "message type disabled")
    MessageType.objects.filter(pk=welcome.pk).update(enabled=True)  # the admin's bulk "enable" action
    assert send_email(make_message())[1] is not None


@pytest.mark.parametrize("opt_out", [
    {"email": "ANN@Example.com", "category": "marketing"},
    {"lms_user_id": "7", "category": "marketing"},
    {"email": "ann@example.com", "message_type": "welcome"},
    {"lms_user_id": "7"},  # neither category nor type: every non-transactional message
])
def test_opt_outs_stop_non_transactional_messages(welcome, opt_out):
    if opt_out.get("message_type"):
        opt_out["message_type"] = welcome
    saved = OptOutFactory(**opt_out)
    message = make_message()
    row = assert_denied(message, send_email(message))
    assert row.policy.startswith(f"opt-out #{saved.pk}")
    # Someone else still receives it.
    assert send_email(make_message(user_id=8, email="bob@example.com"))[1] is not None


def test_an_opt_out_of_another_category_does_not_apply(welcome):
    OptOutFactory(email="ann@example.com", category="course-updates")
    assert send_email(make_message())[1] is not None


def test_transactional_messages_bypass_opt_outs(welcome):
    OptOutFactory(email="ann@example.com", category="marketing")
    assert send_email(make_message(options={"transactional": True}))[1] is not None
    welcome.transactional = True  # or the admin marks the type transactional
    welcome.save()
    assert send_email(make_message())[1] is not None


def test_deny_rules_apply_to_transactional_messages_too(welcome):
    rule = PolicyRuleFactory(kind="deny", message_type=welcome)
    message = make_message(options={"transactional": True})
    assert_denied(message, send_email(message), rule.label)


def test_frequency_cap_counts_sent_non_transactional_messages(welcome):
    cap = PolicyRuleFactory(kind="frequency_cap", max_messages=2, period_seconds=86400,
                            description="two a day")
    assert send_email(make_message())[1] is not None
    assert send_email(make_message(options={"transactional": True}))[1] is not None  # not counted
    assert send_email(make_message())[1] is not None
    third = make_message()
    assert_denied(third, send_email(third), cap.label)
    # Transactional messages and the override bypass the cap; other recipients have their own count.
    assert send_email(make_message(options={"transactional": True}))[1] is not None
    assert send_email(make_message(options={"override_frequency_capping": True}))[1] is not None
    assert send_email(make_message(user_id=8, email="bob@example.com"))[1] is not None


def test_frequency_cap_period_and_scope(welcome):
    PolicyRuleFactory(kind="frequency_cap", max_messages=1, period_seconds=3600, category="marketing")
    assert send_email(make_message())[1] is not None
    # An old delivery is outside the period: move the first one back two hours.
    DeliveryLog.objects.update(created_at=DeliveryLog.objects.get().created_at.replace(year=2000))
    assert send_email(make_message())[1] is not None
    assert send_email(make_message())[1] is None
    # A message outside the cap's category is not capped.
    assert send_email(make_message(app_label="tests", name="greeting"))[1] is not None
