"""``manage.py ace_ingest_bounces PATH``: record the bounces (RFC 3464) and complaints (RFC 5965 ARF) in a Maildir
or an mbox file, e.g. the mailbox of the bounce domain's catch-all. Safe to run again over the same mail: each
report is recorded once."""

from __future__ import annotations

import mailbox
import os

from django.core.management.base import BaseCommand, CommandError

from ace_admin.events import bounces
from ace_admin.events.ingest import ingest


class Command(BaseCommand):
    help = "Record the bounces and spam complaints in a Maildir or mbox (delivery events, suppressions)."

    def add_arguments(self, parser):
        parser.add_argument("path", help="a Maildir (folder with cur/ new/ tmp/) or an mbox file")
        parser.add_argument("--delete", action="store_true", help="remove each message once it is recorded")

    def handle(self, path, delete=False, **options):
        if os.path.isdir(path):
            box = mailbox.Maildir(path, factory=None, create=False)
        elif os.path.isfile(path):
            box = mailbox.mbox(path, create=False)
        else:
            raise CommandError(f"{path} is neither a Maildir nor an mbox file.")
        reports = found = recorded = 0
        box.lock()
        try:
            for key in list(box.keys()):
                items = bounces.parse(box.get_bytes(key))
                reports += 1
                found += len(items)
                recorded += ingest(items) if items else 0
                if delete:
                    box.remove(key)
            box.flush()
        finally:
            box.unlock()
            box.close()
        self.stdout.write(f"{reports} messages read, {found} events found, {recorded} new events recorded.")
