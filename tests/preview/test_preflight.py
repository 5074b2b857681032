"""Preflight checks on a rendered email: subject, preheader, size, images, links, translations, headers."""

from __future__ import annotations

import pytest

from ace.renderers import RenderedEmail
from ace_admin.preview import preflight
from ace_admin.preview.render import build_message, render_preview
from tests.factories import AudienceFactory, AudienceMemberFactory, CampaignFactory, TemplateFactory


def email(body="<p>Hello</p>", subject="A subject", head=""):
    return RenderedEmail(from_name="", subject=subject, body_html=body, head_html=head, body="Hello")


def codes(findings, level=None) -> list[str]:
    return [finding.code for finding in findings if level is None or finding.level == level]


def test_subject_length():
    assert codes(preflight.check(email(subject="")), "error") == ["subject-empty"]
    long = preflight.check(email(subject="x" * 75))
    assert "subject-long" in codes(long, "warning")
    assert "75 characters" in next(f.message for f in long if f.code == "subject-long")
    assert "subject-length" in codes(preflight.check(email(subject="Short")), "info")


def test_preheader_is_the_first_hidden_block():
    body = ('<html><body><div style="display:none;max-height:0;">Ten new courses and more.</div>'
            "<h1>News</h1></body></html>")
    [finding] = [f for f in preflight.check(email(body)) if f.code.startswith("preheader")]
    assert (finding.code, finding.level) == ("preheader", "info")
    assert '"Ten new courses and more."' in finding.message
    missing = [f for f in preflight.check(email("<h1>News for December</h1>")) if f.code.startswith("preheader")]
    assert missing[0].code == "preheader-missing" and "News for December" in missing[0].message
    # A hidden block after visible text is not a preheader.
    late = email('<p>Visible</p><div style="display:none">hidden</div>')
    assert "preheader-missing" in codes(preflight.check(late))


def test_size_over_gmail_clipping():
    big = email("<p>" + "x" * (preflight.HTML_CLIP_BYTES + 1) + "</p>")
    assert "size-clipped" in codes(preflight.check(big), "warning")
    assert "size" in codes(preflight.check(email()), "info")


def test_images_and_links():
    body = (
        '<img src="https://example.org/ok.png" alt="">'
        '<img src="https://example.org/no-alt.png">'
        '<img src="http://example.org/plain.png" alt="plain">'
        '<img src="/media/relative.png" alt="relative">'
        '<a href="https://example.org/">fine</a><a href="mailto:a@example.org">mail</a><a href="#top">anchor</a>'
        '<a href="http://example.org/old">old</a><a href="/account/">relative</a><a href="javascript:alert(1)">x</a>'
        '<a href="//example.org/x">protocol-relative</a>'
    )
    findings = preflight.check(email(body))
    assert codes(findings, "warning").count("image-no-alt") == 1
    assert "https://example.org/no-alt.png" in next(f.message for f in findings if f.code == "image-no-alt")
    assert "image-http" in codes(findings, "warning")
    assert "image-relative" in codes(findings, "error")
    assert codes(findings, "warning").count("link-http") == 1
    assert codes(findings, "error").count("link-relative") == 2
    assert "link-script" in codes(findings, "error")


@pytest.mark.django_db
def test_translations_missing_for_languages_the_audience_uses(preview_request):
    request = preview_request("newsletter", language="en")
    audience = AudienceFactory()
    AudienceMemberFactory(audience=audience, language="de")
    AudienceMemberFactory(audience=audience, language="fr-ca")  # fr templates cover fr-ca
    AudienceMemberFactory(audience=audience, language="")  # the campaign's language then
    CampaignFactory(message_type=request.message_type, audience=audience, language="es")
    message = build_message(request, "ada@example.org")
    findings = preflight.check_translations(message)
    assert [f.message.split(" get")[0] for f in findings] == ["Recipients in de", "Recipients in es"]
    TemplateFactory(name="demo/edx_ace/newsletter/email/subject.txt", language="de", content="Neuigkeiten")
    assert [f.message.split(" get")[0] for f in preflight.check_translations(message)] == ["Recipients in es"]


@pytest.mark.django_db
def test_the_preview_shows_the_findings_and_the_headers(preview_request):
    preview = render_preview(preview_request("newsletter", language="en"), "ada@example.org")
    headers = dict(preview.headers)
    assert headers["From"] == "Open Learning News <news@example.org>"
    assert headers["Reply-To"] == "community@example.org"
    assert headers["List-Unsubscribe"].startswith("<http")
    found = codes(preview.findings)
    assert "preheader" in found and "subject-length" in found
    assert "header-no-unsubscribe" not in found
    assert not [f for f in preview.findings if f.level == "error"], preview.findings
