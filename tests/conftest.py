"""Fixtures shared by the whole suite (other test packages reuse ``smtp_server`` and ``smtp_settings``)."""

import pytest

from ace.settings import reload_all
from tests.smtp import SmtpServer


@pytest.fixture(autouse=True)
def _fresh_ace_settings():
    """Every test starts from the settings file, whatever an earlier test cached."""
    reload_all()
    yield
    reload_all()


@pytest.fixture(scope="session")
def _smtp_server_session():
    with SmtpServer() as server:
        yield server


@pytest.fixture
def smtp_server(_smtp_server_session):
    """A real SMTP server on 127.0.0.1 (see tests/smtp.py), empty and unscripted for each test."""
    _smtp_server_session.reset()
    yield _smtp_server_session
    _smtp_server_session.reset()


@pytest.fixture
def smtp_settings(settings, smtp_server):
    """Point Django's SMTP email backend at ``smtp_server``; returns the server."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST = smtp_server.host
    settings.EMAIL_PORT = smtp_server.port
    settings.EMAIL_USE_TLS = False
    settings.EMAIL_USE_SSL = False
    settings.EMAIL_HOST_USER = ""
    settings.EMAIL_HOST_PASSWORD = ""
    settings.EMAIL_TIMEOUT = 10
    return smtp_server


@pytest.fixture
def file_channel_dir(settings, tmp_path):
    """Make the file channels (file_email, file_push) write into a fresh directory; returns it."""
    folder = tmp_path / "ace-files"
    settings.ACE_CHANNEL_FILE_PATH = str(folder)
    return folder
