"""Importing a community's member register from the sheet it already keeps.

    plan = check_file(data, filename, actor=..., unit=...)   # dry run: a per-row report
    plan, result = import_file(data, filename, actor=..., unit=...)  # all or nothing

The file is refused before parsing when it is too big, has too many rows, is a zip
bomb, or is not really a spreadsheet (whatever its extension). Then the header row is
found among the title lines, merged cells are filled down, every value goes through
the same checks as the form and the API (`services.clean_member`), and each problem is
reported as (Excel row, column, message). Formula cells and text starting with
= + - @ or a tab are refused. Re-importing updates members found by the blind index
of their ID number, never duplicates them. Compounds and specialties the file names
but the register does not know yet are reported in the dry run and created on import.
The import checks each row exactly as the dry run does and writes the valid ones as it
goes, in one transaction that rolls back if any row has an error.
"""

import csv
import hashlib
import io
import os
import re
import zipfile
from concurrent.futures import ThreadPoolExecutor
from contextlib import nullcontext
from dataclasses import dataclass, field
from functools import lru_cache
from operator import itemgetter

from django.db import connection, transaction
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hongyan.core import audit, pii
from hongyan.core.pinyin import search_keys
from hongyan.core.scope import scope
from hongyan.core.spreadsheet import FORMULA_START
from hongyan.orgs import services as org_services
from hongyan.orgs.models import Unit, UnitKind

from . import bulk
from . import fields as f
from .models import (
    ID_AAD,
    ID_PURPOSE,
    MOBILE_AAD,
    MOBILE_PURPOSE,
    Member,
    MemberSearchKey,
    Specialty,
)
from .selectors import COMPOUND_KINDS
from .services import PLAIN_FIELDS, clean_member, default_party_org


def _env_int(name: str, default: int) -> int:
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        return default


MAX_BYTES = _env_int("HONGYAN_IMPORT_MAX_MB", 50) * 1024 * 1024
MAX_ROWS = _env_int("HONGYAN_IMPORT_MAX_ROWS", 200_000)
MAX_UNZIPPED = 20 * MAX_BYTES  # a real .xlsx compresses 5–10×
MAX_RATIO = 200
MAX_REPORTED = 2000  # problems kept per import (the count is always exact)
HELPER_FROM_BYTES = 1024 * 1024  # ≈ 10,000 rows: from here an import seals in a helper process

HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("姓名", "名字", "党员姓名", "姓 名"),
    "gender": ("性别",),
    "ethnicity": ("民族",),
    "birth_date": ("出生年月", "出生日期", "出生年月日", "出生时间", "生日"),
    "id_number": ("身份证号码", "身份证号", "公民身份号码", "身份证", "证件号码", "公民身份证号码"),
    "mobile": ("联系电话", "手机号码", "手机", "手机号", "电话", "联系方式", "电话号码"),
    "education": ("文化程度", "学历", "最高学历"),
    "joined_on": ("入党时间", "入党日期", "入党年月"),
    "category": ("党员类别", "党员身份", "类别", "人员类别"),
    "compound": ("所在小区", "小区", "居住小区", "小区名称", "自然村"),
    "home": ("楼栋单元房号", "住址", "家庭住址", "现住址", "门牌号", "楼栋单元户", "居住地址"),
    "building": ("楼栋", "楼号", "楼栋号"),
    "entrance": ("单元", "单元号"),
    "room": ("房号", "户号", "房间号"),
    "work_unit": ("工作单位", "单位", "工作单位及职务", "工作单位及职务职称"),
    "work_unit_org": ("工作单位党组织", "单位党组织", "组织关系所在党组织"),
    "in_service": ("是否在职", "在职", "在职情况", "是否在职党员"),
    "status": ("党员状态", "状态", "人员状态"),
    "profession": ("职业", "专业", "职称"),
    "specialties": ("特长", "专长", "技能", "特长专长", "特长爱好"),
    "plate": ("户牌", "党员户牌", "挂牌"),
    "note": ("备注", "说明"),
}
_ALIASES = {alias.replace(" ", ""): name for name, aliases in HEADERS.items() for alias in aliases}
COLUMN_LABELS = {
    "compound": gettext_lazy("所在小区"),
    "home": gettext_lazy("楼栋单元房号"),
    "in_service": gettext_lazy("是否在职"),
}
# fields an update may change, by the column that carries them (absent columns keep
# what the register holds)
UPDATED_BY = {
    "home": ("building", "entrance", "room"),
    "in_service": ("status",),
    "note": ("note", "plate"),
    "work_unit": ("work_unit", "status"),
    "id_number": ("gender", "birth_date"),
}
FOOTER_WORDS = ("制表人", "审核人", "填表人", "填报人", "负责人", "填表日期", "注：", "说明：")
_DANGEROUS_FIRST = frozenset(FORMULA_START)  # each is one character
_BLANK_WORDS = frozenset(("", "-", "--", "—", "/"))


class FileRefused(Exception):
    """The file is not read at all (too big, not a spreadsheet, a zip bomb …)."""


@dataclass
class Problem:
    row: int  # Excel row number (1-based); 0 = the file as a whole
    column: str
    message: str
    level: str = "error"  # error | notice

    def __str__(self):
        where = f"row {self.row}, {self.column}" if self.row else self.column
        return f"{where}: {self.message}"


@dataclass(slots=True)
class Row:
    number: int
    data: dict
    compound_name: str
    specialties: list
    id_index: str = ""  # the ID number's blind index under the current key


