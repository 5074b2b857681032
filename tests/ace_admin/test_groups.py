"""The ACE staff groups: created by migration, repaired by ``ace_groups``, enforced by the admin."""

from io import StringIO

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from django.urls import reverse

from ace_admin.groups import EDITORS, MANAGERS
from ace_admin.models import OptOut, PolicyRule, Template
from tests.factories import ChannelRouteFactory, MessageTypeFactory, StaffFactory, TemplateFactory


def staff_in(group_name, username):
    return StaffFactory(username=username, role=group_name)


@pytest.fixture
def editor_client(client, db):
    client.force_login(staff_in(EDITORS, "eddie"))
    return client


@pytest.fixture
def manager_client(client, db):
    client.force_login(staff_in(MANAGERS, "maria"))
    return client


@pytest.mark.django_db
def test_migration_created_both_groups():
    editors = set(Group.objects.get(name=EDITORS).permissions.values_list("codename", flat=True))
    managers = set(Group.objects.get(name=MANAGERS).permissions.values_list("codename", flat=True))
    assert {"change_template", "add_messagetype", "view_templaterevision", "view_deliverylog"} <= editors
    assert not {"view_channelroute", "change_policyrule", "add_optout", "delete_template"} & editors
    assert editors < managers
    assert {"change_channelroute", "change_policyrule", "add_optout", "delete_messagetype"} <= managers
    assert "change_deliverylog" not in managers  # the log is history: nobody edits it


@pytest.mark.django_db
def test_ace_groups_command_repairs_the_groups():
    editors = Group.objects.get(name=EDITORS)
    editors.permissions.remove(Permission.objects.get(codename="change_template"))
    editors.permissions.add(Permission.objects.get(codename="delete_channelroute"))
    Group.objects.filter(name=MANAGERS).delete()
    call_command("ace_groups", stdout=StringIO())
    codenames = set(editors.permissions.values_list("codename", flat=True))
    assert "change_template" in codenames and "delete_channelroute" not in codenames
    assert Group.objects.get(name=MANAGERS).permissions.filter(codename="change_channelroute").exists()
    call_command("ace_groups", stdout=StringIO())  # idempotent
    assert Group.objects.filter(name__in=[EDITORS, MANAGERS]).count() == 2


@pytest.mark.parametrize("model", ["channelroute", "policyrule", "optout"])
def test_editor_cannot_open_operations_admin(editor_client, model):
    assert editor_client.get(reverse(f"admin:ace_admin_{model}_changelist")).status_code == 403
    assert editor_client.get(reverse(f"admin:ace_admin_{model}_add")).status_code == 403


@pytest.mark.parametrize("model", ["channelroute", "policyrule", "optout"])
def test_manager_can_open_operations_admin(manager_client, model):
    assert manager_client.get(reverse(f"admin:ace_admin_{model}_changelist")).status_code == 200
    assert manager_client.get(reverse(f"admin:ace_admin_{model}_add")).status_code == 200


def test_editor_edits_content_but_cannot_delete_it(editor_client):
    message_type = MessageTypeFactory(app_label="shop", name="receipt", category="account")
    template = TemplateFactory(name="shop/edx_ace/receipt/email/subject.txt", content="Your receipt")
    assert editor_client.get(reverse("admin:ace_admin_messagetype_change", args=[message_type.pk])).status_code == 200
    response = editor_client.post(reverse("admin:ace_admin_template_change", args=[template.pk]), {
        "name": template.name, "language": "", "site": "", "published": "on", "content": "Your receipt, {{ name }}",
        "revisions-TOTAL_FORMS": "0", "revisions-INITIAL_FORMS": "0"})
    assert response.status_code == 302, response.content.decode()[:2000]
    template.refresh_from_db()
    # The edit is a draft: what is sent stays the published text until a manager publishes it.
    assert (template.content, template.draft_content) == ("Your receipt", "Your receipt, {{ name }}")
    assert editor_client.get(reverse("admin:ace_admin_deliverylog_changelist")).status_code == 200
    assert editor_client.post(reverse("admin:ace_admin_template_delete", args=[template.pk]),
                              {"post": "yes"}).status_code == 403
    assert Template.objects.filter(pk=template.pk).exists()


def test_manager_changes_a_route_editor_cannot(manager_client, client):
    route = ChannelRouteFactory(order=5, channel_type="email", channel_name="django_email")
    url = reverse("admin:ace_admin_channelroute_change", args=[route.pk])
    data = {"order": "5", "message_type": "", "category": "", "transactional": "unknown", "channel_type": "email",
            "channel_name": "django_email", "description": "all mail over SMTP"}
    assert manager_client.post(url, data).status_code == 302
    route.refresh_from_db()
    assert route.description == "all mail over SMTP" and not route.enabled  # enabled box left unticked
    client.force_login(staff_in(EDITORS, "eve"))
    assert client.post(url, {**data, "enabled": "on"}).status_code == 403
    route.refresh_from_db()
    assert not route.enabled
    assert PolicyRule.objects.count() == 0 and OptOut.objects.count() == 0
