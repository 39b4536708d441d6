from django.db import migrations


def seed(apps, schema_editor):
    from hongyan.workdays.seed import seed as seed_days

    seed_days(apps.get_model("workdays", "CalendarDay"), apps.get_model("workdays", "CalendarYear"))


class Migration(migrations.Migration):
    dependencies = [("workdays", "0001_initial")]

    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