@dataclass
class Plan:
    filename: str
    sha256: str
    kind: str
    unit: Unit | None
    rows: list[Row] = field(default_factory=list)  # the valid rows (the dry run keeps them)
    valid_rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    error_count: int = 0
    notice_count: int = 0
    total_rows: int = 0
    new_compounds: list[str] = field(default_factory=list)
    new_specialties: list[str] = field(default_factory=list)
    updates: int = 0
    existing: dict = field(default_factory=dict)  # ID number → member pk
    columns: set = field(default_factory=set)  # fields the sheet has a column for
    compounds: dict = field(default_factory=dict)  # name → Unit
    checked: dict = field(default_factory=dict, repr=False)  # clean_member's cache
    result: dict | None = None  # what an import wrote

    @property
    def ok(self) -> bool:
        return self.error_count == 0

    def add(self, row: int, column: str, message: str, level: str = "error") -> None:
        if level == "error":
            self.error_count += 1
        else:
            self.notice_count += 1
        if len(self.problems) < MAX_REPORTED:
            self.problems.append(Problem(row, str(column), str(message), level))

    def summary(self) -> dict:
        return {
            "rows": self.total_rows,
            "valid": self.valid_rows if self.ok else self.total_rows - self._rows_with_errors(),
            "errors": self.error_count,
            "notices": self.notice_count,
            "create": self.valid_rows - self.updates,
            "update": self.updates,
            "new_compounds": self.new_compounds,
            "new_specialties": self.new_specialties,
        }

    def _rows_with_errors(self) -> int:
        return len({p.row for p in self.problems if p.level == "error" and p.row})


# --- reading the file -----------------------------------------------------------------

OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
BINARY_MAGICS = (b"%PDF", b"\x89PNG", b"\xff\xd8\xff", b"GIF8", b"Rar!", b"\x1f\x8b", b"7z\xbc\xaf")


