"""``manage.py ace_erase_recipient <email or user id>``: erase a person's data, keep a hashed suppression."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from ace_admin.privacy.erasure import erase_recipient


class Command(BaseCommand):
    help = ("Erase a recipient's personal data from ACE (delivery log, audiences, opt-outs, suppressions), "
            "keeping only a fingerprint so they are not subscribed again.")

    def add_arguments(self, parser):
        parser.add_argument("identifier", nargs="+", help="Email address or platform user id (several allowed).")

    def handle(self, *args, identifier, **options):
        for value in identifier:
            try:
                report = erase_recipient(value)
            except ValidationError as error:
                raise CommandError("; ".join(error.messages))
            # The identifier is not echoed back: the output may end up in logs.
            self.stdout.write(f"Erased: {report}")
