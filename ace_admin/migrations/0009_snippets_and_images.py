"""Snippets (a proxy of Template) and uploaded images; the staff groups get their permissions on both, FROZEN here
(added to what the groups hold, so other migrations' changes to the groups are kept)."""

import django.db.models.deletion
from django.contrib.auth.management import create_permissions
from django.conf import settings
from django.db import migrations, models

FROZEN_ADDITIONS = {
    "ACE editors": ["view_snippet", "add_snippet", "change_snippet",
                    "view_imageasset", "add_imageasset", "change_imageasset"],
    "ACE managers": ["view_snippet", "add_snippet", "change_snippet", "delete_snippet",
                     "view_imageasset", "add_imageasset", "change_imageasset", "delete_imageasset"],
}


def add_permissions(apps, schema_editor):
    app_config = apps.get_app_config("ace_admin")
    app_config.models_module = True  # AppConfigStub: lets create_permissions run during migrate
    create_permissions(app_config, apps=apps, verbosity=0)
    Group, Permission = apps.get_model("auth", "Group"), apps.get_model("auth", "Permission")
    for name, codenames in FROZEN_ADDITIONS.items():
        group = Group.objects.filter(name=name).first()
        if group is not None:
            group.permissions.add(*Permission.objects.filter(content_type__app_label="ace_admin",
                                                             codename__in=codenames))


def remove_permissions(apps, schema_editor):
    Group, Permission = apps.get_model("auth", "Group"), apps.get_model("auth", "Permission")
    for name, codenames in FROZEN_ADDITIONS.items():
        for group in Group.objects.filter(name=name):
            group.permissions.remove(*Permission.objects.filter(content_type__app_label="ace_admin",
                                                                codename__in=codenames))


class Migration(migrations.Migration):

    dependencies = [
        ('ace_admin', '0012_drop_disabled_status'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='Snippet',
            fields=[
            ],
            options={
                'verbose_name': 'snippet',
                'verbose_name_plural': 'snippets',
                'proxy': True,
                'indexes': [],
                'constraints': [],
            },
            bases=('ace_admin.template',),
        ),
        migrations.CreateModel(
            name='ImageAsset',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('file', models.FileField(help_text='Where the image is stored (named after its content).', max_length=255, unique=True, upload_to='', verbose_name='file')),
                ('sha256', models.CharField(editable=False, help_text='SHA-256 of the file: the same image uploaded twice is stored once.', max_length=64, unique=True, verbose_name='content hash')),
                ('original_name', models.CharField(blank=True, help_text='The file name it was uploaded with.', max_length=255, verbose_name='uploaded as')),
                ('content_type', models.CharField(help_text='The image type found in the file itself.', max_length=50, verbose_name='type')),
                ('width', models.PositiveIntegerField(help_text='Width in pixels.', verbose_name='width')),
                ('height', models.PositiveIntegerField(help_text='Height in pixels.', verbose_name='height')),
                ('size', models.PositiveIntegerField(help_text='Size in bytes.', verbose_name='size')),
                ('alt_text', models.CharField(blank=True, help_text='What the image shows, for people who cannot see it and for mail clients that block images. Suggested when the image is inserted.', max_length=255, verbose_name='description (alt text)')),
                ('created_at', models.DateTimeField(auto_now_add=True, help_text='When it was uploaded.', verbose_name='uploaded')),
                ('uploaded_by', models.ForeignKey(blank=True, help_text='Who uploaded it.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='uploaded by')),
            ],
            options={
                'verbose_name': 'image',
                'verbose_name_plural': 'images',
                'ordering': ['-created_at'],
            },
        ),
        migrations.RunPython(add_permissions, remove_permissions),
    ]
