"""Both template editors are lossless in a real browser (issue 12, items 1-2).

Every template of fixtures/, templates/ and the corpus in tests/corpus/email_templates/ is opened in the
editor the server picks, from the template's page and from its message type's page: saved untouched it keeps
its bytes and records no version; one typed word is the whole stored difference. ACE_EDITOR_CORPUS (a folder)
adds more templates to the same trial.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from ace_admin.content import editors
from ace_admin.models import ImageAsset, Template
from tests.e2e.conftest import admin_page, browser, demo_content, live_url, login, page, staff_user  # noqa: F401
from tests.factories import MessageTypeFactory, TemplateFactory, image_bytes

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpus" / "email_templates"
WORD = "Zebra "


def corpus_files() -> list[Path]:
    folders = [CORPUS] + [Path(p) for p in os.environ.get("ACE_EDITOR_CORPUS", "").split(os.pathsep) if p]
    return sorted(p for folder in folders for p in folder.iterdir() if p.is_file())


def read(path: Path) -> str:
    return path.read_bytes().decode("utf-8")


def all_sources(demo) -> list[tuple[str, str]]:
    """(label, source) of every template to try: the fixtures' rows, the files in templates/, the corpus."""
    found = [(f"fixture {t.name} {t.language}", t.content) for t in Template.objects.all()]
    found += [(str(p.relative_to(ROOT)), read(p)) for p in sorted((ROOT / "templates").rglob("*")) if p.is_file()]
    found += [(str(p.name), read(p)) for p in corpus_files()]
    return found


def part_name(label: str, index: int) -> str:
    suffix = ".html" if ".html" in label else ".txt"
    return f"email/t{index:02d}{suffix}"


def text_position(source: str) -> int:
    """Where a person would type: the start of the first text of an element, else the end of line 1."""
    source = re.sub(r"\{%.*?%\}|\{\{.*?\}\}|\{#.*?#\}|<!--.*?-->", lambda m: "\0" * len(m.group(0)), source,
                    flags=re.S)
    match = re.search(r">([A-Za-z\u0590-\u06ff])", source)
    if match:
        return match.start(1)
    match = re.search(r"[A-Za-z]{3,}", source)
    return match.start() if match else 0


def with_word(source: str, lf_index: int) -> str:
    """``source`` with WORD typed at ``lf_index`` (an index in its LF form), in its own line ends."""
    crlf = "\r\n" in source
    lf = source.replace("\r\n", "\n")
    typed = lf[:lf_index] + WORD + lf[lf_index:]
    return typed.replace("\n", "\r\n") if crlf else typed


def root_of(field: str) -> str:
    return f".ace-editor:has(textarea[name='{field}'])"


def wait_ready(page, field):  # noqa: F811
    page.wait_for_function(
        """root => { const r = document.querySelector(root); if (!r || !r.aceEditor) return false;
             if (r.getAttribute('data-ace-mode') !== 'visual') return true;
             return r.getAttribute('data-ace-visual-ready') === '1'; }""", arg=root_of(field))
    return page.evaluate("root => document.querySelector(root).aceEditor.mode()", root_of(field))


