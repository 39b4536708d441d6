from django.db import migrations

# the source's kinds first (网格先锋队, 法律援助队, 知识科普宣讲队, 暖心小分队)
KINDS = (
    "网格先锋队",
    "法律援助队",
    "知识科普宣讲队",
    "暖心小分队",
    "文明实践队",
    "平安巡逻队",
    "环境整治队",
)


def add(apps, schema_editor):
    TeamKind = apps.get_model("volunteers", "TeamKind")
    for position, name in enumerate(KINDS, start=1):
        TeamKind.objects.get_or_create(name=name, defaults={"position": position})


class Migration(migrations.Migration):
    dependencies = [("volunteers", "0001_initial")]

    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
