"""``manage.py ace_sync``: register the message types the platform's code defines, so the admin lists them all."""

from django.core.management.base import BaseCommand
from django.db import transaction

from ace_admin.content import discovery
from ace_admin.models import MessageType


class Command(BaseCommand):
    help = ("Register every MessageType subclass of the installed apps and every message type that has template "
            "files ({app_label}/edx_ace/{name}/{channel}/{part}). Existing message types are left as edited in "
            "the admin. Safe to run on every deploy.")

    def handle(self, *args, **options):
        found: dict[tuple[str, str], str] = {}
        for cls in discovery.message_type_classes():
            identity = discovery.message_type_identity(cls)
            found.setdefault(identity, " ".join((cls.__doc__ or "").split()))
        files = discovery.file_templates()
        for item in files:
            found.setdefault((item.app_label, item.message_name), "")
        created = 0
        with transaction.atomic():
            for (app_label, name), description in sorted(found.items()):
                obj, was_created = MessageType.objects.get_or_create(
                    app_label=app_label, name=name,
                    defaults={"description": description, "source": MessageType.SOURCE_CODE})
                if was_created:
                    created += 1
                    self.stdout.write(f"registered {obj}")
        self.stdout.write(f"{len(found)} message types in code ({created} new), {len(files)} template files.")