def type_word(page, field, source: str) -> str:  # noqa: F811
    """Type WORD in the field's live editor like a person would; returns the source expected afterwards."""
    root = root_of(field)
    mode = page.evaluate("root => document.querySelector(root).aceEditor.mode()", root)
    if mode == "source":
        index = text_position(source.replace("\r\n", "\n"))
        page.evaluate("""([root, index]) => { const cm = document.querySelector(root).aceEditor.codemirror();
                         cm.focus(); cm.setCursor(cm.posFromIndex(index)); }""", [root, index])
        page.keyboard.type(WORD)
        return with_word(source, index)
    # Visual: the caret goes to the start of a text that appears once in the source.
    found = page.evaluate("""root => { const ck = document.querySelector(root).aceEditor.ckeditor();
        const body = ck.editable().$; const walker = body.ownerDocument.createTreeWalker(body, NodeFilter.SHOW_TEXT);
        const texts = []; let node;
        while ((node = walker.nextNode())) {
          if (node.parentElement.closest('.ace-tag, [data-cke-widget-wrapper]')) continue;
          // The start of a word in the middle of a sentence (a space at a text's edge becomes &nbsp; in Chromium).
          const re = /[A-Za-z\\u0590-\\u06ff,] ([A-Za-z\\u0590-\\u06ff]{3,})/g; let m;
          while ((m = re.exec(node.data))) texts.push([node, m.index + 2, node.data.slice(m.index + 2, m.index + 14)]);
          if (!node.previousSibling && /^[A-Za-z\\u0590-\\u06ff]{3,}/.test(node.data))
            texts.push([node, 0, node.data.slice(0, 12)]);  // the start of an element's text
        }
        return texts.map(t => t[2]); }""", root)
    # Texts in the DOM are decoded (entities, collapsed spaces): the source is searched for their first word.
    unique = [t for t in found if source.count(re.match(r"[^\W\d_]{3,}", t).group(0)) == 1]
    assert unique, (found, source)
    snippet = unique[0]
    page.evaluate("""([root, snippet]) => { const ck = document.querySelector(root).aceEditor.ckeditor();
        ck.focus(); const body = ck.editable().$;
        const walker = body.ownerDocument.createTreeWalker(body, NodeFilter.SHOW_TEXT); let node;
        while ((node = walker.nextNode())) { const at = node.data.indexOf(snippet);
          if (at >= 0 && !node.parentElement.closest('.ace-tag')) {
            const range = ck.createRange(); range.setStart(new CKEDITOR.dom.text(node), at); range.collapse(true);
            ck.getSelection().selectRanges([range]); return; } } }""", [root, snippet])
    page.keyboard.type(WORD)
    index = source.replace("\r\n", "\n").index(re.match(r"[^\W\d_]{3,}", snippet).group(0))
    return with_word(source, index)


def save(page, live_url, button="_continue"):  # noqa: F811
    page.click(f"input[name={button}]")
    page.wait_for_load_state("load")
    errors = page.locator(".errornote, .errorlist").all_inner_texts()
    assert not errors, errors


@pytest.fixture
def corpus(demo_content):  # noqa: F811
    """Every template to try, as DB rows of one message type (for both pages): [(label, Template)]."""
    message_type = MessageTypeFactory(app_label="ace_corpus", name="corpus", sample_context={
        "first_name": "Ada", "articles": [{"title": "T", "url": "https://x.example/"}]})
    rows = []
    for index, (label, source) in enumerate(all_sources(demo_content)):
        name = f"ace_corpus/edx_ace/corpus/{part_name(label, index)}"
        rows.append((label, TemplateFactory(name=name, language="", content=source, message_type=message_type)))
    return message_type, rows


def test_every_template_routes_to_an_editor_that_round_trips(corpus):
    _message_type, rows = corpus
    visual = [label for label, t in rows if editors.classify(t.content, t.name).editor == editors.VISUAL]
    for _label, template in rows:
        if editors.classify(template.content, template.name).editor == editors.VISUAL:
            assert editors.from_visual(editors.to_visual(template.content)) == template.content
    # The demo's marketing bodies (both languages) and the corpus fragments open visually; layouts do not.
    assert "fixture demo/edx_ace/newsletter/email/body.html fr" in visual
    assert "templates/demo/edx_ace/newsletter/email/body.html" in visual
    assert "templates/demo/edx_ace/course_start_reminder/email/body.html" in visual
    assert "09_marketing_fragment.html" in visual and "06_include.html" in visual
    for layout in ("templates/ace/email/base.html", "10_whole_document.html", "02_outlook_conditional.html",
                   "03_for_between_rows.html", "04_if_in_attributes.html", "05_trans.html"):
        assert layout not in visual


