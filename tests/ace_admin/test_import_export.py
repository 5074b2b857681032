"""Import/export of message types with their templates (JSON, YAML, CSV), templates, and opt-outs from CSV."""

import json

import pytest
import tablib
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from import_export.formats.base_formats import CSV, JSON, YAML

from ace_admin.content.resources import MessageTypeResource, OptOutResource, TemplateResource
from ace_admin.models import MessageType, OptOut, Template, TemplateRevision
from tests.factories import MessageTypeFactory, StaffFactory, SuperuserFactory, TemplateFactory

pytestmark = pytest.mark.django_db

FORMATS = {"json": JSON, "yaml": YAML, "csv": CSV}


@pytest.fixture
def content():
    """Two message types with templates in two languages, as on a staging server."""
    welcome = MessageTypeFactory(app_label="shop", name="welcome", category="account",
                                 description="Sent on sign-up, with \"quotes\", commas, and\nnew lines.",
                                 sample_context={"first_name": "Ada", "items": [1, 2]})
    MessageTypeFactory(app_label="shop", name="promo", category="marketing", enabled=False)
    TemplateFactory(name="shop/edx_ace/welcome/email/subject.txt", content="Welcome {{ first_name }}")
    TemplateFactory(name="shop/edx_ace/welcome/email/subject.txt", language="fr",
                    content="Bienvenue {{ first_name }} — « ça va ? »")
    TemplateFactory(name="shop/edx_ace/welcome/email/body.html",
                    content='{% extends "ace/email/base.html" %}\n{% block content %}<p>Hi, '
                            "{{ first_name }}</p>{% endblock %}\n")
    TemplateFactory(name="ace/email/footer.html", content="<p>Footer</p>")
    return welcome


def snapshot():
    return {
        "types": sorted(MessageType.objects.values_list("app_label", "name", "description", "category", "enabled",
                                                          "sample_context")),
        "templates": sorted(Template.objects.values_list("name", "language", "content", "published",
                                                           "message_type__name")),
        "revisions": TemplateRevision.objects.count(),
    }


def export(resource, fmt):
    return FORMATS[fmt]().export_data(resource.export())


def load(fmt, data):
    return FORMATS[fmt]().create_dataset(data)


