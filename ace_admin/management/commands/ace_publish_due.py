"""``manage.py ace_publish_due``: publish the scheduled template versions whose time has come (what beat's
``publish_due_templates`` entry does every minute), for a cron job or a set-up without beat."""

from django.core.management.base import BaseCommand

from ace_admin.content import publishing


class Command(BaseCommand):
    help = "Publish the template versions whose scheduled publish time has come."

    def handle(self, *args, **options):
        for pk, outcome in publishing.publish_due():
            self.stdout.write(f"template {pk}: {outcome}")
