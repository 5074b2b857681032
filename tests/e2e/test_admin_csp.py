"""No script from a template runs in the admin: not in the preview, not in the editor (a real browser proves it).

A hostile template calls back to the live server (``/xss-hit/...``) and sets markers on ``window`` and
``document.title`` if any of its script runs; every request the browser makes is watched. A control test
shows the same payload does call back on a page without the policy, so the watch would see a failure.
"""

from __future__ import annotations

import pytest

from ace_admin.models import Template
from ace_admin.preview.csp import ADMIN_POLICY
from tests.factories import TemplateFactory

BODY = "demo/edx_ace/password_reset/email/body.html"
PAYLOAD = (
    '<p>Hello {{ first_name }}</p>\n'
    "<script>window.__aceXss = 1; try { parent.document.title = 'PWNED'; } catch (e) {}"
    " new Image().src = '/xss-hit/script';</script>\n"
    '<img src="/static/no-such-image.png" alt="x" '
    "onerror=\"window.__aceXss = 2; new Image().src = '/xss-hit/onerror';\">\n"
    '<svg onload="new Image().src = \'/xss-hit/svg\'"></svg>\n'
)


@pytest.fixture
def hostile_template(demo_content):
    return TemplateFactory(name=BODY, language="", content=PAYLOAD)


@pytest.fixture
def hits(admin_page):
    """Every request the browser made to /xss-hit/ (from any frame)."""
    seen = []
    admin_page.context.on("request", lambda request: seen.append(request.url) if "/xss-hit/" in request.url else None)
    return seen


def markers(page) -> list:
    return [frame.evaluate("() => window.__aceXss || null") for frame in page.frames if _same_origin(page, frame)]


def _same_origin(page, frame) -> bool:
    try:
        frame.evaluate("() => 1")
        return True
    except Exception:  # noqa: BLE001 — a sandboxed frame may refuse evaluation: then no marker either
        return False


def test_control_the_payload_calls_back_without_the_policy(page, live_url):
    seen = []
    page.context.on("request", lambda request: seen.append(request.url) if "/xss-hit/" in request.url else None)
    page.goto(live_url("/admin/login/"))  # an origin to resolve the payload's URLs against
    page.evaluate("html => { document.body.innerHTML = html; }", PAYLOAD.replace("<script>", "<img src=x onerror=\""
                                                                                  ).replace("</script>", "\">"))
    page.wait_for_timeout(500)
    assert any("/xss-hit/" in url for url in seen), "the payload should call back where script may run"


def test_preview_runs_no_template_script(admin_page, live_url, hostile_template, hits):
    response = admin_page.goto(live_url(f"/admin/ace_admin/template/{hostile_template.pk}/preview/"))
    assert response.headers["content-security-policy"] == ADMIN_POLICY
    frame = admin_page.frame_locator("#ace-preview-frame")
    frame.locator("p", has_text="Hello Ada").wait_for()
    admin_page.wait_for_timeout(800)
    assert hits == []
    assert admin_page.title() != "PWNED"
    assert set(markers(admin_page)) <= {None}
    assert admin_page.locator("#ace-preview-frame").get_attribute("sandbox") == ""
    # The browser did block it (so the test saw the payload, rather than a page without it).
    blocked = [line for line in admin_page.log.console if "sandboxed" in line or "Content Security Policy" in line]
    assert blocked, admin_page.log.console


def test_source_editor_runs_no_template_script(admin_page, live_url, hostile_template, hits):
    response = admin_page.goto(live_url(f"/admin/ace_admin/template/{hostile_template.pk}/change/"))
    assert response.headers["content-security-policy"] == ADMIN_POLICY
    # <script> is not something the visual editor represents: the template opens as source text.
    admin_page.locator(".CodeMirror", has_text="__aceXss").first.wait_for()
    admin_page.wait_for_timeout(800)
    assert hits == []
    assert admin_page.title() != "PWNED"
    assert set(markers(admin_page)) <= {None}
    assert admin_page.log.csp_violations == []


def test_visual_editor_runs_no_template_script(admin_page, live_url, demo_content, hits):
    # Event-handler attributes without <script>: an HTML fragment the visual editor (CKEditor) opens.
    payload = PAYLOAD.split("<script>")[0] + PAYLOAD.split("</script>\n")[1]
    template = TemplateFactory(name=BODY, language="", content=payload)
    admin_page.goto(live_url(f"/admin/ace_admin/template/{template.pk}/change/"))
    admin_page.wait_for_function("() => Object.values(CKEDITOR.instances).some(e => e.status === 'ready')")
    editor = admin_page.frame_locator("iframe.cke_wysiwyg_frame")
    editor.locator("p", has_text="Hello").wait_for()
    # Re-setting the data re-parses the content in CKEditor's HTML parser (CVE-2024-24815's place).
    admin_page.evaluate("() => { const e = Object.values(CKEDITOR.instances)[0]; e.setData(e.getData()); }")
    admin_page.wait_for_timeout(800)
    assert hits == []
    assert admin_page.title() != "PWNED"
    assert set(markers(admin_page)) <= {None}
    # CKEditor keeps the payload inert; it never even reaches the point where the policy must block it.
    assert admin_page.log.csp_violations == []


def test_editor_with_inline_script_in_the_page_itself_is_blocked(admin_page, live_url, hostile_template, hits):
    """Belt and braces: even markup that reached the admin page's own DOM could not run inline script."""
    admin_page.goto(live_url(f"/admin/ace_admin/template/{hostile_template.pk}/change/"))
    admin_page.evaluate("html => { const d = document.createElement('div'); d.innerHTML = html;"
                        " document.body.appendChild(d); }", PAYLOAD)
    admin_page.wait_for_timeout(800)
    assert hits == []
    assert any("Content Security Policy" in line for line in admin_page.log.console)


def test_editor_and_preview_pages_load_nothing_from_another_origin(admin_page, live_url, demo_content):
    own = live_url("")
    foreign = []
    admin_page.context.on("request", lambda request: foreign.append(request.url) if not request.url.startswith(
        (own, "data:", "about:", "blob:")) else None)
    body = Template.objects.get(name=BODY, language="fr")
    admin_page.goto(live_url(f"/admin/ace_admin/template/{body.pk}/change/"))
    admin_page.wait_for_function("() => Object.values(CKEDITOR.instances).some(e => e.status === 'ready')")
    admin_page.goto(live_url(f"/admin/ace_admin/messagetype/{body.message_type_id}/change/"))
    admin_page.wait_for_function("() => Object.values(CKEDITOR.instances).length > 0")
    admin_page.wait_for_function("() => Object.values(CKEDITOR.instances).every(e => e.status === 'ready')")
    admin_page.goto(live_url(f"/admin/ace_admin/messagetype/{body.message_type_id}/preview/"))
    admin_page.frame_locator("#ace-preview-frame").locator("body").wait_for()
    admin_page.wait_for_timeout(500)
    assert foreign == []
    assert not [line for line in admin_page.log.console if "Refused to" in line]
