"""The data-only template sandbox: a hostile corpus through save, send and preview; limits that hold; demo
templates rendering exactly as before; ordinary features still working."""

from __future__ import annotations

import datetime
import json
import os
import tracemalloc
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.template import Context, engines
from django.urls import reverse
from django.utils.functional import SimpleLazyObject
from django.utils.translation import gettext_lazy

from ace.channel import channels
from ace.outcome import DeliveryStatus
from ace_admin.content.safety import GuardedTemplate
from ace_admin.models import DeliveryLog, MessageType, Template
from tests.ace_admin.conftest import html_of, make_message, send_email
from tests.ace_admin.hostile_templates import HOSTILE
from tests.factories import EditorFactory

pytestmark = pytest.mark.django_db

BODY = "ace_admin_tests/edx_ace/welcome/email/body.html"
SUBJECT = "ace_admin_tests/edx_ace/welcome/email/subject.txt"
SECRETS = {"SECRET_KEY": "planted-secret-key-9f1c", "EMAIL_HOST_PASSWORD": "planted-smtp-password-77aa"}
ENV_SECRET = "planted-environment-value-31be"
FILE_SECRET = "planted-file-content-c0de"


@pytest.fixture
def planted(settings, tmp_path, monkeypatch):
    """Secrets in settings, the environment and a file; returns (secrets, the file)."""
    for name, value in SECRETS.items():
        setattr(settings, name, value)
    monkeypatch.setenv("PLANTED_ENV_SECRET", ENV_SECRET)
    settings.VAR_DIR = tmp_path
    secret_file = tmp_path / "secret.txt"
    secret_file.write_text(FILE_SECRET)
    os.utime(secret_file, (1_000_000_000, 1_000_000_000))
    return [*SECRETS.values(), ENV_SECRET, FILE_SECRET], secret_file


def hostile_context(secret_file: Path) -> dict:
    """Sample data as platform code might pass it, including raw objects that must stay out of reach."""
    from django.conf import settings

    return {
        "name": "Ann", "rows": [1, 2, 3], "big": 10**9, "tname": "ace_admin_tests/show_s.html",
        "d": {"a": 1, "b": [1, 2]}, "items": [{"path": secret_file, "n": 2}, {"path": secret_file, "n": 1}],
        "when": datetime.datetime(2024, 5, 1, 12, tzinfo=datetime.UTC), "amount": Decimal("12.50"),
        "ident": uuid.UUID("12345678-1234-5678-1234-567812345678"), "lazy": gettext_lazy("Hello"),
        "path": secret_file, "mod": os, "conf": settings, "objects": [secret_file, os, settings],
        "nested": {"deep": {"path": secret_file, "mod": os}},
        "lazyfile": SimpleLazyObject(lambda: secret_file), "lazyconf": SimpleLazyObject(lambda: {"k": settings}),
        "lazyname": SimpleLazyObject(lambda: "Ann"),
    }


def assert_clean(texts, secrets, secret_file):
    blob = "\n".join(str(text) for text in texts)
    for secret in secrets:
        assert secret not in blob
    assert "root:x:0:0" not in blob  # /etc/passwd's first line: no file outside the template folders was read
    assert secret_file.read_text() == FILE_SECRET  # neither deleted nor changed
    assert secret_file.stat().st_mtime == 1_000_000_000
    assert list(secret_file.parent.iterdir()) == [secret_file]


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_template_saved_and_sent(payload, planted):
    secrets, secret_file = planted
    try:
        Template.objects.create(name=BODY, content=payload)  # the model's own check is under test
    except ValidationError as refused:  # refused at save, with a message that leaks nothing
        assert_clean(refused.messages, secrets, secret_file)
        assert not Template.objects.exists()
        return
    message = make_message(context=hostile_context(secret_file))
    result, email = send_email(message)
    outcome = result[0]
    assert outcome.status in (DeliveryStatus.SENT, DeliveryStatus.TEMPLATE_ERROR, DeliveryStatus.TEMPLATE_MISSING)
    log = DeliveryLog.objects.get(message_uuid=message.uuid)
    texts = [log.error, log.status, outcome.error]
    if email is not None:
        texts += [email.subject, email.body, html_of(email)]
    assert_clean(texts, secrets, secret_file)


