"""Configuration by environment (DESIGN.md): bad or missing settings stop start-up with
a message naming the variable. Each case starts a fresh Python, as a deployment would."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

HONGYAN = Path(sys.executable).parent / "hongyan"
GOOD_SECRET = "s" * 50
GOOD_FIELD_KEYS = "k1:AAAAAAAAAAAAAAAAAAAAAA=="


def clean_env(data_dir, **overrides) -> dict:
    """The environment of this process without any Hongyan or database setting."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("HONGYAN_")
        and k not in ("DATABASE_URL", "DJANGO_SETTINGS_MODULE", "DJANGO_ALLOW_ASYNC_UNSAFE")
    }
    env["HONGYAN_DATA_DIR"] = str(data_dir)
    env.update(overrides)
    return env


def import_settings(data_dir, code="", **env):
    return subprocess.run(
        [sys.executable, "-c", "import hongyan.settings as s\n" + code],
        env=clean_env(data_dir, **env),
        capture_output=True,
        text=True,
        timeout=60,
    )


def manage_check(data_dir, **env):
    return subprocess.run(
        [str(HONGYAN), "manage", "check"],
        env=clean_env(data_dir, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )


PRODUCTION = {
    "HONGYAN_ENV": "production",
    "HONGYAN_SECRET_KEY": GOOD_SECRET,
    "HONGYAN_FIELD_KEYS": GOOD_FIELD_KEYS,
    "HONGYAN_ALLOWED_HOSTS": "dangjian.example.gov.cn",
}


def without(settings: dict, name: str) -> dict:
    return {k: v for k, v in settings.items() if k != name}


def test_production_fully_configured_starts(tmp_path):
    result = manage_check(tmp_path, **PRODUCTION)
    assert result.returncode == 0, result.stderr
    # and no development secrets were written to the data folder
    assert not (tmp_path / "keys").exists()


@pytest.mark.parametrize(
    "missing", ["HONGYAN_SECRET_KEY", "HONGYAN_FIELD_KEYS", "HONGYAN_ALLOWED_HOSTS"]
)
def test_production_without_a_required_setting_names_it(tmp_path, missing):
    result = import_settings(tmp_path, **without(PRODUCTION, missing))
    assert result.returncode != 0
    assert missing in result.stderr
    assert "production" in result.stderr


def test_manage_check_in_production_without_a_secret_key_stops_with_the_name(tmp_path):
    result = manage_check(tmp_path, **without(PRODUCTION, "HONGYAN_SECRET_KEY"))
    assert result.returncode == 2
    assert "HONGYAN_SECRET_KEY" in result.stderr
    assert "Traceback" not in result.stderr  # a message, not a stack trace


def test_a_short_production_secret_is_refused(tmp_path):
    result = import_settings(tmp_path, **{**PRODUCTION, "HONGYAN_SECRET_KEY": "short"})
    assert result.returncode != 0
    assert "HONGYAN_SECRET_KEY" in result.stderr
    assert "40" in result.stderr


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("DATABASE_URL", "postgres://user:pw@[::1:5432/db"),
        ("DATABASE_URL", "nonsense"),
        ("DATABASE_URL", "mysql://user@127.0.0.1/hongyan"),
        ("HONGYAN_DEBUG", "maybe"),
        ("HONGYAN_ENV", "staging"),
        ("HONGYAN_LOCKOUT_ATTEMPTS", "five"),
        ("HONGYAN_LOCKOUT_ATTEMPTS", "0"),
        ("HONGYAN_SESSION_IDLE_MINUTES", "-5"),
        ("HONGYAN_PASSWORD_MIN_LENGTH", "4"),
        ("HONGYAN_TRUSTED_PROXIES", "10.0.0.1,nginx.internal"),
        ("HONGYAN_TRUSTED_PROXIES", "10.0.0.0/33"),
        ("HONGYAN_TRUSTED_PROXIES", "fd00::/64;10.0.0.1"),
    ],
)
def test_a_bad_value_stops_start_up_naming_the_variable(tmp_path, name, value):
    result = import_settings(tmp_path, **{name: value})
    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr
    assert name in result.stderr


def test_manage_check_with_a_malformed_database_url_stops_with_the_name(tmp_path):
    result = manage_check(tmp_path, DATABASE_URL="postgres://user:pw@[::1:5432/db")
    assert result.returncode == 2
    assert "DATABASE_URL" in result.stderr
    assert "postgres://" in result.stderr  # and an example of a good one


