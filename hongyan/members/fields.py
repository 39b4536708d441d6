"""Reading member fields as people write them: 1962.03, 1975年6月, １３８…, 汉, 是/否 …

Each `parse_*` takes what a form, the API or a spreadsheet cell gave and returns the
stored value, or raises FieldProblem with a message in Chinese saying how to fix it.
The same functions serve every way in, so a value accepted by the form is accepted by
the import and the API too."""

import re
from datetime import date, datetime
from functools import lru_cache, wraps

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from hongyan.core import pii

from .models import ETHNICITIES, Category, Education, Gender, Plate, Status

LABELS = {
    "name": gettext_lazy("姓名"),
    "gender": gettext_lazy("性别"),
    "ethnicity": gettext_lazy("民族"),
    "birth_date": gettext_lazy("出生日期"),
    "id_number": gettext_lazy("身份证号码"),
    "mobile": gettext_lazy("手机号码"),
    "category": gettext_lazy("党员类别"),
    "joined_on": gettext_lazy("入党日期"),
    "party_org": gettext_lazy("所在党组织"),
    "compound": gettext_lazy("所在小区"),
    "unit": gettext_lazy("居住单位"),
    "building": gettext_lazy("楼栋"),
    "entrance": gettext_lazy("单元"),
    "room": gettext_lazy("房号"),
    "home": gettext_lazy("楼栋单元房号"),
    "work_unit": gettext_lazy("工作单位"),
    "work_unit_org": gettext_lazy("工作单位党组织"),
    "status": gettext_lazy("状态"),
    "education": gettext_lazy("文化程度"),
    "profession": gettext_lazy("职业"),
    "specialties": gettext_lazy("特长"),
    "plate": gettext_lazy("户牌"),
    "note": gettext_lazy("备注"),
}


def label(field: str) -> str:
    return str(LABELS.get(field, field))


class FieldProblem(ValueError):
    pass


def _memo(func):
    """Cache a parser for hashable values: a register repeats 汉族, 本科, 1962.03 … across
    thousands of rows (problems are raised afresh, never cached)."""
    cached = lru_cache(maxsize=4096, typed=True)(func)

    @wraps(func)
    def parse(value, *args):
        try:
            return cached(value, *args)
        except TypeError:  # unhashable (a list from the API)
            return func(value, *args)

    return parse


# full-width digits and Latin letters become ASCII; Chinese punctuation (，。、) stays
_WIDE_ALNUM = {
    c: c - 0xFEE0 for r in ((0xFF10, 0xFF1A), (0xFF21, 0xFF3B), (0xFF41, 0xFF5B)) for c in range(*r)
}


def text(value) -> str:
    """A cell or form value as clean text (numbers typed as numbers lose their '.0')."""
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        if value.isascii():
            return " ".join(value.split()) if _SPACES.search(value) else value.strip()
        return _wide_text(value)
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return _SPACES.sub(" ", str(value).translate(_WIDE_ALNUM)).strip()


@lru_cache(maxsize=4096)
def _wide_text(value: str) -> str:
    # 集宁区第一中学, 是, 本科 …: the same few values down a whole sheet
    return _SPACES.sub(" ", value.translate(_WIDE_ALNUM)).strip()


_SPACES = re.compile(r"\s{2,}|[\t\n\r\f\v\u3000\xa0]")


@_memo
def parse_name(value) -> str:
    name = re.sub(r"\s+", "", pii.halfwidth(str(value or "")))
    name = name.replace("．", "·").replace(".", "·")  # 阿依古丽·买买提
    if not name:
        raise FieldProblem(_("请填写姓名。"))
    if len(name) > 40:
        raise FieldProblem(_("姓名不能超过 40 个字。"))
    return name


def parse_id_number(value) -> str:
    if isinstance(value, float | int) and not isinstance(value, bool):
        raise FieldProblem(
            _("身份证号码被存成了数字，末几位已经丢失：请把这一列设为“文本”格式后重新填写。")
        )
    number = pii.normalise_id_number(value)
    if not number:
        raise FieldProblem(_("请填写身份证号码。"))
    problem = pii.id_number_problem(number)
    if problem:
        raise FieldProblem(problem)
    return number


