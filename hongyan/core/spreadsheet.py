"""Cells that spreadsheet programs will not evaluate (CSV/formula injection).

Every file we write for Excel (member exports, import reports, export-control files, the
audit CSV) passes user-typed text through `formula_safe`; the importer refuses cells that
start the same way."""

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value):
    """The value, with a leading apostrophe when it would start a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_START):
        return "'" + value
    return value
