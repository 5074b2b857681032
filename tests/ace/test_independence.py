"""The engine stands alone: ``ace`` never imports ``ace_admin``, and sends in a project without it."""

import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

SCRIPT = textwrap.dedent("""
    import pkgutil, sys, importlib
    import django
    from django.conf import settings

    settings.configure(
        INSTALLED_APPS=["django.contrib.contenttypes", "ace", "tests"],
        DATABASES={},
        EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        DEFAULT_FROM_EMAIL="hello@example.org",
        TEMPLATES=[{"BACKEND": "django.template.backends.django.DjangoTemplates", "APP_DIRS": True}],
        ACE_ENABLED_CHANNELS=["django_email"],
        ACE_ENABLED_POLICIES=[],
    )
    django.setup()
    import ace, edx_ace
    for module in pkgutil.walk_packages(ace.__path__, "ace."):
        importlib.import_module(module.name)
    from django.core import mail
    from edx_ace import ace as api
    from edx_ace.message import Message
    from edx_ace.recipient import Recipient
    api.send(Message(app_label="tests", name="emailonly", recipient=Recipient(1, "a@example.com"),
                     context={"first_name": "Ann"}))
    assert [m.subject for m in mail.outbox] == ["Email only for Ann"], mail.outbox
    loaded = sorted(name for name in sys.modules if name.split(".")[0] == "ace_admin")
    assert not loaded, loaded
    print("ok")
""")


def test_engine_never_imports_ace_admin_and_sends_without_it():
    result = subprocess.run([sys.executable, "-c", SCRIPT], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
