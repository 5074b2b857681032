"""``manage.py ace_sync`` registers message types from code and files; files show read-only until overridden."""

from io import StringIO

import pytest
from django.core import mail
from django.core.management import call_command
from django.urls import reverse

from ace import ace
from ace.channel import ChannelType
from ace.message import Message
from ace.recipient import Recipient
from ace_admin.content import discovery
from ace_admin.models import MessageType, Template
from tests.factories import SuperuserFactory

pytestmark = pytest.mark.django_db


def sync():
    out = StringIO()
    call_command("ace_sync", stdout=out)
    return out.getvalue()


def test_registers_message_type_classes_and_template_files():
    output = sync()
    registered = {(mt.app_label, mt.name): mt for mt in MessageType.objects.all()}
    # The demo app's MessageType subclasses (demo/messages.py), with their docstring as description.
    reset = registered[("demo", "password_reset")]
    assert reset.source == MessageType.SOURCE_CODE
    assert reset.description == "A transactional email with a link to choose a new password."
    assert ("demo", "course_start_reminder") in registered and ("demo", "newsletter") in registered
    # Message types that only exist as template files (tests/templates/tests/edx_ace/greeting/...).
    assert registered[("tests", "greeting")].source == MessageType.SOURCE_CODE
    assert "registered demo.password_reset" in output


def test_is_idempotent_and_keeps_edits():
    sync()
    count = MessageType.objects.count()
    MessageType.objects.filter(app_label="demo", name="newsletter").update(description="Edited by marketing",
                                                                          enabled=False)
    output = sync()
    assert MessageType.objects.count() == count
    newsletter = MessageType.objects.get(app_label="demo", name="newsletter")
    assert (newsletter.description, newsletter.enabled) == ("Edited by marketing", False)
    assert "(0 new)" in output


def test_finds_classes_defined_in_installed_apps_only():
    classes = discovery.message_type_classes()
    names = {discovery.message_type_identity(cls) for cls in classes}
    assert {("demo", "password_reset"), ("demo", "newsletter")} <= names
    assert all(cls.__module__.split(".")[0] in {"demo", "tests", "ace_admin"} for cls in classes)


def test_file_templates_follow_the_documented_scheme():
    names = {t.name for t in discovery.file_templates()}
    assert "demo/edx_ace/newsletter/email/from_name.txt" in names
    assert "tests/edx_ace/greeting/push/title.txt" in names
    assert "ace/email/base.html" not in names  # layouts are not message templates


@pytest.fixture
def staff(client):
    client.force_login(SuperuserFactory(username="boss"))
    return client


def test_file_shown_read_only_until_overridden_in_database(staff, django_capture_on_commit_callbacks):
    sync()
    greeting = MessageType.objects.get(app_label="tests", name="greeting")
    change_url = reverse("admin:ace_admin_messagetype_change", args=[greeting.pk])
    page = staff.get(change_url).content.decode()
    assert "Templates on disk (read-only)" in page
    assert "tests/edx_ace/greeting/email/subject.txt" in page and "welcome to {{ site }}" in page
    assert "Override in database" in page

    name = "tests/edx_ace/greeting/email/subject.txt"
    with django_capture_on_commit_callbacks(execute=True):
        response = staff.post(reverse("admin:ace_admin_messagetype_override", args=[greeting.pk]),
                              {"name": name, "language": ""})
    template = Template.objects.get(name=name)
    assert response.status_code == 302 and response["Location"] == reverse("admin:ace_admin_template_change",
                                                                           args=[template.pk])
    on_disk = discovery.file_template(name).read()
    assert template.content == on_disk and template.message_type == greeting
    assert template.revisions.get().comment == "copied from subject.txt on disk"
    assert "Overridden in the database" in staff.get(change_url).content.decode()
    template_page = staff.get(reverse("admin:ace_admin_template_change", args=[template.pk])).content.decode()
    assert "The file this template replaces" in template_page and "welcome to {{ site }}" in template_page

    with django_capture_on_commit_callbacks(execute=True):
        staff.post(reverse("admin:ace_admin_template_change", args=[template.pk]), {
            "name": name, "language": "", "site": "", "_publish": "1", "content": "Edited: hi {{ first_name }}",
            "revisions-TOTAL_FORMS": "0", "revisions-INITIAL_FORMS": "0"})
    ace.send(Message(app_label="tests", name="greeting", recipient=Recipient(lms_user_id=1, email_address="a@b.org"),
                     context={"first_name": "Ada", "code": "1", "site": "x"}), limit_to_channels=[ChannelType.EMAIL])
    assert mail.outbox[-1].subject == "Edited: hi Ada"

    # A second click does not create a duplicate: it opens the existing override.
    response = staff.post(reverse("admin:ace_admin_messagetype_override", args=[greeting.pk]),
                          {"name": name, "language": ""})
    assert response["Location"].endswith(f"/{template.pk}/change/")
    assert Template.objects.filter(name=name).count() == 1


def test_override_refuses_files_of_other_message_types(staff):
    sync()
    greeting = MessageType.objects.get(app_label="tests", name="greeting")
    response = staff.post(reverse("admin:ace_admin_messagetype_override", args=[greeting.pk]),
                          {"name": "demo/edx_ace/newsletter/email/subject.txt", "language": ""}, follow=True)
    assert "belongs to" in response.content.decode()
    assert Template.objects.count() == 0


def test_identity_of_a_class_that_needs_arguments():
    from ace.message import MessageType as EngineMessageType

    class NeedsArgs(EngineMessageType):
        NAME = "needs_args"

        def __init__(self, course_id, *args, **kwargs):
            super().__init__(*args, **kwargs)

    NeedsArgs.__module__ = "elsewhere.messages"  # outside installed apps: later syncs ignore it
    assert discovery.message_type_identity(NeedsArgs) == ("elsewhere", "needs_args")
    assert NeedsArgs not in discovery.message_type_classes()