def test_template_page_untouched_save_and_one_word(admin_page, live_url, corpus):  # noqa: F811
    _message_type, rows = corpus
    for label, template in rows:
        original = template.content
        versions = template.revisions.count()
        admin_page.goto(live_url(f"/admin/ace_admin/template/{template.pk}/change/"))
        wait_ready(admin_page, "content")
        save(admin_page, live_url)
        template.refresh_from_db()
        assert template.content.encode() == original.encode() and not template.has_draft, label
        assert template.revisions.count() == versions, label
        wait_ready(admin_page, "content")
        expected = type_word(admin_page, "content", original)
        save(admin_page, live_url)
        template.refresh_from_db()
        # An admin save is a draft: the word is in the draft, what is sent has not changed.
        assert (template.working_content, template.content) == (expected, original), label
        assert template.revisions.count() == versions + 1, label
    assert admin_page.log.errors == []
    assert admin_page.log.csp_violations == []


def test_message_type_page_untouched_save_and_one_word(admin_page, live_url, corpus):  # noqa: F811
    message_type, rows = corpus
    url = live_url(f"/admin/ace_admin/messagetype/{message_type.pk}/change/")
    before = {t.pk: (t.content, t.revisions.count()) for _label, t in rows}
    admin_page.goto(url)
    fields = admin_page.eval_on_selector_all(
        ".inline-related:not(.empty-form) textarea.ace-source-text", "els => els.map(e => e.name)")
    pks = admin_page.eval_on_selector_all(
        ".inline-related:not(.empty-form) input[name$='-id']", "els => els.map(e => Number(e.value))")
    assert len(fields) == len(rows) == len(pks)
    for field in fields:
        wait_ready(admin_page, field)
    save(admin_page, live_url)
    for _label, template in rows:
        template.refresh_from_db()
        assert template.content.encode() == before[template.pk][0].encode() and not template.has_draft, _label
        assert template.revisions.count() == before[template.pk][1], _label
    # One word typed in every template of the page, one save: each stored difference is its word.
    by_pk = {t.pk: (label, t) for label, t in rows}
    admin_page.goto(url)
    expected = {}
    for field, pk in zip(fields, pks, strict=True):
        wait_ready(admin_page, field)
        expected[pk] = type_word(admin_page, field, by_pk[pk][1].content)
    save(admin_page, live_url)
    for pk, (label, template) in by_pk.items():
        template.refresh_from_db()
        assert (template.working_content, template.content) == (expected[pk], before[pk][0]), label
        assert template.revisions.count() == before[pk][1] + 1, label
    assert admin_page.log.errors == []


def test_marketing_user_edits_the_newsletter_without_seeing_template_syntax(admin_page, live_url, demo_content):  # noqa: F811
    body = Template.objects.get(name="demo/edx_ace/newsletter/email/body.html", language="fr")
    before = body.content
    admin_page.goto(live_url(f"/admin/ace_admin/template/{body.pk}/change/"))
    assert wait_ready(admin_page, "content") == "visual"
    frame = admin_page.frame_locator("iframe.cke_wysiwyg_frame")
    # What the person sees: chips and labelled sections, no template syntax.
    shown = frame.locator("body").inner_text()
    assert "{{" not in shown and "{%" not in shown
    assert frame.locator(".ace-tag", has_text="first_name").count() == 1
    loop = frame.locator(".ace-section[data-ace-label='For each article in articles']")
    assert loop.count() == 1
    assert frame.locator(".ace-section[data-ace-label='Block content']").count() == 1
    # 1. Text: a word in the greeting.
    expected = type_word(admin_page, "content", before)
    # 2. A merge tag: the first name chip is replaced by the platform name, from the picker.
    frame.locator(".ace-tag", has_text="first_name").click()
    admin_page.keyboard.press("Delete")
    admin_page.select_option(".ace-picker", label="platform_name")
    # 3. The article loop: each article also shows its link, from the picker's loop group.
    admin_page.evaluate("""() => { const ck = document.querySelector('.ace-editor').aceEditor.ckeditor();
        const p = ck.editable().findOne('.ace-section[data-ace-label="For each article in articles"] p');
        const range = ck.createRange(); range.moveToElementEditEnd(p); ck.getSelection().selectRanges([range]); }""")
    admin_page.select_option(".ace-picker", label="article.url")
    assert "{{" not in frame.locator("body").inner_text()
    save(admin_page, live_url)
    body.refresh_from_db()
    assert body.content == before  # saved as a draft: sent only once a manager publishes it
    draft = body.working_content
    assert "Zebra " in draft
    assert "Bonjour {{ platform_name }}," in draft and "{{ first_name }}" not in draft
    assert "<p style=\"margin:0;\">{{ article.summary }}{{ article.url }}</p>" in draft
    # Everything else is byte for byte what it was.
    assert draft == expected.replace("{{ first_name }}", "{{ platform_name }}").replace(
        "{{ article.summary }}", "{{ article.summary }}{{ article.url }}")
    assert admin_page.log.errors == []


