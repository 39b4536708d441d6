"""Refresh the English catalogue and fill in translations, safely while others edit.

    python scripts/i18n_update.py [TRANSLATIONS.json]

Extracts every string afresh (makemessages, keeping existing translations), applies
the given {"中文": "English"} pairs, compiles the .mo, and prints what is still
untranslated. A file lock serialises runs, because makemessages rewrites the whole .po."""

import fcntl
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import polib

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "hongyan"
PO = PACKAGE / "locale" / "en" / "LC_MESSAGES" / "django.po"


def main(argv: list[str]) -> int:
    pairs = json.loads(Path(argv[0]).read_text(encoding="utf-8")) if argv else {}
    with open(Path(tempfile.gettempdir()) / "hongyan-i18n.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        env = {
            **os.environ,
            "HONGYAN_DATA_DIR": os.environ.get("HONGYAN_DATA_DIR", tempfile.mkdtemp()),
        }
        manage = [sys.executable, "-m", "django"]
        settings = ["--settings", "hongyan.settings"]
        subprocess.run(
            [
                *manage,
                "makemessages",
                "-l",
                "en",
                "--ignore",
                "static/*",
                "--no-obsolete",
                *settings,
            ],
            cwd=PACKAGE,
            env=env,
            check=True,
            capture_output=True,
        )
        po = polib.pofile(str(PO))
        for entry in po:
            if entry.msgid in pairs:
                entry.msgstr = pairs[entry.msgid]
                if "fuzzy" in entry.flags:
                    entry.flags.remove("fuzzy")
        po.save()
        subprocess.run(
            [*manage, "compilemessages", "-l", "en", *settings],
            cwd=PACKAGE,
            env=env,
            check=True,
            capture_output=True,
        )
        missing = po.untranslated_entries() + po.fuzzy_entries()
    for entry in missing:
        print(
            f"untranslated: {entry.msgid!r}  ({entry.occurrences[0][0] if entry.occurrences else '?'})"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
