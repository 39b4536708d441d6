"""Encrypted backups: `hongyan backup -o FILE` and `hongyan restore FILE`.

The dump is PostgreSQL's `pg_dump -Fc` or SQLite's online backup API (a consistent copy
while the site runs). It is encrypted with SM4-CTR and authenticated with HMAC-SM3
(encrypt-then-MAC over the header and the ciphertext), streamed in 1 MiB chunks, under
`HONGYAN_BACKUP_KEY` — a key of its own, kept apart from the data and from the other
keys, so a stolen database server does not also give away its backups.

File layout: `HYBACKUP` magic, a 4-byte header length, the header (JSON: format version,
key id, database vendor, row counts per table, when), the SM4-CTR ciphertext, and the
32-byte HMAC-SM3 tag. A restore checks the tag over the whole file before touching the
database, so a wrong key or a truncated file changes nothing.
"""

import base64
import json
import os
import sqlite3
import struct
import subprocess
import tempfile
from pathlib import Path

from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.db import connection
from django.utils import timezone

MAGIC = b"HYBACKUP"
VERSION = 1
CHUNK = 1 << 20
TAG_SIZE = 32


class BackupError(Exception):
    """A clear, one-line reason the backup or the restore did not happen."""


def _keys() -> tuple[str, bytes, bytes]:
    """(key id, SM4 key, HMAC key) from HONGYAN_BACKUP_KEY."""
    try:
        raw = base64.b64decode(settings.BACKUP_KEY, validate=True)
    except ValueError:
        raw = b""
    if not settings.BACKUP_KEY:
        raise BackupError(
            "HONGYAN_BACKUP_KEY is not set: give the backup key (base64 of 16 bytes) to "
            "this command; keep it apart from the server's data and from the backups."
        )
    if len(raw) != 16:
        raise BackupError(
            "HONGYAN_BACKUP_KEY is not base64 of 16 bytes: make one with "
            "`python -c 'import base64,secrets; print(base64.b64encode(secrets.token_bytes(16)).decode())'`."
        )

    def derive(purpose: bytes) -> bytes:
        mac = hmac.HMAC(raw, hashes.SM3())
        mac.update(purpose)
        return mac.finalize()

    return derive(b"key-id").hex()[:16], derive(b"sm4-ctr")[:16], derive(b"hmac-sm3")


def row_counts() -> dict[str, int]:
    tables = sorted(connection.introspection.table_names())
    counts = {}
    with connection.cursor() as cursor:
        for table in tables:
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def _pg_env() -> tuple[list[str], dict]:
    db = settings.DATABASES["default"]
    args = ["-h", db.get("HOST") or "127.0.0.1", "-p", str(db.get("PORT") or 5432)]
    if db.get("USER"):
        args += ["-U", db["USER"]]
    env = {**os.environ}
    if db.get("PASSWORD"):
        env["PGPASSWORD"] = db["PASSWORD"]
    return args, env


