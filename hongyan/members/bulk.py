"""Fast inserts for the register's big jobs (the demo city, imports of 100,000 rows).

Django's bulk_create spends most of its time compiling SQL per object; here rows are
plain tuples sent with executemany, and primary keys are handed out up front (under a
table lock) so that child rows can point at their members without reading them back.
Call inside a transaction."""

import gc
import queue
import sqlite3
import threading
from contextlib import contextmanager
from datetime import date
from itertools import chain, islice

from django.core.management.color import no_style
from django.db import connection
from django.db.models import Max
from django.utils import timezone

from hongyan.core import pii, sealing

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


def check_constraints_at_once() -> None:
    """PostgreSQL checks this transaction's foreign keys as each row goes in (while the
    importing thread prepares the next slice) instead of all at COMMIT, when nothing
    else runs: the same checks, moved to where they overlap. (Our keys are DEFERRABLE
    INITIALLY DEFERRED, as Django makes them.)"""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")


@contextmanager
def write_cache(mb: int = 16):
    """A bigger page cache for one big write on SQLite (the default 2 MB spills the
    random-order blind-index and search-key B-trees to disk again and again)."""
    if connection.vendor != "sqlite":
        yield
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        (before,) = cursor.fetchone()
        cursor.execute(f"PRAGMA cache_size = -{int(mb) * 1024}")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"PRAGMA cache_size = {int(before)}")


_gc_pause = {"jobs": 0, "was_enabled": True}
_gc_lock = threading.Lock()


@contextmanager
def gc_paused():
    """No cyclic garbage collection while a big job builds its rows. An import holds
    100,000 rows of dicts and lists; every automatic collection walks all of them, and
    the collections come ever more often as they grow (≈ a third of an import's time).
    Reference counting still frees everything as usual; what cycles appear meanwhile
    are collected once the last job running ends (the switch is process-wide)."""
    with _gc_lock:
        if _gc_pause["jobs"] == 0:
            _gc_pause["was_enabled"] = gc.isenabled()
            gc.disable()
        _gc_pause["jobs"] += 1
    try:
        yield
    finally:
        with _gc_lock:
            _gc_pause["jobs"] -= 1
            if _gc_pause["jobs"] == 0 and _gc_pause["was_enabled"]:
                gc.enable()


def next_id(model) -> int:
    return (model._base_manager.aggregate(m=Max("pk"))["m"] or 0) + 1  # removed rows too


def insert(model, columns: list[str], rows, batch: int = 2000) -> int:
    """INSERT rows (tuples of database-ready values, in `columns` order)."""
    with connection.cursor() as cursor:
        return _insert(cursor.cursor, model, columns, rows, batch)


