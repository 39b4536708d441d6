"""`hongyan`, the one command: its subcommands, and the worker run once on a real
(temporary, migrated) SQLite data folder."""

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from hongyan.cli import build_parser

from .test_settings import HONGYAN, clean_env


def hongyan(*args, data_dir, timeout=180, **env):
    return subprocess.run(
        [str(HONGYAN), *args],
        env=clean_env(data_dir, **env),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory) -> Path:
    """A data folder with a migrated SQLite database."""
    folder = tmp_path_factory.mktemp("hongyan-data")
    result = hongyan("manage", "migrate", "--verbosity", "0", data_dir=folder)
    assert result.returncode == 0, result.stderr
    assert (folder / "hongyan.sqlite3").exists()
    return folder


def test_the_console_script_is_installed():
    assert HONGYAN.exists()


def test_help_lists_the_subcommands(tmp_path):
    result = hongyan("--help", data_dir=tmp_path)
    assert result.returncode == 0
    for command in ("quickstart", "serve", "worker", "demo", "manage"):
        assert command in result.stdout


def test_the_promised_options_parse():
    parser = build_parser()
    serve = parser.parse_args(["serve", "--host", "0.0.0.0", "--port", "9000", "--workers", "4"])
    assert (serve.host, serve.port, serve.workers) == ("0.0.0.0", 9000, 4)
    demo = parser.parse_args(["demo", "--password", "P-1234567890"])
    assert (demo.password, demo.seed) == ("P-1234567890", 1509)
    quick = parser.parse_args(["quickstart", "--no-serve"])
    assert quick.no_serve is True
    worker = parser.parse_args(["worker", "--once"])
    assert worker.once is True
    manage = parser.parse_args(["manage", "migrate", "--plan"])
    assert manage.rest == ["migrate", "--plan"]
    with pytest.raises(SystemExit):
        parser.parse_args(["explode"])


def test_serve_refuses_an_unmigrated_database(tmp_path):
    result = hongyan("serve", "--port", "8999", data_dir=tmp_path, timeout=60)
    assert result.returncode == 2
    assert "hongyan manage migrate" in result.stderr


def test_worker_once_sweeps_and_exits_zero(data_dir):
    db = sqlite3.connect(data_dir / "hongyan.sqlite3")
    with db:
        db.execute(
            "INSERT INTO django_session (session_key, session_data, expire_date)"
            " VALUES ('expired-session-key-0000000000000', 'x', '2000-01-01 00:00:00')"
        )
    result = hongyan("worker", "--once", data_dir=data_dir, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "sweeps registered" in result.stdout
    assert "expired_sessions → 1" in result.stdout
    left = db.execute("SELECT count(*) FROM django_session").fetchone()[0]
    db.close()
    assert left == 0


def test_verify_audit_on_a_fresh_database(data_dir):
    result = hongyan("manage", "verify_audit", data_dir=data_dir, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "intact" in result.stdout


def test_makemigrations_is_clean(data_dir):
    result = hongyan("manage", "makemigrations", "--check", "--dry-run", data_dir=data_dir)
    assert result.returncode == 0, result.stdout + result.stderr


def test_python_m_hongyan_cli_works_too(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "hongyan.cli", "--help"],
        env=clean_env(tmp_path),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert "worker" in result.stdout
