"""Helpers for the fault drills: a scratch database of the same kind as the test run's
(a fresh PostgreSQL database on the same server, or a SQLite file), a throwaway
PostgreSQL server of our own, and `hongyan` run as a real subprocess against them.

The drills never touch the test database (its rows live in a transaction no other
process can see) nor stop the shared PostgreSQL server: the restart drill starts one of
its own, on a free port, in a temporary folder."""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

ROOT = Path(__file__).resolve().parents[2]


def on_postgresql() -> bool:
    return os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://"))


def cannot_drill(reason: str):
    """In CI a drill that cannot run is a failure, never a silent skip."""
    if os.environ.get("CI"):
        pytest.fail(f"the fault drill must run in CI: {reason}")
    pytest.skip(reason)


def base_env(data_dir: Path, database_url: str | None) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST", "DJANGO_"))}
    env.update(HONGYAN_DATA_DIR=str(data_dir), PYTHONUNBUFFERED="1", HONGYAN_ENV="development")
    env.pop("DATABASE_URL", None)
    if database_url:
        env["DATABASE_URL"] = database_url
    return env


def hongyan(*args, env: dict, timeout: float = 120, check: bool = True):
    result = subprocess.run(
        [sys.executable, "-m", "hongyan.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"hongyan {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def django_eval(code: str, env: dict):
    """Run `code` (which sets `out`) in a fresh Django process; return `out` (JSON)."""
    script = (
        "import json, os, django\n"
        "os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'hongyan.settings')\n"
        "django.setup()\n" + code + "\nprint('@@' + json.dumps(out, default=str))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    line = [x for x in result.stdout.splitlines() if x.startswith("@@")][-1]
    return json.loads(line[2:])


def prepare(env: dict) -> None:
    """Migrate and load the official divisions (what a deployment starts from)."""
    hongyan("manage", "migrate", "-v0", env=env)
    django_eval("from hongyan.orgs.loader import load_divisions\nload_divisions()\nout = 1", env)


def _pg_url_with(name: str) -> str:
    parts = urlsplit(os.environ["DATABASE_URL"])
    return urlunsplit(parts._replace(path="/" + name))


def _pg_admin(*args) -> None:
    parts = urlsplit(os.environ["DATABASE_URL"])
    cmd = [args[0], "-h", parts.hostname or "127.0.0.1", "-p", str(parts.port or 5432)]
    cmd += ["-U", parts.username or "postgres", *args[1:]]
    subprocess.run(
        cmd, check=True, capture_output=True, env={**os.environ, "PGPASSWORD": parts.password or ""}
    )


@contextmanager
def scratch_database(tmp_path: Path):
    """A fresh, migrated database of the run's kind; yields the subprocess environment."""
    data_dir = tmp_path / "data"
    data_dir.mkdir()
    if on_postgresql():
        if not shutil.which("createdb"):
            cannot_drill("createdb is not installed (postgresql-client)")
        name = f"hy_drill_{uuid.uuid4().hex[:10]}"
        _pg_admin("createdb", name)
        try:
            env = base_env(data_dir, _pg_url_with(name))
            prepare(env)
            yield env
        finally:
            _pg_admin("dropdb", "--force", "--if-exists", name)
    else:
        env = base_env(data_dir, None)
        prepare(env)
        yield env


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pg_bin() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


class OwnPostgres:
    """A PostgreSQL server of our own (initdb in a temp folder, a free port), to stop and
    start at will. Runs as the `postgres` system user when we are root."""

    def __init__(self, root: Path):
        self.bin = _pg_bin()
        if self.bin is None:
            cannot_drill("no PostgreSQL server binaries under /usr/lib/postgresql")
        self.root = root
        self.data = root / "pgdata"
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(root, "postgres", "postgres")

    def _run(self, *args, check=True):
        cmd = [str(self.bin / args[0]), *args[1:]]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=check, capture_output=True, text=True, timeout=60)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/hongyan"

    def init(self):
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8")
        self.start()
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "hongyan")

    def start(self):
        self._run(
            "pg_ctl",
            "-D",
            str(self.data),
            "-l",
            str(self.root / "server.log"),
            "-o",
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1",
            "-w",
            "start",
        )

    def stop(self, mode: str = "fast"):
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop", check=False)


def wait_for(predicate, timeout: float, interval: float = 0.2):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    return None


@contextmanager
def temp_root():
    path = Path(tempfile.mkdtemp(prefix="hy-drill-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