def _insert(raw_cursor, model, columns: list[str], rows, batch: int = 2000) -> int:
    """The insert itself, on a DB-API cursor (no Django wrapper: the Writer's thread)."""
    qn = connection.ops.quote_name
    cols = ", ".join(qn(model._meta.get_field(c).column) for c in columns)
    count = 0
    if connection.vendor == "postgresql":  # COPY: one stream instead of a round trip a row
        with raw_cursor.copy(f"COPY {qn(model._meta.db_table)} ({cols}) FROM STDIN") as copy:
            if isinstance(rows, bytes):  # already in COPY's text format (Writer.put)
                copy.write(rows)
                return rows.count(b"\n")
            for row in rows:
                copy.write_row(row)
                count += 1
        return count
    # SQLite: many rows a statement (as many as its parameter limit allows). executemany
    # would take the GIL back after every row, so a Writer thread would wait for the main
    # thread's Python row after row; one statement inserts its rows without the GIL.
    limit = raw_cursor.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    per_statement = max(1, min(batch, limit // len(columns)))
    row_marks = "(" + ", ".join(["?"] * len(columns)) + ")"
    into = f"INSERT INTO {qn(model._meta.db_table)} ({cols}) VALUES "
    statements: dict[int, str] = {}
    for chunk in _batched(rows, per_statement):
        n = len(chunk)
        if n not in statements:
            statements[n] = into + ", ".join([row_marks] * n)
        raw_cursor.execute(statements[n], list(chain.from_iterable(chunk)))
        count += n
    return count


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def _copy_field(value) -> str:
    if value is None:
        return "\\N"
    if type(value) is str:
        return value.translate(_COPY_ESCAPES)
    if type(value) is bool:
        return "t" if value else "f"
    if isinstance(value, date):  # datetimes too
        return value.isoformat()
    return str(value)


def copy_text(rows) -> bytes:
    """Rows (tuples of database-ready values) in PostgreSQL's COPY text format."""
    return "".join(["\t".join(map(_copy_field, row)) + "\n" for row in rows]).encode()


class Writer:
    """Inserts slices of rows in a second thread while the caller prepares the next slice
    (encryption, blind indexes, pinyin keys): the database's work — SQLite's B-trees,
    which run with the GIL released, or the PostgreSQL server's — overlaps Python's.

    It writes on the caller's own connection, inside the caller's transaction, so all or
    nothing still holds; the caller must not use the connection until `close()` (or
    between `idle()` and the next `put()`). An
    error in the thread is raised again by `put()` or `close()`.

        with Writer() as writer:
            writer.put([(Member, MEMBER_COLUMNS, rows), (MemberSearchKey, [...], keys)])
    """

    def __init__(self, depth: int = 2):
        connection.ensure_connection()
        self._raw = connection.connection
        self._queue: queue.Queue = queue.Queue(maxsize=depth)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="bulk-writer", daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, kind, exc, tb):
        if kind is None:
            self.close()
        else:  # stop the thread; the caller's transaction rolls back
            self._stop()

    def _run(self):
        cursor = self._raw.cursor()
        try:
            while True:
                jobs = self._queue.get()
                try:
                    if jobs is None:
                        return
                    if self._error is None:  # after an error, slices are only drained
                        for model, columns, rows in jobs:
                            _insert(cursor, model, columns, rows, batch=5000)
                except BaseException as exc:  # noqa: BLE001 — handed to the caller
                    self._error = exc
                finally:
                    self._queue.task_done()
        finally:
            cursor.close()

    def _raise(self):
        if self._error is not None:
            raise self._error

    def put(self, jobs) -> None:
        self._raise()
        if connection.vendor == "postgresql":
            # formatted here, so that the thread only waits on the server (without the
            # GIL) instead of formatting row by row against this thread's Python
            jobs = [(model, columns, copy_text(rows)) for model, columns, rows in jobs]
        self._queue.put(jobs)

    def idle(self) -> None:
        """Wait until every slice put so far is written: the connection is the caller's
        again until the next `put()` (a rare ORM write in the middle of a big one)."""
        self._queue.join()
        self._raise()

    def _stop(self):
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()

    def close(self) -> None:
        self._stop()
        self._raise()


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


# --- personal data for many rows at once ------------------------------------------------
# sealing's classes under the configured field keys


class Indexer:
    """Blind indexes for one purpose: `current(v)` to store, `every(v)` to look up."""

    def __init__(self, purpose: str):
        self._indexes = [sealing.Index(pii._index_key(k.key, purpose)) for k in pii.field_keys()]
        self.current = self._indexes[0]

    def every(self, value: str) -> list[str]:
        return [index(value) for index in self._indexes]


class Encryptor(sealing.Encryptor):
    """SM4-GCM under the current field key, for one field (`aad`)."""

    def __init__(self, aad: str):
        key = pii.current_key()
        super().__init__(key.kid, key.key, aad)


def row_sealer(big: bool, *, id_aad: str, mobile_aad: str, mobile_purpose: str):
    """Seals an import's ID numbers and mobiles slice by slice (sealing.row_sealer)."""
    key = pii.current_key()
    return sealing.row_sealer(
        big,
        key.kid,
        key.key,
        id_aad=id_aad,
        mobile_aad=mobile_aad,
        mobile_index_key=pii._index_key(key.key, mobile_purpose),
    )
