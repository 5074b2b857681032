"""Safe templates: DB templates render the message context but never a secret, and stop beyond size/time limits."""

from __future__ import annotations

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.template import Context, Variable, VariableDoesNotExist

from ace import presentation
from ace.channel import channels
from ace.outcome import DeliveryStatus
from ace.settings import reload_all
from ace_admin.models import DeliveryLog, Template
from tests.ace_admin.conftest import html_of, make_message, send_email
from tests.factories import TemplateFactory, UserFactory

pytestmark = pytest.mark.django_db

BODY = "ace_admin_tests/edx_ace/welcome/email/body.html"
SECRETS = {
    "SECRET_KEY": "planted-django-secret-key-0001",
    "ACE_CHANNEL_SAILTHRU_API_KEY": "planted-sailthru-key-0002",
    "ACE_CHANNEL_SAILTHRU_API_SECRET": "planted-sailthru-secret-0003",
    "ACE_CHANNEL_BRAZE_API_KEY": "planted-braze-key-0004",
    "EMAIL_HOST_PASSWORD": "planted-smtp-password-0005",
}
OTHER_USER_EMAIL = "someone-else-0006@example.org"


@pytest.fixture
def planted(settings):
    for name, value in SECRETS.items():
        setattr(settings, name, value)
    settings.ACE_CHANNEL_SAILTHRU_TEMPLATE_NAME = "welcome-template"
    settings.ACE_CHANNEL_BRAZE_APP_ID = "app"
    settings.ACE_CHANNEL_BRAZE_REST_ENDPOINT = "http://127.0.0.1:9"
    settings.ACE_ENABLED_CHANNELS = ["django_email", "sailthru_email", "braze_email"]
    reload_all()
    UserFactory(username="other", email=OTHER_USER_EMAIL, password="planted-password-0007")
    return [*SECRETS.values(), OTHER_USER_EMAIL, "planted-password-0007"]


# Mutators of dicts/lists: calling them proves nothing about secrets and would change the message mid-render.
MUTATORS = {"clear", "pop", "popitem", "update", "setdefault", "append", "extend", "remove", "insert", "reverse",
            "sort", "add", "discard"}


def _public(obj) -> list[str]:
    return [name for name in dir(obj) if not name.startswith("_") and name not in MUTATORS]


def probe_template(message, channel) -> str:
    """``{{ a.b.c }}`` for every public attribute path (three levels) from what the context exposes, plus
    the usual guesses for settings and users."""
    paths = []
    for root, obj in (("channel", channel), ("message", message)):
        for first in _public(obj):
            paths.append(f"{root}.{first}")
            value = getattr(obj, first, None)
            if callable(value) or value is None:
                continue
            for second in _public(value):
                paths.append(f"{root}.{first}.{second}")
                inner = getattr(value, second, None)
                if callable(inner) or inner is None or isinstance(inner, str):
                    continue
                paths += [f"{root}.{first}.{second}.{third}" for third in _public(inner)]
    guesses = ["settings", "settings.SECRET_KEY", "request", "user", "user.password", "users", "perms",
               "csrf_token", "sql_queries", "channel.settings", "channel.api_key", "channel.api_secret",
               "channel.client", "message.options", "message.context", "message.recipient"]
    return "\n".join(f"[{path}]={{{{ {path} }}}}" for path in paths + guesses if _renders(path, channel, message))


def _renders(path, channel, message) -> bool:
    """Leave out lookups that raise (e.g. ``message.uuid.int.to_bytes``: a method needing arguments that
    Django calls without), so the probe renders every path that does resolve."""
    try:
        Variable(path).resolve(Context({"channel": channel, "message": message}))
    except VariableDoesNotExist:
        return True
    except Exception:
        return False
    return True


def delivered_text(email) -> str:
    return "\n".join([email.subject, email.body, html_of(email), str(email.extra_headers)])


def test_templates_cannot_reach_secrets_through_the_context(planted):
    message = make_message(context={"note": "own context is fine"})
    channel = channels().get_channel_by_name(message_channel_type(), "django_email")
    TemplateFactory(name=BODY, content=probe_template(message, channel) + "\n{{ note }}")
    _, email = send_email(message)
    text = delivered_text(email)
    assert "own context is fine" in text and "[channel.name]=django_email" in text
    for secret in planted:
        assert secret not in text


