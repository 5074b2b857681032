"""Create the "ACE editors" and "ACE managers" groups (``manage.py ace_groups`` re-applies them)."""

from django.contrib.auth.management import create_permissions
from django.db import migrations


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations ran; the groups need them now.
    app_config = apps.get_app_config("ace_admin")
    app_config.models_module = True  # AppConfigStub: lets create_permissions run during migrate
    create_permissions(app_config, apps=apps, verbosity=0)
    from ace_admin.groups import apply_groups

    apply_groups(apps.get_model("auth", "Group"), apps.get_model("auth", "Permission"))


def remove_groups(apps, schema_editor):
    from ace_admin.groups import GROUPS

    apps.get_model("auth", "Group").objects.filter(name__in=list(GROUPS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("ace_admin", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
