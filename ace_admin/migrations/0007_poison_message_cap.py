"""Issue 9: the poison-message cap. A campaign batch counts the workers that stopped on the same message, and
``send_message`` counts its deliveries by task id, both committed before the work starts (see ace_admin.tasks)."""

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ace_admin', '0006_archive_and_consent_keys'),
    ]

    operations = [
        migrations.CreateModel(
            name='TaskDelivery',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('task_id', models.CharField(help_text='The Celery task id.', max_length=255, unique=True, verbose_name='task id')),
                ('task_name', models.CharField(help_text="The task's name.", max_length=200, verbose_name='task')),
                ('deliveries', models.PositiveIntegerField(default=0, help_text='How many times a worker started it.', verbose_name='deliveries')),
                ('first_at', models.DateTimeField(auto_now_add=True, help_text='When a worker first started it.', verbose_name='first started')),
                ('last_at', models.DateTimeField(blank=True, help_text='When a worker last started it.', null=True, verbose_name='last started')),
            ],
            options={
                'verbose_name': 'task delivery',
                'verbose_name_plural': 'task deliveries',
            },
        ),
        migrations.AddField(
            model_name='campaignbatch',
            name='deliveries',
            field=models.PositiveIntegerField(default=0, help_text='Internal: how many workers took it since it last finished or paused.', verbose_name='deliveries'),
        ),
        migrations.AddField(
            model_name='campaignbatch',
            name='suspect',
            field=models.UUIDField(blank=True, help_text='Internal: the message being sent when a worker holding it stopped.', null=True, verbose_name='message in doubt'),
        ),
        migrations.AddField(
            model_name='campaignbatch',
            name='suspect_deaths',
            field=models.PositiveIntegerField(default=0, help_text='Internal: how many workers stopped on that message.', verbose_name='stops on that message'),
        ),
    ]
