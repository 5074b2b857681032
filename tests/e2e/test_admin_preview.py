"""Editing and previewing templates in a real browser: the editors, form errors, unsaved previews, test sends."""

from __future__ import annotations

import pytest

from ace_admin.models import DeliveryLog, Template

BODY = "demo/edx_ace/password_reset/email/body.html"


@pytest.fixture
def body_template(demo_content):
    return Template.objects.get(name=BODY, language="fr")


def open_editor(page, live_url, template):
    page.goto(live_url(f"/admin/ace_admin/template/{template.pk}/change/"))
    page.wait_for_function("() => window.CKEDITOR && Object.values(CKEDITOR.instances).some(e => e.status === 'ready')")
    return page.frame_locator("iframe.cke_wysiwyg_frame")


def type_after(editor, paragraph_text: str, text: str) -> None:
    """Click at the end of the paragraph containing ``paragraph_text`` and type ``text``, as a person would."""
    editor.locator("p", has_text=paragraph_text).first.click()
    editor.locator("body").press("End")
    editor.locator("body").press_sequentially(text)


def frame_text(page) -> str:
    page.wait_for_selector("#ace-preview-frame")
    return page.frame_locator("#ace-preview-frame").locator("body").inner_text()


def test_edit_in_ckeditor_save_and_preview(admin_page, live_url, body_template):
    editor = open_editor(admin_page, live_url, body_template)
    type_after(editor, "Bonjour", " Texte ajouté dans le navigateur.")
    admin_page.click("#ace-save-and-publish")  # a manager's "Save and publish" (a plain save keeps a draft)
    admin_page.wait_for_selector("ul.messagelist li.success")

    body_template.refresh_from_db()
    assert "Texte ajouté dans le navigateur." in body_template.content
    assert "{% block content %}" in body_template.content  # template tags came back as typed
    assert body_template.revisions.count() == 2

    # Text inside the child template's blocks stays as it was (not wrapped in <p> by the editor).
    assert "{% block title %}Réinitialisez votre mot de passe{% endblock %}" in body_template.content
    assert "{% block content %}</p>" not in body_template.content

    admin_page.click("a.ace-preview-link")
    assert "Bonjour Ada, Texte ajouté dans le navigateur." in " ".join(frame_text(admin_page).split())
    frame_title = admin_page.frame_locator("#ace-preview-frame").locator("title").text_content()
    assert frame_title == "Réinitialisez votre mot de passe"
    sources = admin_page.locator("#ace-preview-sources").inner_text()
    assert "database, version 2 (fr)" in sources
    assert admin_page.log.errors == []


def test_ckeditor_toolbar_works_under_the_policy(admin_page, live_url, body_template):
    editor = open_editor(admin_page, live_url, body_template)
    editor.locator("p", has_text="Bonjour").first.click()
    editor.locator("body").press("Home")
    editor.locator("body").press("Shift+End")
    admin_page.click("a.cke_button__bold")
    data = "() => Object.values(CKEDITOR.instances)[0].getData()"
    assert "<p><strong>Bonjour" in admin_page.evaluate(data)
    # A panel (the Format combo) works too, and nothing ever needed the policy to block it.
    editor.locator("p", has_text="Bonjour").first.click()
    admin_page.click("a.cke_combo_button")
    admin_page.frame_locator("iframe.cke_panel_frame").locator("a", has_text="Heading 2").first.click()
    assert "<h2><strong>Bonjour" in admin_page.evaluate(data)
    # And a dialog: insert a table.
    editor.locator("h2", has_text="Bonjour").first.click()
    admin_page.click("a.cke_button__table")
    admin_page.click(".cke_dialog a.cke_dialog_ui_button_ok >> visible=true")
    assert "<table" in admin_page.evaluate(data)
    assert admin_page.log.csp_violations == []
    assert admin_page.log.errors == []


def test_broken_template_syntax_shows_the_error_and_saves_nothing(admin_page, live_url, body_template):
    before = body_template.content
    open_editor(admin_page, live_url, body_template)
    admin_page.click("button.ace-to-source")
    admin_page.evaluate("() => document.querySelector('.ace-editor').aceEditor.codemirror().setValue("
                        "'<p>Bonjour {{ first_name }}</p>\\n<p>{% if first_name %}oups</p>')")
    admin_page.click("input[name=_continue]")
    error = admin_page.locator(".errorlist").first
    error.wait_for()
    assert "Line 2" in error.inner_text() and "endif" in error.inner_text()
    # The broken text is shown again in the source editor, its line marked.
    marked = admin_page.locator(".CodeMirror .ace-error-line")
    marked.wait_for()
    assert "oups" in marked.inner_text()
    body_template.refresh_from_db()
    assert body_template.content == before
    assert body_template.revisions.count() == 1