def _dump(path: Path) -> None:
    if connection.vendor == "postgresql":
        args, env = _pg_env()
        name = settings.DATABASES["default"]["NAME"]
        done = subprocess.run(
            ["pg_dump", "-Fc", "--no-owner", *args, "-d", name, "-f", str(path)],
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise BackupError(f"pg_dump failed: {done.stderr.strip()}")
    else:
        source = sqlite3.connect(settings.DATABASES["default"]["NAME"])
        target = sqlite3.connect(path)
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()


def backup(output: Path) -> dict:
    """Write an encrypted backup of the database to `output`; return its header."""
    key_id, enc_key, mac_key = _keys()
    output = Path(output)
    with tempfile.TemporaryDirectory(prefix="hongyan-backup-") as tmp:
        dump = Path(tmp) / "dump"
        counts = row_counts()
        _dump(dump)
        nonce = os.urandom(16)
        header = json.dumps(
            {
                "format": VERSION,
                "key_id": key_id,
                "vendor": connection.vendor,
                "created_at": timezone.now().isoformat(),
                "nonce": nonce.hex(),
                "row_counts": counts,
            },
            sort_keys=True,
        ).encode()
        encryptor = Cipher(algorithms.SM4(enc_key), modes.CTR(nonce)).encryptor()
        mac = hmac.HMAC(mac_key, hashes.SM3())
        partial = output.with_name(output.name + ".part")
        with open(dump, "rb") as src, open(partial, "wb") as dst:
            head = MAGIC + struct.pack(">I", len(header)) + header
            dst.write(head)
            mac.update(head)
            while chunk := src.read(CHUNK):
                sealed = encryptor.update(chunk)
                mac.update(sealed)
                dst.write(sealed)
            tail = encryptor.finalize()
            mac.update(tail)
            dst.write(tail)
            dst.write(mac.finalize())
        partial.replace(output)
    return json.loads(header)


def read_header(path: Path) -> tuple[dict, int]:
    """(header, offset of the ciphertext); BackupError if the file is not a backup."""
    with open(path, "rb") as f:
        magic = f.read(len(MAGIC))
        size = f.read(4)
        if magic != MAGIC or len(size) != 4:
            raise BackupError(f"{path} is not a Hongyan backup (or its start is missing).")
        (length,) = struct.unpack(">I", size)
        raw = f.read(length)
    try:
        header = json.loads(raw)
    except ValueError:
        raise BackupError(f"{path}: the backup's header is damaged or cut short.") from None
    if header.get("format") != VERSION:
        raise BackupError(f"{path}: backup format {header.get('format')} is not known here.")
    return header, len(MAGIC) + 4 + length


def _check_and_decrypt(path: Path, target: Path) -> dict:
    key_id, enc_key, mac_key = _keys()
    header, start = read_header(path)
    if header["key_id"] != key_id:
        raise BackupError(
            f"wrong backup key: the file was made with key {header['key_id']}, "
            f"HONGYAN_BACKUP_KEY is key {key_id}."
        )
    size = path.stat().st_size
    if size < start + TAG_SIZE:
        raise BackupError(f"{path} is cut short (truncated): nothing was restored.")
    end = size - TAG_SIZE

    def ciphertext(f):
        f.seek(start)
        left = end - start
        while left > 0:
            chunk = f.read(min(CHUNK, left))
            if not chunk:
                break
            left -= len(chunk)
            yield chunk

    # first pass: the tag over everything, before a byte is written anywhere
    mac = hmac.HMAC(mac_key, hashes.SM3())
    with open(path, "rb") as f:
        mac.update(f.read(start))
        for chunk in ciphertext(f):
            mac.update(chunk)
        f.seek(end)
        tag = f.read(TAG_SIZE)
    try:
        mac.verify(tag)
    except Exception:
        raise BackupError(
            f"{path} is truncated or damaged (its HMAC-SM3 does not match): nothing was restored."
        ) from None
    decryptor = Cipher(
        algorithms.SM4(enc_key), modes.CTR(bytes.fromhex(header["nonce"]))
    ).decryptor()
    with open(path, "rb") as f, open(target, "wb") as out:
        for chunk in ciphertext(f):
            out.write(decryptor.update(chunk))
        out.write(decryptor.finalize())
    return header


def _restore_dump(dump: Path) -> None:
    if connection.vendor == "postgresql":
        connection.close()
        args, env = _pg_env()
        name = settings.DATABASES["default"]["NAME"]
        done = subprocess.run(
            ["pg_restore", "--no-owner", "--exit-on-error", "--single-transaction", *args]
            + ["-d", name, str(dump)],
            env=env,
            capture_output=True,
            text=True,
        )
        if done.returncode:
            raise BackupError(f"pg_restore failed: {done.stderr.strip()}")
    else:
        connection.close()
        source = sqlite3.connect(dump)
        target = sqlite3.connect(settings.DATABASES["default"]["NAME"])
        try:
            with target:
                source.backup(target)
        finally:
            target.close()
            source.close()


def restore(path: Path, report=print) -> bool:
    """Restore a backup into the (empty) database, then check row counts and the audit
    chain. Returns True when both match; raises BackupError when nothing was restored."""
    from .audit import verify_chain

    path = Path(path)
    if not path.exists():
        raise BackupError(f"{path} does not exist.")
    header, _start = read_header(path)
    if header["vendor"] != connection.vendor:
        raise BackupError(
            f"the backup is of a {header['vendor']} database; this one is {connection.vendor}."
        )
    if connection.introspection.table_names():
        raise BackupError(
            "the database is not empty: restore only into a new, empty database "
            "(nothing was changed)."
        )
    with tempfile.TemporaryDirectory(prefix="hongyan-restore-") as tmp:
        dump = Path(tmp) / "dump"
        _check_and_decrypt(path, dump)
        _restore_dump(dump)
    connection.close()
    counts = row_counts()
    expected = header["row_counts"]
    wrong = {t: (n, counts.get(t)) for t, n in expected.items() if counts.get(t) != n}
    if wrong:
        for table, (want, got) in sorted(wrong.items()):
            report(f"行数不符 / row count differs: {table}: backup {want}, restored {got}")
    else:
        report(
            f"行数一致 / row counts match: {len(expected)} tables, {sum(expected.values())} rows"
        )
    checked, problems = verify_chain()
    for problem in problems:
        report(f"审计链断裂 / broken: {problem}")
    if not problems:
        report(f"审计链完好 / audit chain intact: {checked} rows")
    return not wrong and not problems
