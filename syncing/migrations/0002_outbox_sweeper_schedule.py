"""The outbox sweeper's schedule, created once as a django-celery-beat PeriodicTask.

A data migration rather than CELERY_BEAT_SCHEDULE or code at start-up: the row is created
exactly once, so what staff change in the admin (interval, enabled) is never overwritten when
beat or a worker restarts, and nothing queries the database while apps load.
"""

from django.db import migrations

TASK_NAME = "syncing: sweep outbox"


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    PeriodicTask.objects.get_or_create(
        name=TASK_NAME,
        defaults={
            "task": "syncing.sweep_outbox",
            "interval": every_minute,
            "description": "Delivers outbox messages that are due (retries, and any whose "
            "on-commit task was lost) and recovers messages of dead workers.",
        },
    )


def delete_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=TASK_NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("syncing", "0001_initial"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, delete_schedule)]
