"""The default survey policy: a CSAT right away for every chat."""

from django.db import migrations

NAME = "Chats: CSAT right away"


def seed(apps, schema_editor):
    SurveyPolicy = apps.get_model("surveys", "SurveyPolicy")
    if not SurveyPolicy.objects.filter(team=None, channel="chat").exists():
        SurveyPolicy.objects.create(
            name=NAME, team=None, channel="chat", kind="csat", delay_minutes=0, sampling_percent=100, active=True
        )


def unseed(apps, schema_editor):
    apps.get_model("surveys", "SurveyPolicy").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [("surveys", "0001_initial")]

    operations = [migrations.RunPython(seed, unseed)]