def test_no_channel_exposes_its_credentials_to_templates(planted):
    """Render (without sending) for each provider channel, whose credentials are planted in settings."""
    message = make_message()
    for name in ("sailthru_email", "braze_email", "django_email"):
        channel = channels().get_channel_by_name(message_channel_type(), name)
        Template.objects.update_or_create(name=BODY, language="", site=None,
                                          defaults={"content": probe_template(message, channel)})
        rendered = presentation.render(channel, message)
        text = f"{rendered.subject}\n{rendered.body_html}\n{rendered.body}"
        assert f"[channel.name]={name}" in text
        for secret in planted:
            assert secret not in text, (name, secret)


def message_channel_type():
    from ace.channel import ChannelType

    return ChannelType.EMAIL


@pytest.mark.parametrize(("content", "expected"), [
    ("Hello\n{% debug %}", "Line 2: the {% debug %} tag is not allowed"),
    ("{% load log %}{% get_admin_log 10 as entries %}{{ entries }}", "{% load log %} is not allowed"),
    ("{% load cache from cache %}", "{% load cache %} is not allowed"),
    ("One\nTwo\n{% if %}", "Line 3: Unexpected end of expression in if tag."),
    ("{{ name|no_such_filter }}", "Invalid filter: 'no_such_filter'"),
    ("{% for x in y %}\nno end", "Line 1: Unclosed tag on line 1: 'for'"),
])
def test_invalid_or_unsafe_templates_are_refused_on_save_and_nothing_is_stored(content, expected):
    with pytest.raises(ValidationError) as caught:
        Template.objects.create(name=BODY, content=content)
    assert expected in " ".join(caught.value.messages)
    assert not Template.objects.exists()
    with pytest.raises(ValidationError) as caught:
        Template(name=BODY, content=content).full_clean()
    assert expected in " ".join(caught.value.messages)


def test_a_forbidden_tag_written_around_validation_is_not_rendered():
    TemplateFactory(name=BODY, content="fine")
    with connection.cursor() as cursor:  # bypasses the model, as an old release or raw SQL might
        cursor.execute("UPDATE ace_admin_template SET content = %s", ["{% debug %}"])
    from ace_admin.stamp import bump_templates

    bump_templates()
    message = make_message()
    result, email = send_email(message)
    assert email is None and result[0].status is DeliveryStatus.TEMPLATE_ERROR
    assert "debug" in DeliveryLog.objects.get(message_uuid=message.uuid).error


@pytest.mark.parametrize("content", [
    "{% for i in rows %}{{ chunk }}{% endfor %}",           # many small pieces
    '{{ chunk|ljust:"3000000" }}',                           # one huge piece
    '{% for i in rows %}{% include "ace_admin_tests/footer.html" %}{{ chunk }}{% endfor %}',
])
def test_a_template_rendering_megabytes_is_stopped_and_nothing_is_sent(content):
    TemplateFactory(name=BODY, content=content)
    message = make_message(context={"rows": list(range(5000)), "chunk": "x" * 1000})
    result, email = send_email(message)
    assert email is None and len(mail.outbox) == 0
    assert result[0].status is DeliveryStatus.TEMPLATE_ERROR
    row = DeliveryLog.objects.get(message_uuid=message.uuid)
    assert row.status == "template_error"
    # Whichever limit comes first: the text, the width (capped up front) or the number of includes.
    assert any(reason in row.error for reason in ("KiB of text; stopped", "over the limit", "too many times"))


def test_a_template_taking_too_long_is_stopped(settings):
    settings.ACE_ADMIN_TEMPLATE_MAX_SECONDS = 0.05
    settings.ACE_ADMIN_TEMPLATE_MAX_NODES = 10**9  # the clock, not the node count, must stop this one
    # 4000 x 4000 loop turns: far longer than the limit if nothing stopped it.
    TemplateFactory(name=BODY, content="{% for a in rows %}{% for b in rows %}{% endfor %}{% endfor %}")
    message = make_message(context={"rows": list(range(4000))})
    result, email = send_email(message)
    assert email is None and result[0].status is DeliveryStatus.TEMPLATE_ERROR
    assert "to render; stopped" in DeliveryLog.objects.get(message_uuid=message.uuid).error


def test_a_template_within_limits_renders_normally():
    TemplateFactory(name=BODY, content="{% for i in rows %}{{ i }},{% endfor %}")
    _, email = send_email(make_message(context={"rows": list(range(100))}))
    assert "0,1,2," in html_of(email) and "99," in html_of(email)