def test_picker_inserts_in_the_source_editor(admin_page, live_url, demo_content):  # noqa: F811
    subject = Template.objects.get(name="demo/edx_ace/newsletter/email/subject.txt", language="fr")
    admin_page.goto(live_url(f"/admin/ace_admin/template/{subject.pk}/change/"))
    assert wait_ready(admin_page, "content") == "source"
    labels = admin_page.eval_on_selector_all(".ace-picker optgroup", "groups => groups.map(g => g.label)")
    assert labels[:1] == ["This message's data"] and "Links" in labels and "Every message" in labels
    admin_page.evaluate("() => { const cm = document.querySelector('.ace-editor').aceEditor.codemirror();"
                        " cm.focus(); cm.setCursor(cm.posFromIndex(0)); }")
    admin_page.select_option(".ace-picker", label="unsubscribe link")
    save(admin_page, live_url)
    subject.refresh_from_db()
    assert subject.working_content.startswith("{{ unsubscribe_url }}{% autoescape off %}")


def test_an_image_uploaded_from_the_visual_editor_lands_in_the_draft_by_absolute_url(
        admin_page, live_url, demo_content, tmp_path, settings):  # noqa: F811
    settings.ACE_PUBLIC_BASE_URL = "https://learn.example.org"
    picture = tmp_path / "banner.png"
    picture.write_bytes(image_bytes("PNG", size=(30, 10), color=(20, 90, 200)))
    body = Template.objects.get(name="demo/edx_ace/newsletter/email/body.html", language="fr")
    admin_page.goto(live_url(f"/admin/ace_admin/template/{body.pk}/change/"))
    assert wait_ready(admin_page, "content") == "visual"
    admin_page.evaluate("""() => { const ck = document.querySelector('.ace-editor').aceEditor.ckeditor();
        const p = ck.editable().findOne('p'); const range = ck.createRange(); range.moveToElementEditEnd(p);
        ck.getSelection().selectRanges([range]); ck.execCommand('image'); }""")
    dialog = admin_page.locator(".cke_dialog")
    dialog.locator("a.cke_dialog_tab", has_text="Upload").click()
    upload_frame = admin_page.frame_locator(".cke_dialog iframe.cke_dialog_ui_input_file")
    upload_frame.locator("input[type=file]").set_input_files(str(picture))
    dialog.locator("a.cke_dialog_ui_fileButton").click()  # "Send it to the Server"
    # The server answered with the asset's absolute URL: the dialog switched back with it filled in.
    url_field = dialog.locator(".cke_dialog_ui_input_text input").first
    admin_page.wait_for_function("el => el.value.startsWith('https://learn.example.org/')",
                                 arg=url_field.element_handle())
    url = url_field.input_value()
    asset = ImageAsset.objects.get()
    assert url.endswith(asset.file.name) and asset.width == 30
    dialog.locator("a.cke_dialog_ui_button_ok").click()
    save(admin_page, live_url)
    body.refresh_from_db()
    assert f'src="{url}"' in body.working_content  # in the draft; what is sent changes when it is published
    assert admin_page.log.errors == []
