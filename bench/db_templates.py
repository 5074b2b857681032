"""The "DB templates" benchmark row: the same message type with its templates stored in ace_admin's database.

The row sends through ``ace.send`` exactly like the filesystem row, but with a template engine whose
loaders put ace_admin's DB loader in front of the cached file loaders (as config/settings.py does), and
the bench templates copied into ``ace_admin.Template`` rows. The engine is swapped in only while the
row runs, so the floor and the other rows keep their plain file loaders. The version stamp lives in a
file-based cache, as in the default project settings. ace_admin's signal receivers (delivery log...)
are disconnected: the row measures where templates come from, nothing else.
"""

from __future__ import annotations

import contextlib
import tempfile
from pathlib import Path

BENCH_TEMPLATES = Path(__file__).resolve().parent / "templates"


def _create_tables() -> None:
    # Only the tables the loader reads (no migrations: the bench database is in memory and minimal).
    from django.contrib.auth.models import Group, Permission, User
    from django.contrib.contenttypes.models import ContentType
    from django.contrib.sites.models import Site
    from django.db import connection

    from ace_admin.models import MessageType, Template, TemplateRevision

    with connection.schema_editor() as editor:
        # SQLite wants every table a foreign key names, even when the key is left empty.
        for model in (ContentType, Permission, Group, User, Site, MessageType, Template, TemplateRevision):
            editor.create_model(model)


def _store_templates() -> int:
    from ace_admin.models import Template

    count = 0
    for path in sorted(BENCH_TEMPLATES.rglob("*")):
        if path.is_file():
            Template.objects.create(name=str(path.relative_to(BENCH_TEMPLATES)), content=path.read_text())
            count += 1
    return count


def _quiet_ace_admin_receivers() -> None:
    from ace.signals import ACE_MESSAGE_OUTCOMES, ACE_MESSAGE_SENT

    for signal in (ACE_MESSAGE_OUTCOMES, ACE_MESSAGE_SENT):
        for key, *_ in list(signal.receivers):
            uid = key[0]
            if isinstance(uid, str) and uid.startswith("ace_admin"):
                signal.disconnect(dispatch_uid=uid)


def db_template_sender(make_sender):
    """Set up the DB templates and return a sender like ``make_sender()`` that runs with the DB loader."""
    from django.conf import settings
    from django.template import engines
    from django.template.backends.django import DjangoTemplates

    from ace_admin import stamp

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
                                   "LOCATION": tempfile.mkdtemp(prefix="ace-bench-cache-")}}
    _quiet_ace_admin_receivers()
    _create_tables()
    stored = _store_templates()
    if stored < 6:
        raise SystemExit(f"Only {stored} bench templates were stored in the database.")
    config = {key: value for key, value in settings.TEMPLATES[0].items() if key != "BACKEND"}
    options = dict(config.get("OPTIONS", {}))
    options["loaders"] = ["ace_admin.content.loader.Loader", *options["loaders"]]
    db_engine = DjangoTemplates({"DIRS": [], "APP_DIRS": False, **config, "NAME": "django", "OPTIONS": options})
    inner = make_sender()

    @contextlib.contextmanager
    def db_loader_engine():
        saved = engines._engines
        engines._engines = {"django": db_engine}
        try:
            yield
        finally:
            engines._engines = saved

    def run(recipients):
        with db_loader_engine():
            served = db_engine.engine.find_template("bench/edx_ace/weekly_digest/email/body.html")[1]
            if not served.name.startswith("ace_admin.Template:"):
                raise SystemExit("The DB templates row is not reading templates from the database.")
            return inner(recipients)

    stamp.bump_templates()
    return run
