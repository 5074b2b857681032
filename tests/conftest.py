"""Fixtures shared by the whole suite (other test packages reuse ``smtp_server`` and ``smtp_settings``).

Rows are built with the factories of tests/factories.py."""

import pytest
from hypothesis import settings as hypothesis_settings

from ace.settings import reload_all
from tests.smtp import SmtpServer

# Property tests check behaviour, not speed: on a busy CI machine one slow example must not fail a test
# (Hypothesis's default per-example deadline is 200 ms). Every example is still run and checked.
hypothesis_settings.register_profile("ace", deadline=None)
hypothesis_settings.load_profile("ace")


@pytest.fixture(autouse=True)
def _fresh_ace_settings():
    """Every test starts from the settings file, whatever an earlier test cached."""
    reload_all()
    yield
    reload_all()


@pytest.fixture(autouse=True)
def _fresh_ace_admin_stamp():
    """Rolled-back test transactions do not bump ace_admin's shared stamp: bump around each test so no
    process-level cache keeps rows of an earlier test. (Imported here, not at the top: the engine's tests
    run without ace_admin's modules until a test needs them; the stamp lives in Django's cache, no database.)"""
    from ace_admin import stamp

    stamp.bump_templates()
    yield
    stamp.bump_templates()


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


@pytest.fixture
def media_root(settings, tmp_path):
    """Uploaded files (image assets) go to a fresh folder; returns it."""
    settings.MEDIA_ROOT = str(tmp_path / "media")
    return tmp_path / "media"


def load_demo() -> dict:
    """Load the demo fixture (message types with sample data, French DB templates, routes, a cap, an opt-out);
    returns its message types by name. For the ``demo`` fixtures of tests/preview (``db``) and tests/e2e
    (``transactional_db``)."""
    from django.core.management import call_command

    from ace_admin.models import MessageType

    call_command("loaddata", "fixtures/demo.json", verbosity=0)
    return {message_type.name: message_type for message_type in MessageType.objects.filter(app_label="demo")}
