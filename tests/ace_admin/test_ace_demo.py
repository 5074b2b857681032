"""``manage.py ace_demo``: the demo administrator login that `make demo` prints."""

import re
from io import StringIO

import pytest
from django.contrib.auth import authenticate, get_user_model
from django.core.management import CommandError, call_command
from django.db import connection

from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def run_demo(*args: str) -> tuple[str, str]:
    """Run ace_demo (allowed on any database) and return (printed output, printed password)."""
    out = StringIO()
    call_command("ace_demo", "--force", *args, stdout=out)
    text = out.getvalue()
    match = re.search(r"Password:\s+(\S+)", text)
    assert match, text
    return text, match.group(1)


def test_creates_a_superuser_whose_printed_login_works():
    text, password = run_demo("--port", "8123")
    assert "http://127.0.0.1:8123/admin/" in text
    user = authenticate(username="admin", password=password)
    assert user is not None and user.is_superuser and user.is_staff


def test_running_again_replaces_the_password_and_keeps_one_user():
    _, first = run_demo()
    _, second = run_demo()
    assert first != second
    assert authenticate(username="admin", password=first) is None
    assert authenticate(username="admin", password=second) is not None
    assert get_user_model().objects.filter(username="admin").count() == 1


def test_refuses_to_promote_an_ordinary_user():
    user = UserFactory(username="admin", email="a@example.org", password="kept-password-1")
    with pytest.raises(CommandError, match="not a superuser"):
        run_demo()
    user.refresh_from_db()
    assert not user.is_superuser
    assert user.check_password("kept-password-1")


def test_without_force_it_only_runs_on_sqlite():
    out = StringIO()
    if connection.vendor == "sqlite":
        call_command("ace_demo", stdout=out)
        assert get_user_model().objects.filter(username="admin", is_superuser=True).exists()
    else:
        with pytest.raises(CommandError, match="refuses"):
            call_command("ace_demo", stdout=out)
        assert not get_user_model().objects.filter(username="admin").exists()


def test_rejects_a_port_out_of_range():
    with pytest.raises(CommandError, match="--port 70000"):
        run_demo("--port", "70000")
    assert not get_user_model().objects.exists()