@pytest.fixture
def editor(client, django_user_model):
    user = EditorFactory(username="editor")
    client.force_login(user)
    return user


@pytest.fixture
def demo(db):
    call_command("loaddata", "fixtures/demo.json", verbosity=0)


@pytest.mark.parametrize("payload", HOSTILE)
def test_hostile_template_in_the_preview_unsaved(payload, planted, client, editor, demo):
    secrets, secret_file = planted
    template = Template.objects.filter(name__endswith="/email/body.html").order_by("pk").first()
    before = template.content
    response = client.post(reverse("admin:ace_admin_template_preview", args=[template.pk]), {
        "_ace_preview": "1", "name": template.name, "language": template.language, "site": "",
        "content": payload})
    assert response.status_code == 200
    texts = [response.content.decode()]
    frame = response.content.decode().partition('id="ace-preview-frame"')[2].partition(' src="')[2].partition('"')[0]
    if frame:
        texts.append(client.get(frame.replace("&amp;", "&")).content.decode())
    assert_clean(texts, secrets, secret_file)
    template.refresh_from_db()
    assert template.content == before


# --- limits ---------------------------------------------------------------------------------------------------------


def test_a_ten_million_node_include_fan_out_stops_within_the_limits(db_template):
    for level in range(1, 9):
        inner = f"ace_admin_tests/fan{level - 1}.html"
        body = "x" if level == 1 else "".join(f'{{% include "{inner}" %}}' for _ in range(10))
        db_template(f"ace_admin_tests/fan{level}.html", body, published=True)
    db_template(BODY, '{% include "ace_admin_tests/fan8.html" %}', published=True)
    message = make_message()
    result, email = send_email(message)
    assert email is None and result[0].status is DeliveryStatus.TEMPLATE_ERROR
    assert "include" in DeliveryLog.objects.get(message_uuid=message.uuid).error


def test_a_huge_width_fails_without_allocating(db_template):
    db_template(BODY, '{{ "x"|ljust:"300000000" }}', published=True)
    message = make_message()
    tracemalloc.start()
    try:
        result, email = send_email(message)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert email is None and result[0].status is DeliveryStatus.TEMPLATE_ERROR
    assert peak < 50 * 1024 * 1024


def test_doubling_text_is_stopped_by_the_output_budget(db_template, settings):
    settings.ACE_ADMIN_TEMPLATE_MAX_BYTES = 100_000
    body = "{% with a=name|ljust:'10000' %}" + "".join(
        f"{{% with {chr(98 + i)}={chr(97 + i)}|add:{chr(97 + i)} %}}" for i in range(12)) + "{{ m }}" + \
        "{% endwith %}" * 13
    db_template(BODY, body, published=True)
    message = make_message(context={"name": "Ann"})
    result, email = send_email(message)
    assert email is None and result[0].status is DeliveryStatus.TEMPLATE_ERROR
    assert "KiB of text" in DeliveryLog.objects.get(message_uuid=message.uuid).error


def test_the_budget_is_per_message_not_per_part(db_template, settings):
    settings.ACE_ADMIN_TEMPLATE_MAX_NODES = 60
    loop = "{% for x in rows %}{{ x }}{% endfor %}"  # about 42 nodes for 40 rows: one part fits, two do not
    db_template(BODY, "<p>" + loop + "</p>", published=True)
    result, email = send_email(make_message(context={"rows": list(range(40))}))
    assert result[0].status is DeliveryStatus.SENT and "0123" in html_of(email)

    db_template(SUBJECT, loop, published=True)
    message = make_message(context={"rows": list(range(40))})
    result, email = send_email(message)
    assert email is None and result[0].status is DeliveryStatus.TEMPLATE_ERROR
    assert "too many elements" in DeliveryLog.objects.get(message_uuid=message.uuid).error
    # The next message starts with a whole budget of its own.
    result, email = send_email(make_message(context={"rows": list(range(10))}))
    assert result[0].status is DeliveryStatus.SENT and email.subject == "0123456789"