def test_manage_check_with_a_bad_debug_value_stops_with_the_name(tmp_path):
    result = manage_check(tmp_path, HONGYAN_DEBUG="maybe")
    assert result.returncode == 2
    assert "HONGYAN_DEBUG" in result.stderr


def test_an_unusable_data_folder_is_named(tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    result = import_settings(blocker / "data")
    assert result.returncode != 0
    assert "HONGYAN_DATA_DIR" in result.stderr


def test_development_keeps_its_secrets_in_the_data_folder(tmp_path):
    code = "print(s.SECRET_KEY); print(s.DATABASES['default']['NAME']); print(s.DEBUG)"
    first = import_settings(tmp_path, code)
    second = import_settings(tmp_path, code)
    assert first.returncode == 0, first.stderr
    secret, db_name, debug = first.stdout.split()
    assert second.stdout.split()[0] == secret  # made once, then reused
    assert len(secret) >= 40
    assert Path(db_name) == tmp_path / "hongyan.sqlite3"
    assert debug == "False"
    for name in ("secret_key", "field_keys"):
        mode = stat.S_IMODE((tmp_path / "keys" / name).stat().st_mode)
        assert mode == 0o600, name


def test_settings_follow_the_environment(tmp_path):
    code = (
        "print(s.SESSION_COOKIE_AGE, s.LOCKOUT_ATTEMPTS, s.LOCKOUT_MINUTES, s.PASSWORD_MIN_LENGTH,"
        " s.DATABASES['default']['ENGINE'], s.DATABASES['default']['NAME'], s.ALLOWED_HOSTS)"
    )
    result = import_settings(
        tmp_path,
        code,
        HONGYAN_SESSION_IDLE_MINUTES="15",
        HONGYAN_LOCKOUT_ATTEMPTS="3",
        HONGYAN_LOCKOUT_MINUTES="10",
        HONGYAN_PASSWORD_MIN_LENGTH="12",
        DATABASE_URL="postgres://hy@127.0.0.1:5432/hongyan",
        HONGYAN_ALLOWED_HOSTS="a.example, b.example",
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split(maxsplit=6) == [
        "900",
        "3",
        "10",
        "12",
        "django.db.backends.postgresql",
        "hongyan",
        "['a.example', 'b.example']\n",
    ]


def test_defaults_without_any_setting(tmp_path):
    code = (
        "print(s.SESSION_COOKIE_AGE, s.LOCKOUT_ATTEMPTS, s.LOCKOUT_MINUTES,"
        " s.PASSWORD_MIN_LENGTH, s.PASSWORD_MIN_CLASSES, s.DATABASES['default']['ENGINE'])"
    )
    result = import_settings(tmp_path, code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1800", "5", "30", "10", "3", "django.db.backends.sqlite3"]


def test_the_production_settings_pass_the_deployment_checklist(tmp_path):
    import secrets

    env = {**PRODUCTION, "HONGYAN_SECRET_KEY": secrets.token_urlsafe(50)}
    result = subprocess.run(
        [str(HONGYAN), "manage", "check", "--deploy", "--fail-level", "WARNING"],
        env=clean_env(tmp_path, **env),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_development_serves_plain_http_without_hsts(tmp_path):
    result = import_settings(
        tmp_path,
        "print(s.SECURE_SSL_REDIRECT, s.SECURE_HSTS_SECONDS, hasattr(s, 'SECURE_PROXY_SSL_HEADER'))",
    )
    assert result.stdout.split() == ["False", "0", "False"], result.stderr


def test_a_malformed_trusted_proxy_is_named_in_the_refusal(tmp_path):
    result = import_settings(tmp_path, HONGYAN_TRUSTED_PROXIES="10.0.0.1, 10.0.0.300")
    assert result.returncode != 0
    assert "HONGYAN_TRUSTED_PROXIES" in result.stderr
    assert "'10.0.0.300'" in result.stderr


def test_trusted_proxies_take_addresses_and_networks_of_both_families(tmp_path):
    code = "print(sorted(str(n) for n in s.TRUSTED_PROXIES))"
    result = import_settings(
        tmp_path, code, HONGYAN_TRUSTED_PROXIES=" 127.0.0.1, 10.0.0.0/8,,::1, fd00::/64 "
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "['10.0.0.0/8', '127.0.0.1/32', '::1/128', 'fd00::/64']"


def test_no_trusted_proxies_by_default(tmp_path):
    result = import_settings(tmp_path, "print(s.TRUSTED_PROXIES)")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "()"