def test_preview_unsaved_edits_in_a_new_tab(admin_page, live_url, body_template):
    before = body_template.content
    editor = open_editor(admin_page, live_url, body_template)
    type_after(editor, "Bonjour", " Pas encore enregistré.")
    with admin_page.context.expect_page() as new_tab:
        admin_page.click("#ace-preview-unsaved")
    preview = new_tab.value
    preview.wait_for_load_state()
    assert "unsaved changes" in preview.locator(".ace-preview-unsaved").inner_text()
    assert "Pas encore enregistré." in frame_text(preview)
    assert "unsaved changes from the editor" in preview.locator("#ace-preview-sources").inner_text()
    body_template.refresh_from_db()
    assert body_template.content == before


def test_send_a_test_reaches_the_mailbox_and_the_delivery_log(admin_page, live_url, demo_content, smtp_settings):
    message_type = demo_content["password_reset"]
    admin_page.goto(live_url(f"/admin/ace_admin/messagetype/{message_type.pk}/change/"))
    admin_page.click("a.ace-preview-link")
    admin_page.check("input[name=recipients][value=me]")
    admin_page.click("#ace-send-test")
    assert "staff@example.org: sent over django_email" in admin_page.locator("#ace-test-results").inner_text()

    [received] = smtp_settings.received_by("staff@example.org")
    assert received.message["Subject"] == "Reset your Open Learning password"
    assert "Hello Ada," in received.html

    [entry] = DeliveryLog.objects.all()
    assert (entry.recipient_address, entry.status, entry.is_test) == ("staff@example.org", "sent", True)
    admin_page.goto(live_url("/admin/ace_admin/deliverylog/?is_test__exact=1"))
    assert "staff@example.org" in admin_page.locator("#result_list").inner_text()


def test_send_a_test_shows_the_delivery_error(admin_page, live_url, demo_content, smtp_settings):
    smtp_settings.refuse_rcpt("staff@example.org", "550 5.1.1 No such mailbox here")
    admin_page.goto(live_url(f"/admin/ace_admin/messagetype/{demo_content['password_reset'].pk}/preview/"))
    admin_page.click("#ace-send-test")
    results = admin_page.locator("#ace-test-results").inner_text()
    assert "not sent (failed)" in results and "No such mailbox here" in results
    assert list(DeliveryLog.objects.values_list("status", "is_test")) == [("failed", True)]


def test_screenshots_at_desktop_and_mobile_width(admin_page, live_url, demo_content, screenshot_dir):
    for name, message_type in sorted(demo_content.items()):
        admin_page.set_viewport_size({"width": 1280, "height": 900})
        admin_page.goto(live_url(f"/admin/ace_admin/messagetype/{message_type.pk}/preview/"))
        frame_text(admin_page)
        admin_page.click("#ace-width-desktop")
        admin_page.screenshot(path=str(screenshot_dir / f"preview-{name}-desktop.png"), full_page=True)
        admin_page.set_viewport_size({"width": 414, "height": 896})
        admin_page.click("#ace-width-mobile")
        assert admin_page.locator("#ace-preview-frame").bounding_box()["width"] == 375
        admin_page.screenshot(path=str(screenshot_dir / f"preview-{name}-mobile.png"), full_page=True)
        assert (screenshot_dir / f"preview-{name}-desktop.png").stat().st_size > 10_000
        assert (screenshot_dir / f"preview-{name}-mobile.png").stat().st_size > 10_000


def test_message_type_form_previews_unsaved_inline_edits(admin_page, live_url, demo_content):
    message_type = demo_content["password_reset"]
    subject = message_type.templates.get(part="subject.txt", language="fr")
    admin_page.goto(live_url(f"/admin/ace_admin/messagetype/{message_type.pk}/change/"))
    field = admin_page.evaluate("text => [...document.querySelectorAll(\"textarea[name$='-content']\")]"
                                ".find(box => box.value === text).name", subject.content)
    admin_page.wait_for_function("name => document.querySelector(`.ace-editor:has(textarea[name='${name}'])`)"
                                 ".aceEditor", arg=field)
    admin_page.evaluate("([name, text]) => document.querySelector(`.ace-editor:has(textarea[name='${name}'])`)"
                        ".aceEditor.codemirror().setValue(text)",
                        [field, "Objet pas encore enregistré pour {{ first_name }}"])
    with admin_page.context.expect_page() as new_tab:
        admin_page.click("#ace-preview-unsaved")
    preview = new_tab.value
    preview.wait_for_load_state()
    preview.select_option("#id_language", "fr")
    preview.click("input[name=refresh]")
    assert preview.locator("#ace-part-subject").inner_text() == "Objet pas encore enregistré pour Ada"
    subject.refresh_from_db()
    assert "pas encore" not in subject.content