@pytest.mark.parametrize(("name", "content"), [
    ("", '{% include "./a.html" %}'), ("", '{% extends "../a.html" %}'), ("a/b.html", '{% include "../../x.html" %}'),
])
def test_relative_include_is_a_form_error_not_a_crash(name, content):
    from ace_admin.content.safety import check_template_source

    with pytest.raises(ValidationError) as refused:
        check_template_source(content, name)
    assert "relative" in " ".join(refused.value.messages)


@pytest.mark.parametrize(("content", "expected"), [
    ("ok\n{{ name|pprint|no_such }}", "Line 2"),
    ("{% csrf_token %}", "not allowed"),
    ("{% include name %}", "in quotes"),
    ("{% lorem 999999999 w %}", "over the limit"),
])
def test_refused_at_save_with_the_line(content, expected):
    with pytest.raises(ValidationError) as refused:
        Template.objects.create(name=BODY, content=content)
    assert expected in " ".join(refused.value.messages)


# --- ordinary features ----------------------------------------------------------------------------------------------


def test_ordinary_features_work(db_template):
    db_template("ace_admin_tests/db_base.html",
                "<h1>{% block title %}Base {{ name }}{% endblock %}</h1>{% block rest %}{% endblock %}",
                published=True)
    db_template(BODY, '{% extends "ace_admin_tests/db_base.html" %}{% load i18n %}'
                      "{% block title %}{{ block.super }}!{% endblock %}{% block rest %}"
                      "{% for a in articles %}{{ forloop.counter }}:{{ a.title|upper }}"
                      "{% if forloop.last %}.{% endif %}{% endfor %}"
                      "{{ when|date:'Y-m-d' }} {{ when.year }} {{ amount|floatformat:1 }} {{ d.items|length }}"
                      "{% with n=articles|length %}{% blocktranslate count c=n %}one{% plural %}{{ c }} items"
                      "{% endblocktranslate %}{% endwith %}"
                      "{% for k, v in d.items %}[{{ k }}={{ v }}]{% endfor %}{{ message.recipient.email_address }}"
                      " {{ channel.channel_type }} {{ message.uuid.hex|length }}"
                      '{% include "ace_admin_tests/footer.html" %}{% endblock %}', published=True)
    context = {"name": "Ann", "articles": [{"title": "a"}, {"title": "b"}], "amount": Decimal("2.25"),
               "when": datetime.datetime(2024, 5, 1, tzinfo=datetime.UTC), "d": {"x": 1}}
    _, email = send_email(make_message(context=context))
    assert ("<h1>Base Ann!</h1>1:A2:B.2024-05-01 2024 2.3 12 items[x=1]ann@example.com"
            " email 32FILE-FOOTER") in html_of(email)


def test_lazy_objects_render_as_what_they_wrap():
    # SimpleLazyObject passes isinstance() checks for what it wraps; the sandbox used to fail on it.
    template = GuardedTemplate("{{ name|upper }}|{{ name }}|{{ d.k }}|{{ d.items|length }}|{{ p }}|{{ p.read_text }}",
                               engine=engines["django"].engine)
    context = {"name": SimpleLazyObject(lambda: "Ann"), "d": SimpleLazyObject(lambda: {"k": 1}),
               "p": SimpleLazyObject(lambda: Path("/etc/hostname"))}
    assert template.render(Context(context)) == "ANN|Ann|1|1||"