def sniff(data: bytes, filename: str) -> str:
    """'xlsx', 'xls' or 'csv', from the content (the extension must agree)."""
    ext = os.path.splitext(filename or "")[1].lower()
    if len(data) > MAX_BYTES:
        raise FileRefused(
            _("文件有 %(size).1f MB，超过了 %(max)d MB 的上限：请按社区分成几个文件导入。")
            % {"size": len(data) / 1024 / 1024, "max": MAX_BYTES // 1024 // 1024}
        )
    if not data:
        raise FileRefused(_("文件是空的。"))
    if data.startswith(b"PK\x03\x04"):
        kind = "xlsx"
    elif data.startswith(OLE_MAGIC):
        kind = "xls"
    elif data.startswith(BINARY_MAGICS) or b"\x00" in data[:8192]:
        kind = "binary"
    else:
        kind = "csv"
    expected = {
        ".xlsx": {"xlsx"},
        ".xlsm": {"xlsx"},
        ".xls": {"xls", "xlsx"},
        ".csv": {"csv"},
        ".txt": {"csv"},
    }
    if kind == "binary" or (ext in expected and kind not in expected[ext]):
        raise FileRefused(
            _(
                "“%(name)s”的内容不是 Excel 工作簿或 CSV 表格（可能是改了扩展名的其他文件）："
                "请在 Excel 或 WPS 中打开后另存为 .xlsx 再导入。"
            )
            % {"name": filename}
        )
    if ext not in expected and ext:
        raise FileRefused(_("不支持 %(ext)s 文件：请上传 .xlsx、.xls 或 .csv。") % {"ext": ext})
    return kind


def _check_zip(data: bytes) -> zipfile.ZipFile:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
        infos = archive.infolist()
    except (zipfile.BadZipFile, OSError, ValueError):
        raise FileRefused(_("文件已损坏，无法作为 Excel 工作簿打开。")) from None
    names = {i.filename for i in infos}
    if "xl/workbook.xml" not in names or "[Content_Types].xml" not in names:
        raise FileRefused(
            _("这是一个压缩包或其他 Office 文件，不是 Excel 工作簿：请另存为 .xlsx 再导入。")
        )
    total = sum(i.file_size for i in infos)
    worst = max(
        (i.file_size / max(i.compress_size, 1) for i in infos if i.file_size > 1 << 20), default=0
    )
    if len(infos) > 10_000 or total > MAX_UNZIPPED or worst > MAX_RATIO:
        raise FileRefused(_("文件解压后异常庞大（疑似“压缩炸弹”），已拒绝读取。"))
    return archive


def _first_sheet_path(archive: zipfile.ZipFile) -> str | None:
    sheets = sorted(
        (n for n in archive.namelist() if re.fullmatch(r"xl/worksheets/sheet\d+\.xml", n)),
        key=lambda n: int(re.search(r"(\d+)\.xml$", n).group(1)),
    )
    return sheets[0] if sheets else None


_DIMENSION = re.compile(rb'<dimension ref="[A-Z]+\d+(?::[A-Z]+(\d+))?"')
_FORMULA = re.compile(rb'<c r="([A-Z]{1,3})(\d+)"[^>]*?>\s*<f[\s>/]')


def _first_sheet_rows_refused(archive: zipfile.ZipFile, path: str | None) -> None:
    """Refuse a sheet whose <dimension> declares too many rows, before parsing it."""
    if path is None:
        return
    with archive.open(path) as fh:
        m = _DIMENSION.search(fh.read(4096))
    if m and m.group(1) and int(m.group(1)) > MAX_ROWS + 20:
        raise FileRefused(
            _("表格有 %(n)d 行，超过了 %(max)d 行的上限：请分成几个文件导入。")
            % {"n": int(m.group(1)), "max": MAX_ROWS}
        )


def _xlsx_formulas(archive: zipfile.ZipFile, path: str | None) -> list[tuple[int, str]]:
    """[(row, column letter)] of the formula cells of the first sheet (calamine reads
    only their cached values)."""
    if path is None:
        return []
    formulas: list[tuple[int, str]] = []
    with archive.open(path) as fh:
        tail = b""
        while chunk := fh.read(1 << 20):
            buf = tail + chunk
            if b"<f" in buf:  # a byte search first: most sheets hold no formula at all
                for fm in _FORMULA.finditer(buf):
                    formulas.append((int(fm.group(2)), fm.group(1).decode()))
            tail = buf[-300:]
    return sorted(set(formulas))


def _column_letter(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rem = divmod(index - 1, 26)
        letters = chr(65 + rem) + letters
    return letters


def _ole_stream(data: bytes, wanted: tuple[str, ...]) -> bytes | None:
    """One stream of an OLE2 compound file (the container of .xls), or None."""
    import struct

    sector = 1 << struct.unpack_from("<H", data, 30)[0]
    mini_sector = 1 << struct.unpack_from("<H", data, 32)[0]
    (n_fat,) = struct.unpack_from("<I", data, 44)
    (first_dir,) = struct.unpack_from("<I", data, 48)
    (mini_cutoff,) = struct.unpack_from("<I", data, 56)
    (first_minifat,) = struct.unpack_from("<I", data, 60)
    (first_difat,) = struct.unpack_from("<I", data, 68)

    def read_sector(n: int) -> bytes:
        return data[(n + 1) * sector : (n + 2) * sector]

    difat = list(struct.unpack_from("<109I", data, 76))
    seen = 0
    while first_difat < 0xFFFFFFFA and seen < 10_000:
        block = read_sector(first_difat)
        entries = struct.unpack(f"<{sector // 4}I", block)
        difat += entries[:-1]
        first_difat = entries[-1]
        seen += 1
    fat: list[int] = []
    for n in difat[:n_fat]:
        fat += struct.unpack(f"<{sector // 4}I", read_sector(n))

    def chain(start: int, table: list[int], limit: int) -> list[int]:
        out = []
        while start < 0xFFFFFFFA and len(out) < limit:
            out.append(start)
            start = table[start] if start < len(table) else 0xFFFFFFFE
        return out

    directory = b"".join(read_sector(n) for n in chain(first_dir, fat, 100_000))
    entries = []
    for off in range(0, len(directory) - 127, 128):
        length = struct.unpack_from("<H", directory, off + 64)[0]
        name = directory[off : off + max(length - 2, 0)].decode("utf-16-le", "replace")
        start, size = struct.unpack_from("<II", directory, off + 116)
        entries.append((name, start, size))
    if not entries:
        return None
    for name, start, size in entries:
        if name not in wanted:
            continue
        if size >= mini_cutoff:
            return b"".join(read_sector(n) for n in chain(start, fat, 1_000_000))[:size]
        root_name, root_start, root_size = entries[0]
        mini_stream = b"".join(read_sector(n) for n in chain(root_start, fat, 1_000_000))
        minifat: list[int] = []
        for n in chain(first_minifat, fat, 100_000):
            minifat += struct.unpack(f"<{sector // 4}I", read_sector(n))
        return b"".join(
            mini_stream[m * mini_sector : (m + 1) * mini_sector]
            for m in chain(start, minifat, 1_000_000)
        )[:size]
    return None


def _xls_formulas(data: bytes) -> list[tuple[int, str]]:
    """FORMULA records of the first worksheet of a BIFF8 .xls (calamine reads only their
    cached values). A file this reader cannot follow yields none: calamine decides."""
    import struct

    try:
        stream = _ole_stream(data, ("Workbook", "Book"))
        if not stream:
            return []
        found, pos, sheet_index = [], 0, -1
        while pos + 4 <= len(stream):
            kind, length = struct.unpack_from("<HH", stream, pos)
            body = stream[pos + 4 : pos + 4 + length]
            pos += 4 + length
            if kind == 0x0809 and len(body) >= 4:  # BOF: which substream starts
                if struct.unpack_from("<H", body, 2)[0] == 0x0010:
                    sheet_index += 1
            elif kind == 0x0006 and sheet_index == 0 and len(body) >= 4:
                row, col = struct.unpack_from("<HH", body, 0)
                found.append((row + 1, _column_letter(col)))
            elif sheet_index > 0:
                break
        return found
    except (struct.error, IndexError, ValueError):
        return []


def _decode_csv(data: bytes) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileRefused(_("无法识别 CSV 文件的编码：请另存为“CSV UTF-8”或 .xlsx 再导入。"))


def _first_sheet(data: bytes):
    import python_calamine

    try:
        workbook = python_calamine.CalamineWorkbook.from_filelike(io.BytesIO(data))
        return workbook.get_sheet_by_index(0)
    except Exception:  # calamine raises several types for a broken file
        raise FileRefused(_("无法读取这个 Excel 文件（可能已损坏或设置了密码）。")) from None


def read_rows(data: bytes, kind: str) -> tuple[list[tuple[int, list]], list[tuple[int, str]]]:
    """[(Excel row number, [cell values…])] with merged cells filled down, and the
    formula cells found."""
    formulas: list[tuple[int, str]] = []
    if kind == "csv":
        if data.count(b"\n") > MAX_ROWS + 20:
            raise FileRefused(
                _("表格超过了 %(max)d 行的上限：请分成几个文件导入。") % {"max": MAX_ROWS}
            )
        text = _decode_csv(data)
        sample = text[:4096]
        delimiter = max((",", "\t", ";"), key=sample.count)
        reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
        return [(n, row) for n, row in enumerate(reader, start=1)], formulas
    if kind == "xlsx":
        archive = _check_zip(data)  # a bomb is refused before anything is unpacked
        path = _first_sheet_path(archive)
        _first_sheet_rows_refused(archive, path)
        # calamine parses without the GIL: the formula scan runs meanwhile
        with ThreadPoolExecutor(max_workers=1) as pool:
            parsing = pool.submit(_first_sheet, data)
            formulas = _xlsx_formulas(archive, path)
            sheet = parsing.result()
    else:
        if kind == "xls":
            formulas = _xls_formulas(data)
        sheet = _first_sheet(data)
    if sheet.total_height > MAX_ROWS + 20:
        raise FileRefused(
            _("表格有 %(n)d 行，超过了 %(max)d 行的上限：请分成几个文件导入。")
            % {"n": sheet.total_height, "max": MAX_ROWS}
        )
    top, left = sheet.start if sheet.start else (0, 0)
    merged: dict[tuple[int, int], tuple[int, int]] = {}
    for (r1, c1), (r2, c2) in sheet.merged_cell_ranges or []:
        if (r2 - r1 + 1) * (c2 - c1 + 1) > 10_000:
            continue
        for r in range(r1, r2 + 1):
            for c in range(c1, c2 + 1):
                if (r, c) != (r1, c1):
                    merged[(r, c)] = (r1, c1)
    sources = set(merged.values())
    remembered: dict[tuple[int, int], object] = {}
    rows = []
    for i, cells in enumerate(sheet.iter_rows()):
        r = top + i
        if merged:
            cells = list(cells)
            for j in range(len(cells)):
                c = left + j
                if (r, c) in sources:
                    remembered[(r, c)] = cells[j]
                src = merged.get((r, c))
                if src is not None and cells[j] in ("", None):
                    cells[j] = remembered.get(src, "")
        rows.append((r + 1, [""] * left + cells if left else cells))
    return rows, formulas


# --- understanding the sheet ------------------------------------------------------------


def _header_key(cell) -> str:
    text = re.sub(r"[\s*＊:：]", "", pii.halfwidth(str(cell or "")))
    return re.sub(r"[(（][^)）]*[)）]", "", text)


def _column_for(cell) -> str | None:
    key = _header_key(cell)
    if not key:
        return None
    if key in _ALIASES:
        return _ALIASES[key]
    for alias, name in sorted(_ALIASES.items(), key=lambda kv: -len(kv[0])):
        if len(alias) >= 2 and key.startswith(alias):
            return name
    return None


def find_header(rows) -> tuple[int, dict[int, str], dict[str, str]]:
    """(index in rows, {column index: field}, {field: header text as written})."""
    best = (-1, {}, {})
    for index, (_number, cells) in enumerate(rows[:30]):
        columns, labels = {}, {}
        for j, cell in enumerate(cells):
            name = _column_for(cell)
            if name and name not in labels:
                columns[j] = name
                labels[name] = str(cell).strip()
        if len(columns) > len(best[1]):
            best = (index, columns, labels)
    index, columns, labels = best
    if len(columns) < 3 or "name" not in labels or "id_number" not in labels:
        raise FileRefused(
            _(
                "找不到表头：表格中应有一行列名，至少包括“姓名”和“身份证号码”。"
                "可以下载导入模板对照。"
            )
        )
    return index, columns, labels


def guess_unit(text: str) -> Unit | None:
    """The community a sheet's title names (集宁区新体路街道恩和路社区党员花名册 → 恩和路社区)."""
    text = re.sub(r"\s", "", text)
    if not text:
        return None
    candidates = []
    for unit in Unit.objects.filter(kind__in=(UnitKind.COMMUNITY, UnitKind.VILLAGE)).select_related(
        "parent"
    ):
        if unit.short_name and unit.short_name in text:
            score = len(unit.short_name) + (10 if unit.parent and unit.parent.name in text else 0)
            candidates.append((score, unit.path, unit))
    candidates.sort(key=lambda c: (-c[0], c[1]))
    if candidates and (len(candidates) == 1 or candidates[0][0] > candidates[1][0]):
        return candidates[0][2]
    return None


def _is_footer(cells) -> bool:
    joined = "".join(str(c) for c in cells if c not in ("", None))
    return any(word in joined for word in FOOTER_WORDS)


def _blank(value) -> bool:
    return value is None or (isinstance(value, str) and value.strip() in ("", "-", "--", "—", "/"))


# --- the dry run ------------------------------------------------------------------------


def _compounds_for(unit: Unit | None, actor) -> tuple[dict[str, Unit], Unit | None]:
    """Compounds a row may name, by name, and the community new ones would go under."""
    if unit is None:
        return {}, None
    if unit.kind in COMPOUND_KINDS:
        return {unit.name: unit}, None
    qs = Unit.objects.filter(kind__in=COMPOUND_KINDS, path__under=unit.path)
    if actor is not None:
        qs = scope(qs, actor, action="member.import")
    by_name: dict[str, Unit] = {}
    ambiguous = set()
    for compound in qs:
        if compound.name in by_name:
            ambiguous.add(compound.name)
        by_name[compound.name] = compound
    for name in ambiguous:
        by_name[name] = None  # several compounds share the name: the row must say which
    parent = unit if unit.kind in (UnitKind.COMMUNITY, UnitKind.VILLAGE) else None
    return by_name, parent


def precheck(data: bytes, filename: str) -> str:
    """What is refused at once, before a job starts: the size, a file that is no
    spreadsheet whatever its name, a broken or bombed .xlsx. Returns the kind."""
    kind = sniff(data, filename)
    if kind == "xlsx":
        _check_zip(data)
    return kind


def check_file(data: bytes, filename: str, *, actor, unit: Unit | None, progress=None) -> Plan:
    """The dry run: every row checked, nothing written; the plan keeps the valid rows.
    `unit` (a community, or a compound) has been access()-checked for member.import by
    the caller; None (command line only) guesses it from the title. `progress(done,
    total)` is called now and then while rows are checked."""
    with bulk.gc_paused():
        return _check(data, filename, actor=actor, unit=unit, progress=progress)


class _Refused(Exception):
    """Carries the report of a sheet with errors out of the rolled-back transaction."""

    def __init__(self, plan: Plan):
        self.plan = plan


def import_file(
    data: bytes, filename: str, *, actor, unit: Unit | None, progress=None
) -> tuple[Plan, dict | None]:
    """The import: the dry run's checks, row for row, with each slice of valid rows
    written while the next is checked (one transaction). All or nothing: when any row
    has an error, whatever was written is rolled back and (plan, None) comes back with
    the report; otherwise (plan, result)."""
    # started first, while this process is small: starting a process copies its page
    # tables (a moment's double of its memory, as the kernel counts it)
    sealer = bulk.row_sealer(
        len(data) >= HELPER_FROM_BYTES,
        id_aad=ID_AAD,
        mobile_aad=MOBILE_AAD,
        mobile_purpose=MOBILE_PURPOSE,
    )
    try:
        with transaction.atomic(), bulk.write_cache(), bulk.gc_paused():
            plan = _check(data, filename, actor=actor, unit=unit, progress=progress, sealer=sealer)
    except _Refused as refused:
        return refused.plan, None
    finally:
        sealer.close()
    return plan, plan.result


def _check(data: bytes, filename: str, *, actor, unit: Unit | None, progress, sealer=None) -> Plan:
    """The dry run; with a `sealer` (import_file), the import as well."""
    kind = sniff(data, filename)
    plan = Plan(filename=filename, sha256=hashlib.sha256(data).hexdigest(), kind=kind, unit=unit)
    rows, formulas = read_rows(data, kind)
    header_index, columns, labels = find_header(rows)
    if plan.unit is None:
        title = " ".join(str(c) for _n, cells in rows[:header_index] for c in cells if c)
        plan.unit = guess_unit(title + " " + filename)
        if plan.unit is None:
            raise FileRefused(_("无法从表格标题判断是哪个社区的花名册：请用 --unit 指定社区代码。"))
    plan.columns = set(columns.values())
    by_name, new_parent = _compounds_for(plan.unit, actor)
    plan.compounds = dict(by_name)
    for row_number, letter in formulas:
        index = 0
        for ch in letter:
            index = index * 26 + ord(ch) - 64
        field_name = columns.get(index - 1)
        plan.add(
            row_number,
            labels.get(field_name, letter) if field_name else letter,
            _("单元格含公式，请改为直接填写数值后再导入。"),
        )

    def column_label(name: str) -> str:
        return labels.get(name) or str(COLUMN_LABELS.get(name) or f.label(name))

    known_specialties = set(Specialty.objects.values_list("name", flat=True))
    seen_ids: dict[str, int] = {}
    new_compounds: dict[str, int] = {}
    new_specialties: dict[str, int] = {}
    data_rows, rows = rows[header_index + 1 :], None  # the title rows are no longer needed
    column_items = list(columns.items())
    id_column = next(j for j, name in column_items if name == "id_number")
    registered = _Registered(plan, actor, data_rows, id_column)
    committer = _Committer(plan, actor, registered, sealer) if sealer is not None else None
    with committer or nullcontext():
        for index in range(len(data_rows)):
            number, cells = data_rows[index]
            data_rows[index] = None  # free each sheet row once read
            if progress is not None and not index % 2000:
                progress(index, len(data_rows))
            width = len(cells)
            raw: dict = {}
            dangerous = None
            for j, name in column_items:
                value = cells[j] if j < width else ""
                if type(value) is str:
                    if value.strip() in _BLANK_WORDS:
                        value = ""
                    elif value[0] in _DANGEROUS_FIRST:
                        dangerous = [*(dangerous or ()), name]
                elif value is None:
                    value = ""
                raw[name] = value
            if not str(raw.get("name", "")).strip() and not str(raw.get("id_number", "")).strip():
                if any(not _blank(c) for c in cells) and not _is_footer(cells):
                    plan.total_rows += 1
                    plan.add(number, column_label("name"), _("这一行没有姓名和身份证号码。"))
                continue
            if not str(raw.get("id_number", "")).strip() and _is_footer(cells):
                continue
            plan.total_rows += 1
            errors_before = plan.error_count
            for name in dangerous or ():
                plan.add(
                    number,
                    column_label(name),
                    _(
                        "内容以 = + - @ 或制表符开头，可能被当作公式执行，已拒绝：请删去开头的符号。"
                    ),
                )
                raw[name] = ""
            raw_id = raw.get("id_number")
            id_key = pii.normalise_id_number(raw_id) if isinstance(raw_id, str) else ""
            number_seen = seen_ids.get(id_key) if id_key else None
            if number_seen:
                plan.add(
                    number,
                    column_label("id_number"),
                    _("与第 %(n)d 行的身份证号码重复。") % {"n": number_seen},
                )
            elif id_key:
                seen_ids[id_key] = number
            row = _normalise_row(plan, number, raw, column_label)
            if row is None:
                continue
            # the compound
            if plan.unit.kind in COMPOUND_KINDS:
                row.compound_name = plan.unit.name
            elif not row.compound_name:
                plan.add(number, column_label("compound"), _("请填写所在小区。"))
            elif row.compound_name not in by_name:
                if new_parent is None:
                    plan.add(
                        number,
                        column_label("compound"),
                        _("找不到小区“%(name)s”：请在导入时选择它所在的社区。")
                        % {"name": row.compound_name},
                    )
                else:
                    new_compounds.setdefault(row.compound_name, number)
            elif by_name[row.compound_name] is None:
                plan.add(
                    number,
                    column_label("compound"),
                    _("有几个小区都叫“%(name)s”：请按社区分别导入。") % {"name": row.compound_name},
                )
            for name in row.specialties:
                if name not in known_specialties:
                    new_specialties.setdefault(name, number)
            if plan.error_count != errors_before:
                continue
            registered.match(row, column_label)
            if plan.error_count != errors_before:
                continue
            plan.valid_rows += 1
            if committer is None:
                plan.rows.append(row)
            elif plan.ok:  # once a row has failed nothing more is written: it rolls back
                committer.add(row)
        for name, number in new_compounds.items():
            plan.new_compounds.append(name)
            plan.add(
                number,
                column_label("compound"),
                _("小区“%(name)s”尚未建立，确认导入时将在%(parent)s下新建。")
                % {"name": name, "parent": new_parent.short_name},
                level="notice",
            )
        for name, number in new_specialties.items():
            plan.new_specialties.append(name)
            plan.add(
                number,
                column_label("specialties"),
                _("特长“%(name)s”不在特长列表中，确认导入时将加入。") % {"name": name},
                level="notice",
            )
        if plan.total_rows == 0:
            plan.add(0, _("文件"), _("表头下面没有党员数据。"))
        plan.problems.sort(key=lambda p: (p.row, p.level != "error"))
        if committer is not None:
            if not plan.ok:
                raise _Refused(plan)
            plan.result = committer.finish()
    return plan


def _normalise_row(plan: Plan, number: int, raw: dict, column_label) -> Row | None:
    values = raw.copy()
    values.pop("in_service", None)  # read below, into the status
    get = raw.get
    plate, note, work_unit, status, in_service_wrong = _remarks_and_status(
        get("note", ""),
        get("plate", ""),
        get("work_unit", ""),
        get("status", ""),
        get("in_service", ""),
    )
    values["note"], values["work_unit"] = note, work_unit
    if plate is not None:
        values["plate"] = plate
    if status is not None:
        values["status"] = status
    if in_service_wrong:
        plan.add(number, column_label("in_service"), _("请填写“是”或“否”。"))
    if raw.get("home") not in ("", None):
        try:
            building, entrance, room = f.parse_home(raw["home"])
        except f.FieldProblem as exc:
            plan.add(number, column_label("home"), str(exc))
            building = entrance = room = ""
        values["building"] = values.get("building") or building
        values["entrance"] = values.get("entrance") or entrance
        values["room"] = values.get("room") or room
    cleaned, problems = clean_member(values, cache=plan.checked)
    for name, message in problems:
        plan.add(number, column_label(name), message)
    if problems:
        return None
    specialties = cleaned.pop("specialties", [])
    compound_name = _compound_name(raw.get("compound", ""))
    return Row(number=number, data=cleaned, compound_name=compound_name, specialties=specialties)


@lru_cache(maxsize=4096, typed=True)  # a register repeats these together, row after row
def _remarks_and_status(note_cell, plate_cell, work_unit_cell, status_cell, in_service_cell):
    """What the remarks, work unit and 是否在职 columns say beyond themselves: a plate
    written in the remarks, 退休 written as the work unit, 是/否 as the status.
    Returns (plate or None, note, work unit, status or None, whether 是否在职 is wrong)."""
    plate = status = None
    note = f.text(note_cell)
    if not f.text(plate_cell) and note:
        plate, note = f.find_plate(note)
    work_unit = f.text(work_unit_cell)
    if "退休" in work_unit and len(work_unit) <= 4:
        work_unit = ""  # 已退休 / 退休: a status, not a work unit
        if not status_cell and not in_service_cell:
            status = "retired"
    in_service = f.text(in_service_cell)
    if in_service and not f.text(status_cell):
        if in_service in ("是", "在职", "Y", "y"):
            status = "in_service"
        elif in_service in ("否", "N", "n", "不在职"):
            retired = "退休" in f.text(work_unit_cell) or "退休" in note
            status = "retired" if retired else "other"
        else:
            return plate, note, work_unit, status, True
    return plate, note, work_unit, status, False


@lru_cache(maxsize=4096, typed=True)  # typed: the cells 1 and True are equal keys
def _compound_name(cell) -> str:
    return re.sub(r"\s+", "", f.text(cell))


class _Registered:
    """Which ID numbers of a sheet the register already holds: looked up for the whole
    sheet before its rows are checked (during an import the writer has the connection
    after that), by the blind index under every key."""

    def __init__(self, plan: Plan, actor, data_rows, id_column: int):
        self.plan = plan
        indexer = bulk.Indexer(ID_PURPOSE)
        # an accepted row's ID number is its cell normalised (fields.parse_id_number)
        self.index_of: dict[str, str] = {}  # ID number → blind index under the current key
        owner_of: dict[str, str] = {}  # blind index under any key → ID number
        for _number, cells in data_rows:
            value = cells[id_column] if id_column < len(cells) else None
            if type(value) is not str:
                continue
            id_number = pii.normalise_id_number(value)
            if id_number and id_number not in self.index_of:
                indexes = indexer.every(id_number)
                self.index_of[id_number] = indexes[0]
                for index in indexes:
                    owner_of[index] = id_number
        self.found: dict[str, tuple[int, bool]] = {}  # ID number → (member, removed)
        self.allowed: set[int] | None = None
        if owner_of:
            self._look_up(owner_of)
        if self.found and actor is not None:
            self.allowed = set(
                scope(
                    Member.objects.filter(pk__in=[pk for pk, _r in self.found.values()]),
                    actor,
                    action="member.import",
                ).values_list("pk", flat=True)
            )

    def _look_up(self, owner_of: dict[str, str]) -> None:
        keys = list(owner_of)
        # plain SQL: the ORM spends longer compiling 900 parameters than the database answering
        table = connection.ops.quote_name(Member._meta.db_table)
        select = f"SELECT id, id_number_index, removed_at FROM {table} WHERE id_number_index"
        # PostgreSQL takes the indexes as one array (a round trip per 900 would add a second
        # on 100,000 rows); SQLite as many parameters as it allows
        postgres = connection.vendor == "postgresql"
        size = 20_000 if postgres else 900
        with connection.cursor() as cursor:
            for start in range(0, len(keys), size):
                chunk = keys[start : start + size]
                if postgres:
                    cursor.execute(f"{select} = ANY(%s)", [chunk])
                else:
                    cursor.execute(f"{select} IN ({', '.join(['%s'] * len(chunk))})", chunk)
                for pk, index, removed_at in cursor.fetchall():
                    self.found[owner_of[index]] = (pk, removed_at is not None)

    def updatable(self) -> list[int]:
        """Members of the sheet the actor may update (whether their rows pass or not)."""
        return [
            pk
            for pk, removed in self.found.values()
            if not removed and (self.allowed is None or pk in self.allowed)
        ]

    def match(self, row: Row, column_label) -> None:
        """A valid row whose ID number is already registered updates that member, if the
        actor may; a row for a member removed from the register, or another's, is refused."""
        id_number = row.data["id_number"]
        row.id_index = self.index_of[id_number]
        hit = self.found.get(id_number)
        if hit is None:
            return
        pk, removed = hit
        label = column_label("id_number")
        if removed:
            self.plan.add(
                row.number,
                label,
                _(
                    "该身份证号码的党员已移出名册（转出、去世等），不能再导入：如其迁回，请联系管理员。"
                ),
            )
        elif self.allowed is not None and pk not in self.allowed:
            self.plan.add(
                row.number,
                label,
                _("该身份证号码已在其他社区的党员名册中登记：如需转入，请联系其所在社区办理。"),
            )
        else:
            self.plan.existing[id_number] = pk
            self.plan.updates += 1
            self.plan.add(row.number, label, _("已在名册中，将更新该党员的信息。"), level="notice")


# --- the commit -------------------------------------------------------------------------


class ImportRefused(Exception):
    pass


_SEALED_AT = [bulk.MEMBER_COLUMNS.index(c) for c in ("id_number_enc", "mobile_enc", "mobile_index")]


class _Committer:
    """Writes an import's rows as they pass their checks: each slice of new members, with
    their search keys and specialties, goes to a bulk.Writer (a second thread inserting
    it while the next slice is checked); members already registered are updated at the
    end. Inside the import's transaction: a row with an error rolls all of it back."""

    SLICE = 2000  # rows: memory stays flat however long the sheet

    def __init__(self, plan: Plan, actor, registered: _Registered, sealer):
        self.plan, self.actor = plan, actor
        compounds = {name: unit for name, unit in plan.compounds.items() if unit is not None}
        if plan.unit.kind in COMPOUND_KINDS:
            compounds[plan.unit.name] = plan.unit
        self.compounds = compounds
        self.homes = {name: self._home(unit) for name, unit in compounds.items()}
        self.specialty_ids = dict(Specialty.objects.values_list("name", "pk"))
        self.changeable = set()
        for column in plan.columns:
            self.changeable.add(column)
            self.changeable.update(UPDATED_BY.get(column, ()))
        bulk.lock(Member)
        bulk.check_constraints_at_once()
        self.next_id = bulk.next_id(Member)
        self.now = bulk.db_now()
        self.existing = {m.pk: m for m in Member.objects.filter(pk__in=registered.updatable())}
        ids = list(self.existing)
        for start in range(0, len(ids), 900):  # their keys (and specialties) are rewritten
            MemberSearchKey.objects.filter(member_id__in=ids[start : start + 900]).delete()
            if "specialties" in self.changeable:
                Member.specialties.through.objects.filter(
                    member_id__in=ids[start : start + 900]
                ).delete()
        # a slice's personal data is sealed (in a helper process, on a big sheet) while
        # the next is checked; its rows go to the writer one slice later
        self.sealer = sealer
        self.sealing = None  # the slice handed to the sealer, waiting for its result
        self.ids, self.mobiles = [], []
        adapt_date = connection.ops.adapt_datefield_value
        self.dates: dict = {None: None}
        self.db_date = lambda value: (
            self.dates[value]
            if value in self.dates
            else self.dates.setdefault(value, adapt_date(value))
        )
        self.new_rows, self.keys, self.chosen, self.updated = [], [], [], []
        self.pending = self.created = 0
        # no other use of the database until it is closed (or idle: _wait_for_writer)
        self.writer = bulk.Writer()

    def __enter__(self):
        self.writer.__enter__()
        return self

    def __exit__(self, kind, exc, tb):
        self.writer.__exit__(kind, exc, tb)

    @staticmethod
    def _home(compound: Unit) -> tuple[int, int | None]:
        return compound.pk, getattr(default_party_org(compound), "pk", None)

    def _new_compound(self, name: str) -> tuple[int, int | None]:
        self.writer.idle()  # the connection is this thread's again until the next slice
        compound = org_services.unit_create_child(
            actor=self.actor, parent=self.plan.unit, kind=UnitKind.COMPOUND, name=name
        )
        self.compounds[name] = compound
        self.homes[name] = self._home(compound)
        return self.homes[name]

    def _new_specialty(self, name: str) -> int:
        self.writer.idle()
        self.specialty_ids[name] = Specialty.objects.get_or_create(name=name)[0].pk
        return self.specialty_ids[name]

    def add(self, row: Row) -> None:
        data = row.data
        compound_pk, org_pk = self.homes.get(row.compound_name) or self._new_compound(
            row.compound_name
        )
        pk = self.plan.existing.get(data["id_number"]) if self.plan.existing else None
        if pk is not None:
            member = self.existing[pk]
            for name in PLAIN_FIELDS:
                if name in data and name in self.changeable:
                    setattr(member, name, data[name])
            if member.compound_id != compound_pk:
                compound = self.compounds[row.compound_name]
                member.unit, member.compound = compound, compound
            if "mobile" in self.changeable:
                member.set_mobile(data.get("mobile", ""))
            self.updated.append(member)
            member_id = pk
        else:
            member_id = self.next_id
            self.next_id += 1
            mobile = data.get("mobile", "")
            self.ids.append(data["id_number"])
            self.mobiles.append(mobile)
            db_date = self.db_date
            self.new_rows.append(
                [  # the ciphertexts and the mobile's index are filled in once sealed
                    member_id,
                    compound_pk,
                    compound_pk,
                    data.get("building", ""),
                    data.get("entrance", ""),
                    data.get("room", ""),
                    data["name"],
                    data["gender"],
                    data.get("ethnicity", "汉族"),
                    db_date(data.get("birth_date")),
                    "",
                    row.id_index,
                    "",
                    "",
                    data.get("category", "full"),
                    db_date(data.get("joined_on")),
                    org_pk,
                    data.get("work_unit", ""),
                    data.get("work_unit_org", ""),
                    data.get("status", "in_service"),
                    data.get("education", ""),
                    data.get("profession", ""),
                    data.get("plate", ""),
                    data.get("note", ""),
                    False,
                    self.now,
                    self.now,
                ]
            )
        self.keys += [(member_id, k) for k in search_keys(data["name"])]
        if row.specialties and (pk is None or "specialties" in self.changeable):
            ids = self.specialty_ids
            self.chosen += [
                (member_id, ids.get(s) or self._new_specialty(s)) for s in row.specialties
            ]
        self.pending += 1
        if self.pending >= self.SLICE:
            self._flush()

    def _flush(self) -> None:
        self.keys.sort(key=itemgetter(1))  # the key index is filled in order: fewer pages touched
        submitted = self.sealer.submit(self.ids, self.mobiles) if self.new_rows else None
        if self.sealing is not None:
            self._write(*self.sealing)
        self.sealing = (submitted, self.new_rows, self.keys, self.chosen)
        self.created += len(self.new_rows)
        self.new_rows, self.keys, self.chosen, self.ids, self.mobiles = [], [], [], [], []
        self.pending = 0

    def _write(self, submitted, new_rows, keys, chosen) -> None:
        if new_rows:
            id_enc, mobile_enc, mobile_index = self.sealer.collect(submitted)
            at_id, at_mobile, at_index = _SEALED_AT
            for row, *sealed in zip(new_rows, id_enc, mobile_enc, mobile_index, strict=True):
                row[at_id], row[at_mobile], row[at_index] = sealed
        self.writer.put(
            [
                (Member, bulk.MEMBER_COLUMNS, new_rows),
                (MemberSearchKey, ["member", "key"], keys),
                (Member.specialties.through, ["member", "specialty"], chosen),
            ]
        )

    def finish(self) -> dict:
        self._flush()
        self._write(*self.sealing)
        self.writer.close()
        if self.updated:
            Member.objects.bulk_update(
                self.updated,
                [*PLAIN_FIELDS, "unit", "compound", "mobile_enc", "mobile_index"],
                batch_size=1000,
            )
        bulk.reset_sequence(Member, Member.specialties.through)
        plan = self.plan
        result = {
            "created": self.created,
            "updated": len(self.updated),
            "compounds_created": list(plan.new_compounds),
            "specialties_created": list(plan.new_specialties),
        }
        audit.record(
            "member.import",
            actor=self.actor,
            unit=plan.unit,
            actor_name="" if self.actor else "hongyan import (command line)",
            detail={"file": plan.filename, "sha256": plan.sha256, "kind": plan.kind, **result},
        )
        return result
