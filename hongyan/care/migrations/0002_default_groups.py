from django.db import migrations

# code, name, default visit interval in days, a group of children
GROUPS = (
    ("elderly_alone", "独居老人", 7, False),
    ("elderly_couple", "高龄空巢老人（夫妇）", 30, False),
    ("disabled", "残疾人", 30, False),
    ("dibao", "低保户", 30, False),
    ("tekun", "特困户", 30, False),
    ("left_behind_child", "留守儿童", 30, True),
    ("other", "其他", 30, False),
)


def add(apps, schema_editor):
    Group = apps.get_model("care", "CareGroup")
    for position, (code, name, days, children) in enumerate(GROUPS, start=1):
        Group.objects.get_or_create(
            code=code,
            defaults={
                "name": name,
                "interval_days": days,
                "children": children,
                "position": position,
            },
        )


class Migration(migrations.Migration):
    dependencies = [("care", "0001_initial")]

    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