@pytest.mark.parametrize("fmt", ["json", "yaml", "csv"])
def test_round_trip_changes_nothing_then_recreates_everything(content, fmt):
    before = snapshot()
    data = export(MessageTypeResource(), fmt)
    result = MessageTypeResource().import_data(load(fmt, data), dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert [row.import_type for row in result.rows] == ["skip", "skip"]
    assert snapshot() == before  # no new revisions either

    # Production: the same file into an empty database recreates the message types and their templates.
    # (An empty database: history protects templates from deletion, so it goes first.)
    TemplateRevision.objects.filter(template__message_type__isnull=False).delete()
    Template.objects.filter(message_type__isnull=False).delete()
    MessageType.objects.all().delete()
    result = MessageTypeResource().import_data(load(fmt, data), dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert [row.import_type for row in result.rows] == ["new", "new"]
    after = snapshot()
    assert after["types"] == before["types"] and after["templates"] == before["templates"]


def test_dry_run_shows_what_will_change_and_saves_nothing(content):
    dataset = load("json", export(MessageTypeResource(), "json"))
    row = dataset.dict[1]
    assert row["name"] == "welcome"
    row["category"] = "onboarding"
    templates = json.loads(row["templates"])
    assert templates[0]["name"].endswith("body.html")
    templates[0]["content"] = "Welcome back, {{ first_name }}"
    row["templates"] = json.dumps(templates)
    dataset = tablib.Dataset(*[list(r.values()) for r in dataset.dict], headers=dataset.headers)
    dataset[1] = [row[h] for h in dataset.headers]
    before = snapshot()
    result = MessageTypeResource().import_data(dataset, dry_run=True)
    assert not result.has_errors() and not result.has_validation_errors()
    assert [r.import_type for r in result.rows] == ["skip", "update"]
    diff = result.rows[1].diff
    assert any("onboarding" in cell for cell in diff) and any("Welcome back" in cell for cell in diff)
    assert snapshot() == before

    result = MessageTypeResource().import_data(dataset, dry_run=False)
    assert not result.has_errors()
    content.refresh_from_db()
    assert content.category == "onboarding"
    body = Template.objects.get(name="shop/edx_ace/welcome/email/body.html")
    assert body.content == "Welcome back, {{ first_name }}" and body.revisions.count() == 2
    assert snapshot()["revisions"] == before["revisions"] + 1  # only the changed template got a new version


def test_invalid_template_rejects_the_whole_import(content):
    dataset = tablib.Dataset(headers=["app_label", "name", "category", "templates"])
    dataset.append(["shop", "fresh", "account", '[{"name": "shop/edx_ace/fresh/email/subject.txt", '
                                                '"content": "Fine {{ x }}"}]'])
    dataset.append(["shop", "welcome", "account", '[{"name": "shop/edx_ace/welcome/email/subject.txt", '
                                                  '"content": "Broken\\n{% if x %}never closed"}]'])
    before = snapshot()
    result = MessageTypeResource().import_data(dataset, dry_run=False)
    assert result.has_validation_errors()
    [invalid] = result.invalid_rows
    assert invalid.number == 2
    message = str(invalid.error_dict)
    assert "Line 2" in message and "endif" in message and "subject.txt" in message
    assert snapshot() == before
    assert not MessageType.objects.filter(name="fresh").exists()  # the valid first row was not saved either


def test_template_resource_rejects_unknown_message_type_and_bad_syntax(content):
    dataset = tablib.Dataset(headers=["name", "language", "site", "message_type", "published", "content"])
    dataset.append(["ace/email/footer.html", "", "", "", "1", "<p>New footer</p>"])
    dataset.append(["nowhere/edx_ace/ghost/email/subject.txt", "", "", "", "1", "Boo"])
    dataset.append(["shop/edx_ace/welcome/email/body.txt", "de", "", "", "1", "{{ name|nosuchfilter }}"])
    before = snapshot()
    result = TemplateResource().import_data(dataset, dry_run=False)
    assert result.has_validation_errors()
    problems = {row.number: str(row.error_dict) for row in result.invalid_rows}
    assert set(problems) == {2, 3}
    assert "unknown message type 'nowhere.ghost'" in problems[2]
    assert "nosuchfilter" in problems[3] and "Line 1" in problems[3]
    assert snapshot() == before
    assert Template.objects.get(name="ace/email/footer.html").content == "<p>Footer</p>"


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_template_resource_round_trip(content, fmt):
    before = snapshot()
    data = export(TemplateResource(), fmt)
    result = TemplateResource().import_data(load(fmt, data), dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert {row.import_type for row in result.rows} == {"skip"}
    assert snapshot() == before


# -- through the admin ---------------------------------------------------------------------------------


@pytest.fixture
def staff(client, db):
    client.force_login(SuperuserFactory(username="boss"))
    return client


def upload(client, model, data, fmt, name):
    file = SimpleUploadedFile(name, data.encode() if isinstance(data, str) else data)
    format_index = [f.__name__.lower() for f in (JSON, YAML, CSV)].index(fmt) if model != "optout" else 0
    return client.post(reverse(f"admin:ace_admin_{model}_import"),
                       {"import_file": file, "format": str(format_index), "resource": "0"})


def test_admin_import_preview_then_confirm(staff, content):
    dataset = load("yaml", export(MessageTypeResource(), "yaml"))
    rows = dataset.dict
    rows[1]["description"] = "Changed on staging"
    changed = tablib.Dataset(*[[r[h] for h in dataset.headers] for r in rows], headers=dataset.headers)
    before = snapshot()
    response = upload(staff, "messagetype", YAML().export_data(changed), "yaml", "types.yaml")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Changed on staging" in page and "Some rows failed" not in page
    assert [row.import_type for row in response.context["result"].rows] == ["skip", "update"]
    assert snapshot() == before  # the preview is a dry run
    confirm = response.context["confirm_form"]
    response = staff.post(reverse("admin:ace_admin_messagetype_process_import"), confirm.initial)
    assert response.status_code == 302
    content.refresh_from_db()
    assert content.description == "Changed on staging"
    assert snapshot()["revisions"] == before["revisions"]


def test_admin_import_rejects_invalid_file_with_row_and_reason(staff, content):
    csv = ("app_label,name,category,templates\n"
           "shop,fresh,account,[]\n"
           'shop,welcome,account,"[{""name"": ""shop/edx_ace/welcome/email/body.html"", '
           '""content"": ""<p>{% block content %}</p>""}]"\n')
    before = snapshot()
    response = upload(staff, "messagetype", csv, "csv", "types.csv")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Some rows failed to validate" in page and "endblock" in page
    assert [row.number for row in response.context["result"].invalid_rows] == [2]
    assert "confirm_form" not in response.context  # nothing to confirm: the file must be fixed first
    assert snapshot() == before


def test_admin_template_import_rejects_unknown_message_type(staff, content):
    csv = "name,language,site,message_type,published,content\nghost/edx_ace/boo/email/subject.txt,,,,1,Boo\n"
    response = upload(staff, "template", csv, "csv", "templates.csv")
    page = response.content.decode()
    assert "unknown message type" in page and "ghost.boo" in page
    assert [row.number for row in response.context["result"].invalid_rows] == [1]
    assert not Template.objects.filter(name__startswith="ghost/").exists()


def test_opt_outs_from_csv(staff, content):
    csv = "email,category\nAda@Example.org ,marketing\nnot-an-email,marketing\n"
    response = upload(staff, "optout", csv, "csv", "optouts.csv")
    page = response.content.decode()
    assert "Some rows failed to validate" in page and "Enter a valid email address." in page
    assert [row.number for row in response.context["result"].invalid_rows] == [2]
    assert OptOut.objects.count() == 0

    good = "email,category,message_type\nAda@Example.org ,marketing,\ngrace@example.org,,shop.welcome\n"
    result = OptOutResource().import_data(CSV().create_dataset(good), dry_run=False)
    assert not result.has_errors() and not result.has_validation_errors()
    assert sorted(OptOut.objects.values_list("email", "category", "message_name", "source")) == [
        ("ada@example.org", "marketing", "", "import"), ("grace@example.org", "", "welcome", "import")]
    result = OptOutResource().import_data(CSV().create_dataset(good), dry_run=False)
    assert OptOut.objects.count() == 2  # importing the same list again adds nothing
    only_emails = "email\nlin@example.org\n"
    assert not OptOutResource().import_data(CSV().create_dataset(only_emails), dry_run=False).has_validation_errors()
    assert OptOut.objects.filter(email="lin@example.org", category="", message_name="").exists()


def test_import_needs_the_change_permission(client, content):
    viewer = StaffFactory(username="vic", permissions=["view_messagetype", "view_template"])
    client.force_login(viewer)
    assert client.get(reverse("admin:ace_admin_messagetype_export")).status_code == 200
    csv = "app_label,name,category,templates\nshop,sneaky,account,[]\n"
    assert upload(client, "messagetype", csv, "csv", "types.csv").status_code == 403
    assert not MessageType.objects.filter(name="sneaky").exists()


@pytest.mark.parametrize("fmt", ["json", "yaml", "csv"])
def test_admin_export_then_admin_import_changes_nothing(staff, content, fmt):
    fields = ["app_label", "name", "description", "category", "transactional", "enabled", "from_address",
              "reply_to", "sample_context", "templates"]
    index = ["json", "yaml", "csv"].index(fmt)
    response = staff.post(reverse("admin:ace_admin_messagetype_export"), {
        "resource": "0", "format": str(index), **{f"messagetyperesource_{f}": "on" for f in fields}})
    assert response.status_code == 200
    exported = response.content
    assert b"Bienvenue" in exported and b"shop/edx_ace/welcome/email/body.html" in exported
    before = snapshot()
    response = upload(staff, "messagetype", exported, fmt, f"types.{fmt}")
    assert [row.import_type for row in response.context["result"].rows] == ["skip", "skip"]
    response = staff.post(reverse("admin:ace_admin_messagetype_process_import"),
                          response.context["confirm_form"].initial)
    assert response.status_code == 302
    assert snapshot() == before