def test_file_template_extending_db_template_and_the_reverse(db_template):
    # DB child of a file parent: the file's block renders with full semantics, the DB block sandboxed.
    db_template(BODY, '{% extends "ace_admin_tests/base_with_block.html" %}{% block content %}'
                      "[{{ block.super }}|{{ path.name }}]{% endblock %}", published=True)
    _, email = send_email(make_message(context={"path": Path("/tmp/x.txt")}))
    assert "<main>[file content Ann|]</main>" in html_of(email)
    # A file template extending a DB template: the file's own nodes keep full Django semantics.
    db_template("ace_admin_tests/db_parent.html", "<b>{% block content %}db {{ path.name }}{% endblock %}</b>",
                published=True)
    engine = engines["django"].engine
    child = engine.from_string('{% extends "ace_admin_tests/db_parent.html" %}{% block content %}'
                               "{{ block.super }} file {{ path.name }}{% endblock %}")
    assert child.render(Context({"path": Path("/tmp/x.txt")})) == "<b>db  file x.txt</b>"


def test_get_action_links_works_with_the_channel_view():
    from ace_admin.content.sandbox import guard

    channel = channels().get_channel_by_name(channels().get_default_channel(
        __import__("ace.channel", fromlist=["ChannelType"]).ChannelType.EMAIL).channel_type, "django_email")
    template = GuardedTemplate("{% load acetags %}{% get_action_links channel as links %}{{ links|length }}",
                               engine=engines["django"].engine)
    expected = len(channel.get_action_links(message=None))
    assert template.render(Context({"channel": channel, "message": None})) == str(expected)
    assert guard(channel).get_action_links() == channel.get_action_links()


# --- demo templates render exactly as before ---------------------------------------------------------------------


def _demo_cases():
    rows = json.loads(Path("fixtures/demo.json").read_text())
    samples = {(row["fields"]["app_label"], row["fields"]["name"]): row["fields"].get("sample_context") or {}
               for row in rows if row["model"] == "ace_admin.messagetype"}
    cases = []
    for row in rows:
        if row["model"] == "ace_admin.template":
            name = row["fields"]["name"]
            app_label, _, rest = name.partition("/edx_ace/")
            cases.append((name, row["fields"]["content"], samples.get((app_label, rest.split("/")[0]), {})))
    for path in sorted(Path("templates").rglob("*")):
        if path.is_file() and path.suffix in (".html", ".txt"):
            name = str(path.relative_to("templates"))
            app_label, _, rest = name.partition("/edx_ace/")
            cases.append((name, path.read_text(), samples.get((app_label, rest.split("/")[0]), {})))
    return cases


@pytest.mark.parametrize(("name", "source", "sample"), _demo_cases(), ids=lambda value: str(value)[:60])
def test_demo_templates_render_byte_identical(name, source, sample):
    from ace.channel import ChannelType

    engine = engines["django"].engine
    channel = channels().get_default_channel(ChannelType.EMAIL)
    message = make_message(context=sample)
    context = {**sample, "channel": channel, "message": message}
    plain = engine.from_string(source).render(Context(dict(context)))
    sandboxed = GuardedTemplate(source, engine=engine).render(Context(dict(context)))
    assert sandboxed == plain


def test_message_types_of_the_demo_still_send(demo):
    for message_type in MessageType.objects.filter(app_label="demo"):
        message = make_message(message_type.name, app_label="demo", context=message_type.sample_context)
        result, email = send_email(message)
        assert result[0].status is DeliveryStatus.SENT, (message_type.name, result[0].error)


def test_the_preview_names_a_refused_variable(client, editor, demo):
    template = Template.objects.filter(name__endswith="/email/body.html").order_by("pk").first()
    response = client.post(reverse("admin:ace_admin_template_preview", args=[template.pk]), {
        "_ace_preview": "1", "name": template.name, "language": template.language, "site": "",
        "content": "<p>{{ channel.deliver }}</p>"})
    assert "{{ channel.deliver }} is not available in templates edited here" in response.content.decode()
