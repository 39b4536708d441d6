"""The search-key table with the fewest structures that serve it: primary key
(member, key) instead of a surrogate id plus a unique constraint, one index on `key`
(varchar_pattern_ops on PostgreSQL, plain on SQLite) instead of a plain and a `_like`
one, and no database foreign key (the table is rebuilt from Member.name by the code
that writes it; the ORM still cascades a member's deletion).

Migrations cannot turn a primary key into a composite one, so the table is dropped,
created again and refilled from every member's name (removed members included, as
before)."""

import django.db.models.deletion
from django.db import migrations, models

from hongyan.core.pinyin import search_keys

BATCH = 2000


def rebuild_search_keys(apps, schema_editor):
    """Every member's keys from its name, as services.write_search_keys writes them.
    Used forwards on the new table and backwards on the old one."""
    Member = apps.get_model("members", "Member")
    MemberSearchKey = apps.get_model("members", "MemberSearchKey")
    db = schema_editor.connection.alias
    members = Member._base_manager.using(db).order_by("pk").values_list("pk", "name")
    last = 0
    while batch := list(members.filter(pk__gt=last)[:BATCH]):
        MemberSearchKey._base_manager.using(db).bulk_create(
            [
                MemberSearchKey(member_id=pk, key=key)
                for pk, name in batch
                for key in dict.fromkeys(k[:60] for k in search_keys(name))
            ],
            batch_size=5000,
        )
        last = batch[-1][0]


class Migration(migrations.Migration):
    dependencies = [
        ("members", "0007_member_removal"),
    ]

    operations = [
        # backwards this runs last, when the old table is back (empty): refill it
        migrations.RunPython(migrations.RunPython.noop, rebuild_search_keys),
        migrations.DeleteModel(name="MemberSearchKey"),
        migrations.CreateModel(
            name="MemberSearchKey",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "member",
                        "key",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                (
                    "member",
                    models.ForeignKey(
                        db_constraint=False,
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="search_keys",
                        to="members.member",
                    ),
                ),
                ("key", models.CharField(max_length=60)),
            ],
            options={
                # Django writes the operator class on PostgreSQL only (its schema
                # editor's _index_columns); on SQLite this is a plain index on key
                "indexes": [
                    models.Index(
                        fields=["key"],
                        name="search_key_prefix",
                        opclasses=["varchar_pattern_ops"],
                    )
                ],
            },
        ),
        migrations.RunPython(rebuild_search_keys, migrations.RunPython.noop),
    ]
