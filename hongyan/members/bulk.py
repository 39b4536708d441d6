"""Fast inserts for the register's big jobs (the demo city, imports of 100,000 rows).

Django's bulk_create spends most of its time compiling SQL per object; here rows are
plain tuples sent with executemany, and primary keys are handed out up front (under a
table lock) so that child rows can point at their members without reading them back.
Call inside a transaction."""

from itertools import islice

from django.core.management.color import no_style
from django.db import connection
from django.db.models import Max
from django.utils import timezone

# the register's columns in the order the demo generator and the importer build rows
MEMBER_COLUMNS = [
    "id",
    "unit",
    "compound",
    "building",
    "entrance",
    "room",
    "name",
    "gender",
    "ethnicity",
    "birth_date",
    "id_number_enc",
    "id_number_index",
    "mobile_enc",
    "mobile_index",
    "category",
    "joined_on",
    "party_org",
    "work_unit",
    "work_unit_org",
    "status",
    "education",
    "profession",
    "plate",
    "note",
    "generated",
    "created_at",
    "updated_at",
]


def _batched(rows, size):
    it = iter(rows)
    while chunk := list(islice(it, size)):
        yield chunk


def lock(model) -> None:
    """Keep other writers out of the table until the transaction ends (PostgreSQL;
    SQLite's IMMEDIATE transactions already hold the database's write lock)."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"LOCK TABLE {connection.ops.quote_name(model._meta.db_table)} IN EXCLUSIVE MODE"
            )


def next_id(model) -> int:
    return (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1


def insert(model, columns: list[str], rows, batch: int = 2000) -> int:
    """INSERT rows (tuples of database-ready values, in `columns` order)."""
    qn = connection.ops.quote_name
    cols = ", ".join(qn(model._meta.get_field(c).column) for c in columns)
    count = 0
    if connection.vendor == "postgresql":  # COPY: one stream instead of a round trip a row
        with (
            connection.cursor() as cursor,
            cursor.cursor.copy(f"COPY {qn(model._meta.db_table)} ({cols}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    marks = ", ".join(["%s"] * len(columns))
    sql = f"INSERT INTO {qn(model._meta.db_table)} ({cols}) VALUES ({marks})"
    with connection.cursor() as cursor:
        for chunk in _batched(rows, batch):
            cursor.executemany(sql, chunk)
            count += len(chunk)
    return count


def reset_sequence(*models) -> None:
    """After inserting explicit ids, move PostgreSQL's sequences past them."""
    statements = connection.ops.sequence_reset_sql(no_style(), list(models))
    if statements:
        with connection.cursor() as cursor:
            for sql in statements:
                cursor.execute(sql)


def db_date(value):
    return connection.ops.adapt_datefield_value(value)


def db_now():
    return connection.ops.adapt_datetimefield_value(timezone.now())


def db_datetime(value):
    return connection.ops.adapt_datetimefield_value(value)
