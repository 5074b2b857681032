"""Fixtures for the campaign tests: a message type with file templates, audiences, campaigns, eager Celery."""

from __future__ import annotations

import pytest

from ace_admin.models import Audience, AudienceMember, Campaign
from tests.factories import AudienceFactory, AudienceMemberFactory, CampaignFactory, MessageTypeFactory


@pytest.fixture
def greeting(db):
    """The message type whose templates are tests/templates/tests/edx_ace/greeting/email/."""
    return MessageTypeFactory(app_label="tests", name="greeting", category="marketing")


def make_audience(size: int, name="Subscribers", domain="example.org") -> Audience:
    """An imported list of ``size`` people p1@domain, p2@domain... (user ids "1", "2"..., first names P1, P2...)."""
    audience = AudienceFactory(name=name)
    AudienceMember.objects.bulk_create(
        AudienceMemberFactory.build(audience=audience, email=f"p{number}@{domain}", lms_user_id=str(number),
                                    context={"first_name": f"P{number}"}) for number in range(1, size + 1))
    return audience


def make_campaign(message_type, audience, **fields) -> Campaign:
    values = {"name": "Greetings", "context": {"code": "C0DE", "site": "example.org"},
              "schedule": Campaign.SCHEDULE_NONE}
    values.update(fields)
    return CampaignFactory(message_type=message_type, audience=audience, **values)


@pytest.fixture
def run_on_commit(django_capture_on_commit_callbacks):
    """Run what tasks queue after commit (eager Celery), as a worker would once the transaction commits."""

    def go(function, *args, **kwargs):
        with django_capture_on_commit_callbacks(execute=True):
            return function(*args, **kwargs)

    return go


@pytest.fixture(autouse=True)
def _eager_errors_propagate(settings):
    """A task that raises fails the test (eager Celery would otherwise keep the error in its result)."""
    from celery import current_app

    current_app.conf.task_eager_propagates = True
    yield
    current_app.conf.task_eager_propagates = False
