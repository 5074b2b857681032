"""Create the "ACE editors" and "ACE managers" groups as they were first defined.

Self-contained: the permission lists are frozen here (importing the live ``ace_admin.groups`` from a migration
breaks ``migrate`` on a fresh database as soon as the live groups change). 0005 sets today's roles.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

_CONTENT = ["messagetype", "template"]
_OPERATIONS = ["channelroute", "policyrule", "optout"]
FROZEN_GROUPS = {
    "ACE editors": {
        **{model: ("view", "add", "change") for model in _CONTENT},
        "templaterevision": ("view",),
        "deliverylog": ("view",),
    },
    "ACE managers": {
        **{model: ("view", "add", "change", "delete") for model in _CONTENT + _OPERATIONS},
        "templaterevision": ("view",),
        "deliverylog": ("view",),
    },
}


def create_groups(apps, schema_editor):
    # Permissions are normally created after all migrations ran; the groups need them now.
    app_config = apps.get_app_config("ace_admin")
    app_config.models_module = True  # AppConfigStub: lets create_permissions run during migrate
    create_permissions(app_config, apps=apps, verbosity=0)
    Group, Permission = apps.get_model("auth", "Group"), apps.get_model("auth", "Permission")
    for name, models in FROZEN_GROUPS.items():
        wanted = [f"{action}_{model}" for model, actions in models.items() for action in actions]
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(Permission.objects.filter(content_type__app_label="ace_admin", codename__in=wanted))


def remove_groups(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name__in=list(FROZEN_GROUPS)).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("ace_admin", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
