"""The audit chain's start anchor (for purges), and on PostgreSQL a trigger that refuses
UPDATE and DELETE on the audit table — except a DELETE inside a transaction that set
`SET LOCAL hongyan.audit_purge = 'on'`, which only `purge_audit` does."""

from django.db import migrations, models

GUARD = """
CREATE OR REPLACE FUNCTION hongyan_audit_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' AND current_setting('hongyan.audit_purge', true) = 'on' THEN
        RETURN OLD;
    END IF;
    RAISE EXCEPTION 'the audit log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS core_auditentry_append_only ON core_auditentry;
CREATE TRIGGER core_auditentry_append_only
    BEFORE UPDATE OR DELETE ON core_auditentry
    FOR EACH ROW EXECUTE FUNCTION hongyan_audit_append_only();
"""

UNGUARD = """
DROP TRIGGER IF EXISTS core_auditentry_append_only ON core_auditentry;
DROP FUNCTION IF EXISTS hongyan_audit_append_only();
"""


def guard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(GUARD, params=None)


def unguard(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(UNGUARD, params=None)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0002_rate_counter"),
    ]

    operations = [
        migrations.AddField(
            model_name="audithead",
            name="first_prev_hash",
            field=models.CharField(default="0" * 64, max_length=64),
        ),
        migrations.AddField(
            model_name="audithead",
            name="first_seq",
            field=models.PositiveBigIntegerField(default=1),
        ),
        migrations.RunPython(guard, unguard),
    ]
