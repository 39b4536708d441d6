"""Member.specialties through an explicit link table with the fewest structures that
serve it: primary key (member, specialty) instead of a surrogate id (and its sequence)
plus a unique constraint and an index on member; one index on specialty; both
database foreign keys kept.

Django cannot add `through=` to an existing many-to-many field, so the state gets the
new model and the altered field, while the database gets the new table
(members_memberspecialty), every link copied over, and the old automatic table
(members_member_specialties) dropped. Backwards the old table comes back, as Django
made it, with the links copied back."""

import django.db.models.deletion
from django.db import migrations, models

OLD = "members_member_specialties"
NEW = "members_memberspecialty"


def _old_table(apps):
    """The automatic link model, as the state before this migration has it."""
    return apps.get_model("members", "Member")._meta.get_field("specialties").remote_field.through


def drop_old_table(apps, schema_editor):
    schema_editor.delete_model(_old_table(apps))


def create_old_table(apps, schema_editor):
    schema_editor.create_model(_old_table(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0009_member_blind_indexes_plain"),
    ]

    member_specialty = migrations.CreateModel(
        name="MemberSpecialty",
        fields=[
            (
                "pk",
                models.CompositePrimaryKey(
                    "member",
                    "specialty",
                    blank=True,
                    editable=False,
                    primary_key=True,
                    serialize=False,
                ),
            ),
            (
                "member",
                models.ForeignKey(
                    db_index=False,
                    on_delete=django.db.models.deletion.CASCADE,
                    to="members.member",
                ),
            ),
            (
                "specialty",
                models.ForeignKey(
                    on_delete=django.db.models.deletion.CASCADE,
                    to="members.specialty",
                ),
            ),
        ],
    )

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                member_specialty,
                migrations.AlterField(
                    model_name="member",
                    name="specialties",
                    field=models.ManyToManyField(
                        blank=True,
                        related_name="members",
                        through="members.MemberSpecialty",
                        to="members.specialty",
                        verbose_name="特长",
                    ),
                ),
            ],
            database_operations=[
                member_specialty,
                migrations.RunSQL(
                    f"INSERT INTO {NEW} (member_id, specialty_id)"
                    f" SELECT DISTINCT member_id, specialty_id FROM {OLD}",
                    f"INSERT INTO {OLD} (member_id, specialty_id)"
                    f" SELECT member_id, specialty_id FROM {NEW}",
                ),
                migrations.RunPython(drop_old_table, create_old_table),
            ],
        ),
    ]
