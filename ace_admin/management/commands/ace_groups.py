"""``manage.py ace_groups``: (re)create the "ACE editors" and "ACE managers" groups with their permissions."""

from django.contrib.auth.management import create_permissions
from django.contrib.auth.models import Group, Permission
from django.core.management.base import BaseCommand

from ace_admin.groups import apply_groups


class Command(BaseCommand):
    help = 'Create or repair the "ACE editors" and "ACE managers" groups (their permissions are reset).'

    def handle(self, *args, **options):
        from django.apps import apps

        create_permissions(apps.get_app_config("ace_admin"), verbosity=0)
        for name, count in apply_groups(Group, Permission).items():
            self.stdout.write(f"{name}: {count} permissions")
