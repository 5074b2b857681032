"""``manage.py ace_demo``: an administrator login for the local demo, printed with the admin URL."""

from __future__ import annotations

import os
import secrets

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import DEFAULT_DB_ALIAS, connections

from ace.settings import ace_settings


class Command(BaseCommand):
    help = (
        "Create the demo administrator (or give it a new generated password) and print the admin URL "
        "and login. Meant for `make demo` on a local SQLite database."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="admin", help="Login name of the demo administrator.")
        parser.add_argument("--email", default="admin@example.org", help="Email address of the administrator.")
        parser.add_argument("--host", default="127.0.0.1", help="Host the site is served on (for the URL).")
        parser.add_argument(
            "--port", type=int, default=int(os.environ.get("PORT") or 8000), help="Port the site is served on."
        )
        parser.add_argument(
            "--force", action="store_true",
            help="Also run against a database that is not SQLite (it resets a superuser's password).",
        )

    def handle(self, *args, username: str, email: str, host: str, port: int, force: bool, **options):
        vendor = connections[DEFAULT_DB_ALIAS].vendor
        # A demo login with a printed password must not appear in a real deployment by accident.
        if vendor != "sqlite" and not force:
            raise CommandError(
                f"The database is {vendor}, not the demo's SQLite file: ace_demo resets a superuser's "
                "password, so it refuses. Use --force if this really is a demo database."
            )
        if not 1 <= port <= 65535:
            raise CommandError(f"--port {port}: expected a port number between 1 and 65535.")
        user_model = get_user_model()
        user = user_model._default_manager.filter(**{user_model.USERNAME_FIELD: username}).first()
        if user is not None and not user.is_superuser:
            raise CommandError(
                f"A user {username!r} exists and is not a superuser; ace_demo will not promote it. "
                "Pick another name with --username."
            )
        password = secrets.token_urlsafe(12)
        if user is None:
            user = user_model._default_manager.create_superuser(
                **{user_model.USERNAME_FIELD: username, "email": email, "password": password}
            )
            action = "Created"
        else:
            user.set_password(password)
            user.is_active = True
            user.save(update_fields=["password", "is_active"])
            action = "Reset the password of"

        shown_host = f"[{host}]" if ":" in host else host
        outbox = ace_settings.ACE_CHANNEL_FILE_PATH
        where = "printed on the console" if outbox in (None, "", "-") else f"written to {outbox}"
        self.stdout.write(self.style.SUCCESS(f"{action} the demo administrator {username!r}."))
        self.stdout.write("")
        self.stdout.write(f"  Admin:     http://{shown_host}:{port}/admin/")
        self.stdout.write(f"  Username:  {username}")
        self.stdout.write(f"  Password:  {password}")
        self.stdout.write("")
        self.stdout.write(f"  Emails sent through the file_email channel are {where}.")
        self.stdout.write("")
