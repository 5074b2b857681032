"""The loopback SMTP server other tests rely on (tests/smtp.py) does what it is scripted to."""

import smtplib

import pytest


def _send(server, to, body="Subject: hi\r\n\r\nhello\r\n"):
    with smtplib.SMTP(server.host, server.port, timeout=10) as client:
        return client.sendmail("from@example.org", to, body)


def test_records_envelope_and_parsed_message(smtp_server):
    _send(smtp_server, ["a@example.com", "b@example.com"])
    [received] = smtp_server.messages
    assert (received.mail_from, received.rcpt_tos) == ("from@example.org", ["a@example.com", "b@example.com"])
    assert received.message["Subject"] == "hi" and received.text.strip() == "hello"
    assert smtp_server.received_by("B@example.com") == [received]


def test_refuse_rcpt_for_an_address_n_times(smtp_server):
    smtp_server.refuse_rcpt("a@example.com", "450 4.2.1 busy", times=1)
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        _send(smtp_server, ["a@example.com"])
    assert refused.value.recipients["a@example.com"][0] == 450
    _send(smtp_server, ["a@example.com"])
    assert len(smtp_server.messages) == 1


def test_refuse_rcpt_partially_keeps_the_others(smtp_server):
    smtp_server.refuse_rcpt("bad@example.com")
    refused = _send(smtp_server, ["bad@example.com", "good@example.com"])
    assert refused == {"bad@example.com": (550, b"5.1.1 No such user")}
    assert [m.rcpt_tos for m in smtp_server.messages] == [["good@example.com"]]


def test_refuse_next_rcpt_and_next_data(smtp_server):
    smtp_server.refuse_next_rcpt("421 4.7.0 later")
    with pytest.raises(smtplib.SMTPRecipientsRefused):
        _send(smtp_server, ["a@example.com"])
    smtp_server.refuse_next_data("451 4.3.0 later", count=2)
    for _ in range(2):
        with pytest.raises(smtplib.SMTPDataError) as error:
            _send(smtp_server, ["a@example.com"])
        assert error.value.smtp_code == 451
    _send(smtp_server, ["a@example.com"])
    assert len(smtp_server.messages) == 1
    assert [kind for kind, _ in smtp_server.attempts].count("DATA") == 3


def test_refuse_data_for_an_address(smtp_server):
    smtp_server.refuse_data_for("a@example.com", "554 5.7.1 no")
    with pytest.raises(smtplib.SMTPDataError):
        _send(smtp_server, ["a@example.com"])
    _send(smtp_server, ["b@example.com"])
    assert [m.rcpt_tos for m in smtp_server.messages] == [["b@example.com"]]


def test_reset_between_tests(smtp_server):
    assert smtp_server.messages == [] and smtp_server.attempts == []


def test_smtp_settings_point_django_at_the_server(smtp_settings, settings):
    from django.core.mail import send_mail

    assert (settings.EMAIL_HOST, settings.EMAIL_PORT) == (smtp_settings.host, smtp_settings.port)
    send_mail("Subject", "Body", "from@example.org", ["x@example.com"])
    assert [m.rcpt_tos for m in smtp_settings.messages] == [["x@example.com"]]
