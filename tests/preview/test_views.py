"""The preview pages through Django's test client: pickers, unsaved edits, frame isolation, test sends, CSP."""

from __future__ import annotations

import json
import re

import pytest
from django.urls import reverse

from ace_admin.models import DeliveryLog, PolicyRule, Template
from ace_admin.preview.csp import ADMIN_POLICY, RENDERED_EMAIL_POLICY
from tests.factories import OptOutFactory, SuperuserFactory, TemplateFactory, UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, django_user_model):
    user = SuperuserFactory(username="staff", email="staff@example.org")
    client.force_login(user)
    return user


def preview_url(message_type):
    return reverse("admin:ace_admin_messagetype_preview", args=[message_type.pk])


def frame_html(client, response) -> str:
    src = re.search(r'<iframe id="ace-preview-frame"[^>]*\ssrc="([^"]+)"', response.content.decode())[1]
    frame = client.get(src)
    assert frame.status_code == 200
    assert frame["Content-Security-Policy"] == RENDERED_EMAIL_POLICY
    return frame.content.decode()


def test_get_renders_sample_data_with_csp(client, staff, demo):
    response = client.get(preview_url(demo["password_reset"]))
    assert response.status_code == 200
    assert response["Content-Security-Policy"] == ADMIN_POLICY
    page = response.content.decode()
    assert "Reset your Open Learning password" in page
    assert "<script>" not in page and " on" + "click=" not in page
    assert "Hello Ada," in frame_html(client, response)
    assert re.search(r"<iframe[^>]*\ssandbox[\s>]", page)
    assert 'sandbox="allow-scripts' not in page


def test_post_with_pickers_and_edited_sample_data(client, staff, demo):
    response = client.post(preview_url(demo["password_reset"]), {
        "language": "fr", "site": "", "channel_type": "email", "channel_name": "",
        "context": json.dumps({"platform_name": "Plateforme", "first_name": "Zoé"}), "overlay": "",
    })
    page = response.content.decode()
    assert "Plateforme" in page
    assert "database, version 1 (fr)" in page
    assert "{{ reset_url }}" in page  # warned: the edited sample data lacks it
    assert "Zoé" in frame_html(client, response)


def test_invalid_json_is_a_form_error_not_a_crash(client, staff, demo):
    response = client.post(preview_url(demo["newsletter"]), {"channel_type": "email", "context": "{oops"})
    assert response.status_code == 200
    assert "not valid JSON" in response.content.decode()


def test_template_editor_preview_shows_unsaved_content_and_saves_nothing(client, staff, demo):
    template = Template.objects.get(name="demo/edx_ace/password_reset/email/subject.txt", language="fr")
    url = reverse("admin:ace_admin_template_preview", args=[template.pk])
    response = client.post(url, {"_ace_preview": "1", "name": template.name, "language": "fr", "site": "",
                                 "published": "on", "content": "Brouillon {{ first_name }}"})
    page = response.content.decode()
    assert "Brouillon Ada" in page
    assert "unsaved changes" in page
    template.refresh_from_db()
    assert template.content != "Brouillon {{ first_name }}"
    assert template.revisions.count() == 1


def test_template_editor_preview_reports_syntax_error_with_line(client, staff, demo):
    template = Template.objects.get(name="demo/edx_ace/password_reset/email/body.html", language="fr")
    url = reverse("admin:ace_admin_template_preview", args=[template.pk])
    response = client.post(url, {"_ace_preview": "1", "name": template.name, "language": "fr", "site": "",
                                 "content": "<p>a</p>\n{% for x in %}"})
    assert response.status_code == 200
    page = response.content.decode()
    assert 'id="ace-preview-error"' in page
    assert "line 2" in page


def test_message_type_form_preview_uses_inline_edits_for_the_language(client, staff, demo):
    message_type = demo["password_reset"]
    rows = list(message_type.templates.order_by("pk"))
    data = {"_ace_preview": "1", "templates-TOTAL_FORMS": str(len(rows)),
            "sample_context": json.dumps({**message_type.sample_context, "platform_name": "Edited"})}
    for index, row in enumerate(rows):
        content = "Objet modifié" if row.part == "subject.txt" else row.content
        data.update({f"templates-{index}-name": row.name, f"templates-{index}-language": row.language,
                     f"templates-{index}-site": "", f"templates-{index}-published": "on",
                     f"templates-{index}-content": content})
    response = client.post(preview_url(message_type), data)
    page = response.content.decode()
    # Default language is English: the French rows do not apply, the edited sample data does.
    assert "Reset your Edited password" in page
    overlay = re.search(r'name="overlay" value="([^"]*)"', page)[1]
    response = client.post(preview_url(message_type), {
        "language": "fr", "channel_type": "email", "context": json.dumps(message_type.sample_context),
        "overlay": overlay.replace("&quot;", '"').replace("&#x27;", "'").replace("&amp;", "&")})
    assert "Objet modifié" in response.content.decode()