def parse_mobile(value) -> str:
    if type(value) is str and len(value) == 11 and value.isascii() and value.isdigit():
        number = value  # already compact (most cells)
    else:
        number = pii.normalise_mobile(text(value))
    if not number:
        return ""
    problem = pii.mobile_problem(number)
    if problem:
        raise FieldProblem(problem)
    return number


_DATE_PATTERNS = (
    re.compile(r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*[-./月]\s*(\d{1,2})\s*日?$"),
    re.compile(r"^(\d{4})\s*[-./年]\s*(\d{1,2})\s*月?$"),
    re.compile(r"^(\d{4})(\d{2})(\d{2})$"),
    re.compile(r"^(\d{4})(\d{2})$"),
    re.compile(r"^(\d{4})\s*年?$"),
)


@_memo
def parse_date(value, *, field: str = "date") -> date | None:
    """1962.03 → 1962-03-01; 1975年6月; 1988-11-02; 1990/1/1; an Excel date; blank → None."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, float | int) and not isinstance(value, bool):
        # a bare number: 1962.03 typed into a numeric cell, or an Excel serial day
        if 1900 <= value < 2100 and not float(value).is_integer():
            year, month = f"{value:.2f}".split(".")
            value = f"{year}.{month}"
        elif 1 <= value < 80000:
            from datetime import timedelta

            return date(1899, 12, 30) + timedelta(days=int(value))
        else:
            value = str(int(value))
    raw = text(value)
    for pattern in _DATE_PATTERNS:
        m = pattern.match(raw)
        if m:
            parts = [int(p) for p in m.groups()] + [1] * (3 - len(m.groups()))
            try:
                result = date(*parts)
            except ValueError:
                break
            if result.year < 1900 or result > pii.local_today():
                break
            return result
    raise FieldProblem(
        _("“%(value)s”不是有效日期：请写成 1988-11-02、1988.11 或 1988年11月。") % {"value": raw}
    )


def _choice(value, aliases: dict[str, str], allowed_labels, blank=None):
    raw = text(value).replace(" ", "")
    if not raw:
        if blank is not None:
            return blank
        raise FieldProblem(_("请填写。"))
    stored = aliases.get(raw)
    if stored is not None:
        return stored
    if callable(allowed_labels):
        allowed_labels = allowed_labels()
    raise FieldProblem(
        _("“%(value)s”不在可选项中：%(allowed)s。")
        % {"value": raw, "allowed": "、".join(str(a) for a in allowed_labels)}
    )


def _aliases(choices, extra: dict[str, str]) -> dict[str, str]:
    table = {str(c.label): c.value for c in choices if c.value}
    table.update({c.value: c.value for c in choices if c.value})
    table.update(extra)
    return table


GENDER_ALIASES = _aliases(
    Gender, {"男性": Gender.MALE, "女性": Gender.FEMALE, "m": Gender.MALE, "f": Gender.FEMALE}
)
CATEGORY_ALIASES = _aliases(
    Category,
    {"正式": Category.FULL, "预备": Category.PROBATIONARY, "党员": Category.FULL},
)
STATUS_ALIASES = _aliases(
    Status,
    {
        "是": Status.IN_SERVICE,
        "在岗": Status.IN_SERVICE,
        "在职党员": Status.IN_SERVICE,
        "退休": Status.RETIRED,
        "离休": Status.RETIRED,
        "已退休": Status.RETIRED,
        "流动党员": Status.FLOWING,
        "外出": Status.FLOWING,
    },
)
EDUCATION_ALIASES = _aliases(
    Education,
    {
        "博士": Education.POSTGRADUATE,
        "硕士": Education.POSTGRADUATE,
        "博士研究生": Education.POSTGRADUATE,
        "硕士研究生": Education.POSTGRADUATE,
        "本科": Education.BACHELOR,
        "大学": Education.BACHELOR,
        "大本": Education.BACHELOR,
        "大专": Education.COLLEGE,
        "专科": Education.COLLEGE,
        "中技": Education.SECONDARY_VOCATIONAL,
        "技校": Education.SECONDARY_VOCATIONAL,
        "职高": Education.SECONDARY_VOCATIONAL,
        "中等专科": Education.SECONDARY_VOCATIONAL,
        "小学": Education.PRIMARY,
        "文盲": Education.PRIMARY,
        "半文盲": Education.PRIMARY,
    },
)
PLATE_ALIASES = _aliases(
    Plate,
    {"先锋户": Plate.PIONEER, "堡垒户": Plate.BASTION, "中心户": Plate.CENTRE, "无": Plate.NONE},
)
ETHNICITY_ALIASES = {e: e for e in ETHNICITIES} | {e[:-1]: e for e in ETHNICITIES if len(e) > 2}
ETHNICITY_ALIASES |= {"汉": "汉族", "蒙": "蒙古族", "蒙族": "蒙古族"}


def parse_gender(value, id_number: str = "") -> str:
    if not text(value) and id_number:
        return pii.id_gender(id_number)
    gender = _choice(value, GENDER_ALIASES, lambda: Gender.labels)
    if id_number and gender != pii.id_gender(id_number):
        raise FieldProblem(_("性别与身份证号码不一致（第 17 位单数为男，双数为女）。"))
    return gender


@_memo
def parse_ethnicity(value) -> str:
    return _choice(value, ETHNICITY_ALIASES, ["汉族", "蒙古族", "回族", "满族", "…"], blank="汉族")


@_memo
def parse_category(value) -> str:
    return _choice(value, CATEGORY_ALIASES, lambda: Category.labels, blank=Category.FULL)


@_memo
def parse_status(value) -> str:
    return _choice(value, STATUS_ALIASES, lambda: Status.labels, blank=Status.IN_SERVICE)


@_memo
def parse_education(value) -> str:
    return _choice(value, EDUCATION_ALIASES, lambda: Education.labels, blank="")


@_memo
def parse_plate(value) -> str:
    return _choice(value, PLATE_ALIASES, lambda: [p for p in Plate.labels if p != "无"], blank="")


def find_plate(note: str) -> tuple[str, str]:
    """A plate written in the remarks column: ('pioneer', rest of the remark)."""
    for words, plate in (
        (("党员先锋户", "先锋户"), Plate.PIONEER),
        (("党员堡垒户", "堡垒户"), Plate.BASTION),
        (("党员中心户", "中心户"), Plate.CENTRE),
    ):
        for word in words:
            if word in note:
                rest = note.replace(word, "").strip(" ，,;；、")
                return plate, rest
    return "", note


def parse_specialties(value) -> list[str]:
    if isinstance(value, str):
        return list(_split_specialties(value))
    return _specialties(value)


@_memo
def _split_specialties(value: str) -> tuple[str, ...]:
    return tuple(_specialties(value))


def _specialties(value) -> list[str]:
    if isinstance(value, list | tuple):
        items = [text(v) for v in value]
    else:
        items = re.split(r"[、,，;；/／\s]+", text(value))
    out = []
    for item in items:
        item = item.strip()
        if not item or item in ("无", "-"):
            continue
        if len(item) > 20:
            raise FieldProblem(_("特长“%(value)s”太长，每项不超过 20 个字。") % {"value": item})
        if item not in out:
            out.append(item)
    return out


@_memo
def parse_short(value, limit: int) -> str:
    value = text(value)
    if len(value) > limit:
        raise FieldProblem(_("不能超过 %(n)d 个字。") % {"n": limit})
    return value


_HOME = re.compile(
    r"^(?:(?P<building>[0-9A-Za-z一二三四五六七八九十甲乙丙丁东西南北]+)\s*(?:号楼|号|栋|幢|楼)[-\s]*)?"
    r"(?:(?P<entrance>[0-9一二三四五六七八九十]+)\s*(?:单元|门)[-\s]*)?"
    r"(?:(?P<room>[0-9A-Za-z-]+)\s*(?:室|号)?)?$"
)


@_memo
def parse_home(value) -> tuple[str, str, str]:
    """ "1号楼1单元101" → ("1号楼", "1", "101"); "5-2-501" → ("5号楼", "2", "501")."""
    raw = text(value).replace(" ", "")
    if not raw:
        return "", "", ""
    dashed = re.fullmatch(r"(\d+)-(\d+)-(\d+)", raw)
    if dashed:
        b, e, r = dashed.groups()
        return f"{b}号楼", e, r
    m = _HOME.match(raw)
    if not m or not any(m.groupdict().values()):
        raise FieldProblem(
            _("“%(value)s”看不懂：请写成“1号楼1单元101”或“1-1-101”。") % {"value": raw}
        )
    building = m.group("building") or ""
    return (f"{building}号楼" if building else ""), m.group("entrance") or "", m.group("room") or ""
