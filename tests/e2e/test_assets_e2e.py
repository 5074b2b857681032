"""Images and preflight in a real browser: an image uploaded in the admin shows in the preview (next to an external
image), a test send over real SMTP carries its absolute URL (which serves the image), and the preflight panel
lists what needs fixing."""

from __future__ import annotations

import http.server
import threading
import urllib.request

import pytest

from ace_admin.content.assets import asset_url
from ace_admin.models import ImageAsset
from tests.factories import TemplateFactory, image_bytes

BODY = "demo/edx_ace/newsletter/email/body.html"


@pytest.fixture
def external_images():
    """An image server on another loopback port (another origin, as an external image is); yields its URL and the
    paths it served."""
    served = []
    png = image_bytes("PNG", size=(6, 6), color=(10, 120, 10))

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802
            served.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(png)))
            self.end_headers()
            self.wfile.write(png)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", served
    server.shutdown()
    server.server_close()


def test_uploaded_image_shows_in_the_preview_and_is_delivered_by_absolute_url(
        admin_page, live_url, live_server, demo_content, media_root, settings, smtp_settings, external_images,
        tmp_path, screenshot_dir):
    settings.ACE_PUBLIC_BASE_URL = live_server.url  # recipients reach the site (and its images) here
    external_base, external_served = external_images
    responses = []
    admin_page.context.on("response", lambda response: responses.append((response.url, response.status)))

    # Upload through the admin's image page, as an editor would.
    picture = tmp_path / "team.png"
    picture.write_bytes(image_bytes("PNG", size=(40, 20), color=(200, 40, 40)))
    admin_page.goto(live_url("/admin/ace_admin/imageasset/add/"))
    admin_page.set_input_files("#id_upload", str(picture))
    admin_page.fill("#id_alt_text", "Our team")
    admin_page.click("input[name=_save]")
    admin_page.wait_for_selector("ul.messagelist li.success")
    asset = ImageAsset.objects.get()
    url = asset_url(asset)
    assert url == f"{live_server.url}/media/{asset.file.name}"
    assert admin_page.locator(f'img.ace-asset-thumb[src="/media/{asset.file.name}"]').count() == 1

    # The newsletter uses it, an external image without alt text and two links a mailbox cannot follow well.
    TemplateFactory(name=BODY, language="", content=(
        '{% extends "ace/email/base.html" %}{% block preheader %}Our news{% endblock %}{% block content %}'
        f'<p>Meet the team, {{{{ first_name }}}}.</p><img src="{url}" alt="Our team" width="40">'
        f'<img src="{external_base}/banner.png" width="6">'
        '<p><a href="/account/">Your account</a> <a href="http://example.org/old">Old page</a></p>'
        '{% endblock %}'))
    newsletter = demo_content["newsletter"]
    admin_page.goto(live_url(f"/admin/ace_admin/messagetype/{newsletter.pk}/preview/"))
    frame = admin_page.frame_locator("#ace-preview-frame")
    frame.locator("p", has_text="Meet the team, Ada.").wait_for()
    frame.locator('img[alt="Our team"]').wait_for()

    def loaded(target):
        return any(seen == target and status == 200 for seen, status in responses)

    for _ in range(100):  # wait for both images (at most 10 s)
        if loaded(url) and external_served:
            break
        admin_page.wait_for_timeout(100)
    assert loaded(url), responses  # the uploaded image, from this site, in the script-free frame
    assert external_served == ["/banner.png"]  # and the external one
    assert admin_page.locator("#ace-preview-frame").get_attribute("sandbox") == ""

    # The preflight panel says what to fix; the headers the recipient gets are listed.
    panel = admin_page.locator("#ace-preflight")
    assert panel.locator('li[data-code="image-no-alt"]').count() == 1
    # (the live server is http://, so both images are flagged as unencrypted)
    assert panel.locator('li[data-code="image-http"]', has_text=f"{external_base}/banner.png").count() == 1
    assert panel.locator('li[data-code="link-relative"]').count() == 1
    assert panel.locator('li[data-code="link-http"]', has_text="http://example.org/old").count() == 1
    assert "Our news" in panel.locator('li[data-code="preheader"]').inner_text()
    assert admin_page.locator('td[data-header="List-Unsubscribe"]').inner_text().startswith("<http")
    assert admin_page.locator('td[data-header="Reply-To"]').inner_text() == "community@example.org"
    admin_page.screenshot(path=str(screenshot_dir / "preview-preflight.png"), full_page=True)
    admin_page.locator("#ace-preview-frame").screenshot(path=str(screenshot_dir / "preview-frame-images.png"))
    # Both parts are shown: the text part follows the HTML edited here.
    assert "Meet the team, Ada." in admin_page.locator("#ace-part-body").inner_text()

    # A test send over real SMTP carries the absolute URL, which serves the very image.
    admin_page.click("#ace-send-test")
    admin_page.wait_for_selector("#ace-test-results li.ace-ok")
    [received] = smtp_settings.received_by("staff@example.org")
    assert f'src="{url}"' in received.html
    assert "Meet the team, Ada." in received.text
    # (Django's live server answers MEDIA_URL itself; the headers of ace_admin's view are checked in
    # tests/ace_admin/test_assets.py.)
    with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 — the live server on loopback
        assert response.read() == picture.read_bytes()
    assert admin_page.log.errors == []
