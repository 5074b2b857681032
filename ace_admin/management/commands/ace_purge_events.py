"""``manage.py ace_purge_events``: drop the raw payloads of events older than ACE_EVENTS_RAW_PAYLOAD_DAYS (the
events and counters stay). Also a Celery task, ``ace_admin.events.tasks.purge_raw_payloads``, for beat."""

from django.core.management.base import BaseCommand

from ace_admin.events.purge import purge_raw_payloads


class Command(BaseCommand):
    help = "Forget the raw provider payloads of old delivery events (ACE_EVENTS_RAW_PAYLOAD_DAYS)."

    def handle(self, **options):
        self.stdout.write(f"{purge_raw_payloads()} raw payloads removed.")
