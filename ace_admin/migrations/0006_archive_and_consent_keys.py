"""Issue 9: nothing destroys history or consent by accident.

Opt-outs are keyed by the message type's natural key (app_label + name) instead of a foreign key that
cascaded: existing opt-outs get the natural key of their message type (data migration, reversible while
the message type exists). History (template versions, delivery log, campaign runs) now PROTECTs what it
refers to; message types, templates and campaigns get an "archived" flag.
"""

import ace_admin.validators
import django.db.models.deletion
from django.db import migrations, models


def _keys_from_foreign_key(apps, schema_editor):
    OptOut = apps.get_model("ace_admin", "OptOut")
    for opt_out in OptOut.objects.filter(message_type__isnull=False).select_related("message_type").iterator():
        OptOut.objects.filter(pk=opt_out.pk).update(app_label=opt_out.message_type.app_label,
                                                    message_name=opt_out.message_type.name)


def _foreign_key_from_keys(apps, schema_editor):
    OptOut = apps.get_model("ace_admin", "OptOut")
    MessageType = apps.get_model("ace_admin", "MessageType")
    types = {(t.app_label, t.name): t.pk for t in MessageType.objects.all()}
    for opt_out in OptOut.objects.exclude(message_name="").iterator():
        pk = types.get((opt_out.app_label, opt_out.message_name))
        if pk is None:
            # The old schema could only name a message type that exists: the opt-out cannot go back.
            raise RuntimeError(f"Opt-out #{opt_out.pk} names {opt_out.app_label}.{opt_out.message_name}, which no "
                               "longer exists: create it before migrating back.")
        OptOut.objects.filter(pk=opt_out.pk).update(message_type_id=pk)


class Migration(migrations.Migration):

    dependencies = [
        ('ace_admin', '0005_roles'),
    ]

    operations = [
        migrations.AddField(
            model_name='campaign',
            name='archived',
            field=models.BooleanField(default=False, help_text='Archived campaigns keep their runs and delivery log, are unscheduled, cannot be run and are hidden from the list by default. A campaign that has run is archived instead of deleted.', verbose_name='archived'),
        ),
        migrations.AddField(
            model_name='messagetype',
            name='archived',
            field=models.BooleanField(default=False, help_text='Archived message types are kept with their history but never sent (the delivery log records each message not sent) and hidden from the list by default. A message type that has history is archived instead of deleted.', verbose_name='archived'),
        ),
        migrations.AddField(
            model_name='optout',
            name='app_label',
            field=models.CharField(blank=True, help_text="With 'message name': stop only this message type (e.g. 'demo' and 'newsletter').", max_length=100, verbose_name='message type: application'),
        ),
        migrations.AddField(
            model_name='optout',
            name='message_name',
            field=models.CharField(blank=True, help_text="With 'application': stop only this message type. Leave both blank for a category or for all.", max_length=150, verbose_name='message type: name'),
        ),
        migrations.AddField(
            model_name='template',
            name='archived',
            field=models.BooleanField(default=False, help_text='Archived templates keep their history, are never sent (they are unpublished) and are hidden from the list by default. A template with saved versions is archived instead of deleted.', verbose_name='archived'),
        ),
        migrations.AlterField(
            model_name='campaignrun',
            name='campaign',
            field=models.ForeignKey(help_text='The campaign this run belongs to.', on_delete=django.db.models.deletion.PROTECT, related_name='runs', to='ace_admin.campaign', verbose_name='campaign'),
        ),
        migrations.AlterField(
            model_name='channelroute',
            name='message_type',
            field=models.ForeignKey(blank=True, help_text='Only this message type. Leave blank for any.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='routes', to='ace_admin.messagetype', verbose_name='message type'),
        ),
        migrations.AlterField(
            model_name='deliverylog',
            name='campaign_run',
            field=models.ForeignKey(blank=True, help_text='The campaign run that sent it, if any.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='deliveries', to='ace_admin.campaignrun', verbose_name='campaign run'),
        ),
        migrations.AlterField(
            model_name='deliverylog',
            name='message_type',
            field=models.ForeignKey(blank=True, help_text='The message type, when it is known in the admin.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='deliveries', to='ace_admin.messagetype', verbose_name='message type'),
        ),
        migrations.AlterField(
            model_name='messagetype',
            name='from_address',
            field=models.CharField(blank=True, help_text="Sender shown to recipients, e.g. 'Example Courses <news@example.org>'. Blank: the site default.", max_length=255, validators=[ace_admin.validators.validate_sender_address], verbose_name='from address'),
        ),
        migrations.AlterField(
            model_name='messagetype',
            name='reply_to',
            field=models.CharField(blank=True, help_text='Where replies go. Blank: back to the sender.', max_length=255, validators=[ace_admin.validators.validate_sender_address], verbose_name='reply-to address'),
        ),
        migrations.AlterField(
            model_name='messagetype',
            name='sample_context',
            field=models.JSONField(blank=True, default=dict, help_text='Example values (JSON) used to preview the templates, e.g. {"user_name": "Ada"}.', validators=[ace_admin.validators.validate_json_object], verbose_name='sample data for preview'),
        ),
        migrations.AlterField(
            model_name='policyrule',
            name='message_type',
            field=models.ForeignKey(blank=True, help_text='Only this message type. Leave blank for any.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='policy_rules', to='ace_admin.messagetype', verbose_name='message type'),
        ),
        migrations.AlterField(
            model_name='template',
            name='message_type',
            field=models.ForeignKey(blank=True, help_text='The message this template belongs to (filled in from the template name). Empty for layouts.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='templates', to='ace_admin.messagetype', verbose_name='message type'),
        ),
        migrations.AlterField(
            model_name='templaterevision',
            name='template',
            field=models.ForeignKey(help_text='The template this is a version of.', on_delete=django.db.models.deletion.PROTECT, related_name='revisions', to='ace_admin.template', verbose_name='template'),
        ),
        migrations.RunPython(_keys_from_foreign_key, _foreign_key_from_keys),
        migrations.RemoveField(
            model_name='optout',
            name='message_type',
        ),
    ]
