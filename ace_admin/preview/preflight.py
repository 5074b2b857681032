"""Preflight: what to check in a rendered email before it goes to many people.

``check(rendered, message, channel)`` returns findings — ``level`` ("error", "warning", "info"), a stable ``code``
and a ``message`` a marketing person can act on — for the subject's length, the preheader, the HTML's size
(Gmail clips over 102 KB), images without ``alt``, ``http://`` and relative links and images, the languages the
audience uses that have no translation, and the headers the recipient will get (From, Reply-To,
List-Unsubscribe). The preview shows them; a campaign can run the same checks on its first rendered message.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from django.db.models import F, Value
from django.db.models.functions import Coalesce, NullIf

from ace.channel.mixins import EmailChannelMixin
from ace_admin.models import AudienceMember, Template

#: Gmail clips a message whose HTML is larger than this and hides the rest behind "View entire message".
HTML_CLIP_BYTES = 102 * 1024
#: Most inboxes show about this many characters of a subject (phones fewer).
SUBJECT_SHOWN = 60
#: Inboxes show up to about this much of the preheader next to the subject.
PREHEADER_SHOWN = 140

ERROR, WARNING, INFO = "error", "warning", "info"
_HIDDEN = re.compile(r"display\s*:\s*none|max-height\s*:\s*0|visibility\s*:\s*hidden|mso-hide\s*:\s*all", re.I)
_SAFE_SCHEMES = ("https://", "mailto:", "tel:", "sms:", "cid:", "data:")
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                   "wbr"})


@dataclass(frozen=True)
class Finding:
    level: str  # ERROR, WARNING or INFO
    code: str
    message: str


class _Scan(HTMLParser):
    """One pass over the HTML: images, links, the preheader (the first hidden block) and the first visible text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.images: list[dict] = []
        self.links: list[str] = []
        self.in_body = False
        self.hidden_depth = 0  # >0 while inside the first hidden element of the body
        self.preheader_done = False
        self.preheader: list[str] = []
        self.visible: list[str] = []
        self.skip_depth = 0  # inside <style>/<script>/<title>

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag in ("style", "script", "title"):
            self.skip_depth += 1
        elif tag == "body":
            self.in_body = True
        elif tag == "img":
            self.images.append(values)
        elif tag in ("a", "area") and values.get("href") is not None:
            self.links.append(values["href"] or "")
        if tag in _VOID:
            return
        if self.hidden_depth:
            self.hidden_depth += 1
        elif self.in_body and not self.preheader_done and not self.visible and (
                _HIDDEN.search(values.get("style") or "") or "preheader" in (values.get("class") or "").lower()):
            self.hidden_depth = 1

    def handle_endtag(self, tag):
        if tag in ("style", "script", "title"):
            self.skip_depth = max(0, self.skip_depth - 1)
        if tag in _VOID or not self.hidden_depth:
            return
        self.hidden_depth -= 1
        if not self.hidden_depth:
            self.preheader_done = True

    def handle_data(self, data):
        if self.skip_depth or not data.strip():
            return
        if self.hidden_depth:
            self.preheader.append(data)
        elif self.in_body:
            self.visible.append(data)


def _one_line(parts: list[str]) -> str:
    return " ".join(" ".join(parts).split())


def check(rendered, message=None, channel=None, *, audience_languages=None, template_languages=None) -> list[Finding]:
    """Findings for a rendered email (an ``ace.renderers.RenderedEmail``). ``message`` and ``channel`` add the
    header checks; the two language sets (found from the database for ``message`` when not given) the
    translation check."""
    findings: list[Finding] = []
    findings += check_subject(rendered.subject or "")
    document = EmailChannelMixin.html_document(rendered)
    scan = _Scan()
    scan.feed(document)
    scan.close()
    findings += check_preheader(scan)
    findings += check_size(document)
    findings += check_images(scan.images)
    findings += check_links(scan.links)
    if message is not None:
        findings += check_headers(message, rendered, channel)
        findings += check_translations(message, audience_languages, template_languages)
    return findings


def check_subject(subject: str) -> list[Finding]:
    length = len(subject)
    if not subject.strip():
        return [Finding(ERROR, "subject-empty", "The subject is empty.")]
    if length > SUBJECT_SHOWN:
        return [Finding(WARNING, "subject-long", f"The subject has {length} characters: most inboxes show about "
                                                 f"{SUBJECT_SHOWN} (phones about 40), the rest is cut.")]
    return [Finding(INFO, "subject-length", f"The subject has {length} characters.")]


def check_preheader(scan: _Scan) -> list[Finding]:
    text = _one_line(scan.preheader)
    if not text:
        first = _one_line(scan.visible)[:90]
        return [Finding(WARNING, "preheader-missing",
                        f"No preheader: inboxes show the first text of the email next to the subject instead "
                        f"(\"{first}\").")]
    if len(text) > PREHEADER_SHOWN:
        return [Finding(INFO, "preheader-long", f"The preheader has {len(text)} characters; inboxes show about "
                                                f"{PREHEADER_SHOWN}: \"{text[:PREHEADER_SHOWN]}…\".")]
    return [Finding(INFO, "preheader", f"Preheader ({len(text)} characters): \"{text}\".")]


