from django.core import mail

from ace import Message, Recipient, send


def test_send_renders_and_delivers_one_email(tmp_path, settings):
    (tmp_path / "demo/edx_ace/hi/email").mkdir(parents=True)
    (tmp_path / "demo/edx_ace/hi/email/subject.txt").write_text("Hi {{ name }}\n")
    (tmp_path / "demo/edx_ace/hi/email/body.html").write_text("<p>Hello {{ name }}</p>")
    settings.TEMPLATES = [{"BACKEND": "django.template.backends.django.DjangoTemplates", "DIRS": [tmp_path]}]
    message = Message(app_label="demo", name="hi", recipient=Recipient(1, "a@example.com"), context={"name": "Ann"})
    result = send(message)
    assert result.sent
    assert [(m.to, m.subject) for m in mail.outbox] == [(["a@example.com"], "Hi Ann")]