def test_frame_belongs_to_its_user(client, staff, demo, django_user_model):
    response = client.get(preview_url(demo["password_reset"]))
    src = re.search(r'<iframe id="ace-preview-frame"[^>]*\ssrc="([^"]+)"', response.content.decode())[1]
    other = SuperuserFactory(username="other")
    client.force_login(other)
    assert client.get(src).status_code == 404


def test_template_change_form_has_preview_button_under_csp(client, staff, demo):
    template = Template.objects.get(name="demo/edx_ace/password_reset/email/body.html", language="fr")
    response = client.get(reverse("admin:ace_admin_template_change", args=[template.pk]))
    assert response["Content-Security-Policy"] == ADMIN_POLICY
    page = response.content.decode()
    assert f'formaction="{reverse("admin:ace_admin_template_preview", args=[template.pk])}"' in page
    response = client.get(reverse("admin:ace_admin_messagetype_change", args=[demo["newsletter"].pk]))
    assert response["Content-Security-Policy"] == ADMIN_POLICY
    assert reverse("admin:ace_admin_messagetype_preview", args=[demo["newsletter"].pk]) in response.content.decode()


def test_non_staff_cannot_preview(client, demo, django_user_model):
    user = UserFactory(username="someone")
    client.force_login(user)
    response = client.get(preview_url(demo["password_reset"]))
    assert response.status_code == 302 and "/login/" in response["Location"]


def send(client, message_type, **extra):
    data = {"language": "en", "channel_type": "email", "context": json.dumps(message_type.sample_context),
            "overlay": "", "recipients": "me", "send_test": "1", **extra}
    return client.post(preview_url(message_type), data)


def test_send_test_reaches_me_over_smtp_and_is_logged_as_test(client, staff, demo, smtp_settings):
    response = send(client, demo["password_reset"])
    assert "sent over django_email" in response.content.decode()
    [received] = smtp_settings.received_by("staff@example.org")
    assert received.message["Subject"] == "Reset your Open Learning password"
    assert "Hello Ada," in received.html
    [entry] = DeliveryLog.objects.all()
    assert (entry.recipient_address, entry.status, entry.is_test) == ("staff@example.org", "sent", True)


def test_send_test_ignores_opt_outs_and_caps_and_does_not_count(client, staff, demo, smtp_settings):
    newsletter = demo["newsletter"]
    OptOutFactory(email="staff@example.org", category=newsletter.category or "")
    PolicyRule.objects.filter(kind="frequency_cap").update(max_messages=1)
    for _ in range(2):
        assert "sent over" in send(client, newsletter).content.decode()
    assert len(smtp_settings.received_by("staff@example.org")) == 2
    assert list(DeliveryLog.objects.values_list("status", "is_test")) == [("sent", True)] * 2


def test_send_test_with_unsaved_edits_and_seed_addresses(client, staff, demo, smtp_settings):
    message_type = demo["course_start_reminder"]
    message_type.seed_addresses = "qa1@example.org\nqa2@example.org"
    message_type.save()
    name = "demo/edx_ace/course_start_reminder/email/subject.txt"
    overlay = json.dumps([{"name": name, "language": "", "site": None, "content": "Unsaved {{ first_name }}"}])
    send(client, message_type, recipients="seeds", overlay=overlay)
    for address in ("qa1@example.org", "qa2@example.org"):
        [received] = smtp_settings.received_by(address)
        assert received.message["Subject"] == "Unsaved Ada"
    assert not Template.objects.filter(name=name, language="").exists()


def test_send_test_reports_the_delivery_error(client, staff, demo, smtp_settings):
    smtp_settings.refuse_rcpt("staff@example.org", "550 5.1.1 No such mailbox")
    page = send(client, demo["password_reset"]).content.decode()
    assert "not sent" in page and "No such mailbox" in page
    [entry] = DeliveryLog.objects.all()
    assert (entry.status, entry.is_test) == ("failed", True)


def test_layout_preview_renders_with_a_chosen_message_type(client, staff, demo):
    layout = TemplateFactory(name="ace/email/button.html",
                             content='<a class="btn" href="{{ url }}">{{ label }}!</a>')
    url = reverse("admin:ace_admin_template_preview", args=[layout.pk])
    response = client.post(f"{url}?message_type={demo['password_reset'].pk}", {
        "_ace_preview": "1", "name": layout.name, "language": "", "site": "",
        "content": '<b class="edited">{{ label }}</b>'})
    assert response.status_code == 200
    html = frame_html(client, response)
    assert '<b class="edited">Choose a new password</b>' in html
    layout.refresh_from_db()
    assert "edited" not in layout.content


def test_send_test_of_a_disabled_message_type_says_it_was_denied(client, staff, demo, smtp_settings):
    message_type = demo["newsletter"]
    message_type.enabled = False
    message_type.save()
    page = send(client, message_type).content.decode()
    assert "not sent (denied)" in page and "message type disabled" in page
    assert smtp_settings.messages == []
    assert list(DeliveryLog.objects.values_list("status", "is_test")) == [("denied", True)]