def check_size(document: str) -> list[Finding]:
    size = len(document.encode("utf-8"))
    if size > HTML_CLIP_BYTES:
        return [Finding(WARNING, "size-clipped", f"The HTML is {size / 1024:.1f} KB; Gmail clips messages over "
                                                 f"102 KB and hides the rest behind \"View entire message\".")]
    return [Finding(INFO, "size", f"The HTML is {size / 1024:.1f} KB (Gmail clips over 102 KB).")]


def _address_problem(url: str) -> tuple[str, str, str] | None:
    """(level, code suffix, reason) when ``url`` will not work well in a mailbox."""
    value = url.strip()
    lowered = value.lower()
    if lowered.startswith(_SAFE_SCHEMES):
        return None
    if lowered.startswith("http://"):
        return WARNING, "http", "is not encrypted (http://)"
    if lowered.startswith("javascript:"):
        return ERROR, "script", "runs script: mail clients remove it"
    return ERROR, "relative", "is not an absolute address: it cannot work from a mailbox"


def check_images(images: list[dict]) -> list[Finding]:
    findings = []
    for image in images:
        src = (image.get("src") or "").strip()
        if "alt" not in image:
            findings.append(Finding(WARNING, "image-no-alt",
                                    f"The image {src or '(no src)'} has no alt text: people who cannot see it, and "
                                    f"mail clients that block images, get nothing (use alt=\"\" for decoration)."))
        problem = _address_problem(src) if src else (ERROR, "relative", "has no address")
        if problem is not None:
            level, code, reason = problem
            findings.append(Finding(level, f"image-{code}", f"The image {src or '(no src)'} {reason}."))
    return findings


def check_links(links: list[str]) -> list[Finding]:
    findings = []
    for href in dict.fromkeys(links):
        if not href.strip() or href.strip().startswith("#"):
            continue
        problem = _address_problem(href)
        if problem is not None:
            level, code, reason = problem
            findings.append(Finding(level, f"link-{code}", f"The link {href} {reason}."))
    return findings


def recipient_headers(message, rendered, channel=None) -> list[tuple[str, str]]:
    """The headers the recipient will see that matter to them: From, Reply-To, List-Unsubscribe(-Post)."""
    mixin = channel if isinstance(channel, EmailChannelMixin) else EmailChannelMixin()
    headers = []
    try:
        headers.append(("From", mixin.from_address(message, rendered)))
    except Exception as error:  # noqa: BLE001 — shown as a finding: the send would fail the same way
        headers.append(("From", f"(cannot be built: {error})"))
    reply_to = mixin.reply_to(message)
    headers.append(("Reply-To", ", ".join(reply_to) if reply_to else "(none: replies go to the sender)"))
    extra = mixin.headers(message)
    for name in ("List-Unsubscribe", "List-Unsubscribe-Post"):
        if extra.get(name):
            headers.append((name, extra[name]))
    return headers


def check_headers(message, rendered, channel=None) -> list[Finding]:
    findings = []
    headers = recipient_headers(message, rendered, channel)
    for name, value in headers:
        level = ERROR if value.startswith("(cannot be built") else INFO
        findings.append(Finding(level, f"header-{name.lower()}", f"{name}: {value}"))
    transactional = bool((message.options or {}).get("transactional"))
    if not transactional and not any(name == "List-Unsubscribe" for name, _ in headers):
        findings.append(Finding(WARNING, "header-no-unsubscribe",
                                "No List-Unsubscribe header: Gmail and Yahoo require one-click unsubscribe for bulk "
                                "marketing mail."))
    return findings


def _base(language: str) -> str:
    return (language or "").lower().split("-")[0]


def check_translations(message, audience_languages=None, template_languages=None) -> list[Finding]:
    """A finding per language the audience uses that no template of the message type is written in."""
    if audience_languages is None or template_languages is None:
        found_audience, found_templates = languages_of(message.app_label, message.name)
        audience_languages = found_audience if audience_languages is None else audience_languages
        template_languages = found_templates if template_languages is None else template_languages
    have = {language.lower() for language in template_languages if language}
    have |= {_base(language) for language in have}
    findings = []
    for language in sorted({language.lower() for language in audience_languages if language}):
        if language not in have and _base(language) not in have:
            findings.append(Finding(WARNING, "translation-missing",
                                    f"Recipients in {language} get no {language} version: no template of this "
                                    f"message type is in that language (they get the default one)."))
    return findings


def languages_of(app_label: str, name: str) -> tuple[set[str], set[str]]:
    """(languages the audiences of campaigns sending this message type use, languages its templates are in)."""
    templates = set(Template.objects.filter(message_type__app_label=app_label, message_type__name=name)
                    .exclude(language="").values_list("language", flat=True).distinct())
    members = (AudienceMember.objects.filter(audience__campaigns__message_type__app_label=app_label,
                                             audience__campaigns__message_type__name=name)
               .annotate(effective=Coalesce(NullIf(F("language"), Value("")),
                                            NullIf(F("audience__campaigns__language"), Value(""))))
               .exclude(effective=None).values_list("effective", flat=True).distinct())
    return set(members), templates
