"""Chinese first, English complete: the catalogue covers every string in the code."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import polib
import pytest

import hongyan

PACKAGE = Path(hongyan.__file__).parent
PO = PACKAGE / "locale" / "en" / "LC_MESSAGES" / "django.po"
MO = PO.with_suffix(".mo")


def test_the_english_catalogue_has_no_gaps_or_guesses():
    po = polib.pofile(str(PO))
    missing = [e.msgid for e in po.untranslated_entries()]
    fuzzy = [e.msgid for e in po.fuzzy_entries()]
    assert not missing, f"untranslated: {missing[:10]}"
    assert not fuzzy, f"fuzzy (unchecked) translations: {fuzzy[:10]}"


def test_the_compiled_catalogue_matches_the_source():
    po = {(e.msgctxt, e.msgid): e for e in polib.pofile(str(PO)).translated_entries()}
    mo = {(e.msgctxt, e.msgid): e for e in polib.mofile(str(MO))}
    stale = [
        k[1] for k in po if k not in mo or mo[k].msgstr != po[k].msgstr and not po[k].msgid_plural
    ]
    assert not stale, f"django.mo is older than django.po (run compilemessages): {stale[:10]}"


def test_every_string_in_the_code_is_in_the_catalogue(tmp_path):
    """Extract the strings afresh with makemessages (xgettext) from a copy of the package
    and check that nothing new is left untranslated."""
    if not shutil.which("xgettext"):
        if os.environ.get("HONGYAN_REQUIRE_BROWSER"):
            pytest.fail("xgettext is required here: apt-get install gettext")
        pytest.skip("xgettext not installed (apt-get install gettext)")
    copy = tmp_path / "hongyan"
    shutil.copytree(
        PACKAGE, copy, ignore=shutil.ignore_patterns("static", "__pycache__", "*.mo", "migrations")
    )
    (tmp_path / "extract_settings.py").write_text(
        f"SECRET_KEY = 'x'\nUSE_I18N = True\nLOCALE_PATHS = [{str(copy / 'locale')!r}]\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "DJANGO_SETTINGS_MODULE": "extract_settings"}
    subprocess.run(
        [sys.executable, "-m", "django", "makemessages", "-l", "en", "--no-obsolete"],
        cwd=copy,
        env=env,
        check=True,
        capture_output=True,
    )
    fresh = polib.pofile(str(copy / "locale" / "en" / "LC_MESSAGES" / "django.po"))
    missing = [f"{e.msgid} ({e.occurrences[0][0]})" for e in fresh.untranslated_entries()]
    assert not missing, f"strings without an English translation: {missing[:10]}"


@pytest.mark.django_db
def test_pages_speak_chinese_even_to_an_english_browser(client):
    page = client.get("/login/", HTTP_ACCEPT_LANGUAGE="en-US,en;q=0.9")
    assert "登录" in page.content.decode()
    assert page["Content-Language"] == "zh-hans"


@pytest.mark.django_db
def test_the_switcher_choice_gives_english_pages(client):
    client.cookies["django_language"] = "en"
    page = client.get("/login/")
    assert page["Content-Language"] == "en"
    assert "Sign in" in page.content.decode()


@pytest.mark.django_db
def test_the_api_answers_in_the_language_asked_for(client):
    zh = client.get("/api/v1/units/150902")
    en = client.get("/api/v1/units/150902", HTTP_ACCEPT_LANGUAGE="en")
    assert zh.status_code == en.status_code == 401
    assert zh.json()["message"] != en.json()["message"]
    assert en.json()["message"].isascii()
