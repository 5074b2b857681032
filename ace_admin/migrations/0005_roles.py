"""Least-privilege roles: custom permissions, and the three staff groups with their permissions FROZEN here.

Never import the live ``ace_admin.groups`` from here: it changes later, a migration must not. ``manage.py
ace_groups`` re-applies the live definition.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

_CRUD = ("view", "add", "change", "delete")
_OPERATIONS = ["channelroute", "policyrule", "optout", "audience", "audiencemember", "campaign"]
FROZEN_GROUPS = {
    "ACE editors": {
        "messagetype": ("view", "add", "change"),
        "template": ("view", "add", "change"),
        "templaterevision": ("view",),
        "deliverylog": ("view",),
        "campaign": ("view",),
        "campaignrun": ("view",),
        "audience": ("view",),
    },
    "ACE managers": {
        "messagetype": (*_CRUD, "change_sending"),
        "template": (*_CRUD, "publish_template"),
        "templaterevision": ("view",),
        **{model: _CRUD for model in _OPERATIONS},
        "campaignrun": ("view", "change"),
        "deliverylog": ("view", "view_recipient_address"),
        "suppression": ("view", "add", "change"),
    },
    "ACE privacy officers": {
        "deliverylog": ("view", "view_recipient_address"),
        "optout": ("view", "delete", "export_optout"),
        "suppression": ("view", "erase_recipient"),
        "audience": ("view",),
        "audiencemember": ("view",),
    },
}


def _codenames(models):
    return sorted({action if "_" in action else f"{action}_{model}" for model, actions in models.items()
                   for action in actions})


def set_groups(apps, schema_editor):
    app_config = apps.get_app_config("ace_admin")
    app_config.models_module = True  # AppConfigStub: lets create_permissions run during migrate
    create_permissions(app_config, apps=apps, verbosity=0)
    Group, Permission = apps.get_model("auth", "Group"), apps.get_model("auth", "Permission")
    for name, models in FROZEN_GROUPS.items():
        wanted = _codenames(models)
        permissions = list(Permission.objects.filter(content_type__app_label="ace_admin", codename__in=wanted))
        missing = set(wanted) - {p.codename for p in permissions}
        if missing:
            raise RuntimeError(f"Permissions missing for {name}: {', '.join(sorted(missing))}")
        group, _ = Group.objects.get_or_create(name=name)
        group.permissions.set(permissions)


def remove_privacy_officers(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="ACE privacy officers").delete()


class Migration(migrations.Migration):

    dependencies = [
        ('ace_admin', '0004_campaigns'),
    ]

    operations = [
        migrations.AlterModelOptions(
            name='deliverylog',
            options={'ordering': ['-created_at', '-id'], 'permissions': [('view_recipient_address', "Can see recipients' addresses unmasked")], 'verbose_name': 'delivery log entry', 'verbose_name_plural': 'delivery log'},
        ),
        migrations.AlterModelOptions(
            name='messagetype',
            options={'ordering': ['app_label', 'name'], 'permissions': [('change_sending', 'Can change the sender, reply-to, transactional flag and seed addresses')], 'verbose_name': 'message type', 'verbose_name_plural': 'message types'},
        ),
        migrations.AlterModelOptions(
            name='optout',
            options={'ordering': ['-created_at'], 'permissions': [('export_optout', 'Can export opt-outs')], 'verbose_name': 'opt-out', 'verbose_name_plural': 'opt-outs'},
        ),
        migrations.AlterModelOptions(
            name='suppression',
            options={'ordering': ['-created_at', '-id'], 'permissions': [('erase_recipient', "Can erase a person's personal data")], 'verbose_name': 'suppressed address', 'verbose_name_plural': 'suppressed addresses'},
        ),
        migrations.AlterModelOptions(
            name='template',
            options={'ordering': ['name', 'language', 'site_id'], 'permissions': [('publish_template', 'Can publish and unpublish templates')], 'verbose_name': 'template', 'verbose_name_plural': 'templates'},
        ),
        migrations.RunPython(set_groups, remove_privacy_officers),
    ]
