from django.db import migrations

SPECIALTIES = (
    "法律", "医疗", "水电维修", "教育", "文艺", "书法", "宣传", "摄影", "心理咨询", "财会",
    "计算机", "驾驶", "厨艺", "理发", "家电维修", "体育", "老年服务", "蒙古语翻译",
)


def add(apps, schema_editor):
    Specialty = apps.get_model("members", "Specialty")
    for position, name in enumerate(SPECIALTIES, start=1):
        Specialty.objects.get_or_create(name=name, defaults={"position": position})


class Migration(migrations.Migration):
    dependencies = [("members", "0001_initial")]
    operations = [migrations.RunPython(add, migrations.RunPython.noop)]
