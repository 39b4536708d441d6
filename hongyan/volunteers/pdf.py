"""Certificates printed to A4 PDF by Debian's Chromium.

Why a `chromium --headless --print-to-pdf` subprocess and not Playwright: Playwright is
a test dependency only (pyproject's `[test]` extra); the production install has the
Debian `chromium` and `fonts-noto-cjk` packages and nothing else, so one process per
certificate, with the HTML in a private temporary folder, is the whole rendering path.
The page is self-contained (inline styles are fine here: it never reaches a browser
under our CSP, only this headless print)."""

import shutil
import subprocess
import tempfile
from pathlib import Path

from django.conf import settings
from django.template.loader import render_to_string
from django.utils.translation import gettext as _

from hongyan.core.errors import DomainError

TIMEOUT_SECONDS = 60


def chromium_path() -> str | None:
    return getattr(settings, "HONGYAN_CHROMIUM", None) or shutil.which("chromium")


def html_to_pdf(html: str) -> bytes:
    binary = chromium_path()
    if binary is None:
        raise DomainError("no_printer", _("没有找到 chromium，无法生成 PDF。"), status=503)
    with tempfile.TemporaryDirectory(prefix="hy-cert-") as tmp:
        page, out = Path(tmp) / "certificate.html", Path(tmp) / "certificate.pdf"
        page.write_text(html, encoding="utf-8")
        subprocess.run(
            [
                binary,
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-extensions",
                "--no-first-run",
                f"--user-data-dir={tmp}/profile",
                "--no-pdf-header-footer",
                f"--print-to-pdf={out}",
                page.as_uri(),
            ],
            check=True,
            capture_output=True,
            timeout=TIMEOUT_SECONDS,
        )
        return out.read_bytes()


def certificate_pdf(certificate, verify_url: str) -> bytes:
    import segno

    html = render_to_string(
        "volunteers/certificate_print.html",
        {
            "c": certificate,
            "verify_url": verify_url,
            "stars": "★" * certificate.star,
            # a phone's camera opens the public check page
            "qr": segno.make(verify_url, error="m").svg_data_uri(scale=4, border=1),
        },
    )
    return html_to_pdf(html)
