"""``manage.py ace_groups``: (re)create the ACE staff groups (editors, managers, privacy officers) from the live
definition in ``ace_admin.groups``."""

from django.apps import apps
from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand

from ace_admin.groups import apply_groups


class Command(BaseCommand):
    help = ("Create or repair the ACE staff groups from the live definition in ace_admin.groups "
            "(their permissions are reset).")

    def handle(self, *args, **options):
        create_permissions(apps.get_app_config("ace_admin"), verbosity=0)
        for name, count in apply_groups(Group, Permission).items():
            self.stdout.write(f"{name}: {count} permissions")
