"""Spreadsheets the register writes: the import template, the dry-run report and the
masked export. Every text cell is written formula-safe (a leading = + - @ tab gets an
apostrophe), so a name like "=HYPERLINK(…)" can never run in the reader's Excel."""

import io

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.styles import Alignment, Font, PatternFill

from hongyan.core.spreadsheet import formula_safe

TEMPLATE_HEADERS = (
    "序号",
    "姓名",
    "性别",
    "民族",
    "出生年月",
    "身份证号码",
    "联系电话",
    "文化程度",
    "入党时间",
    "党员类别",
    "所在小区",
    "楼栋单元房号",
    "工作单位",
    "是否在职",
    "特长",
    "户牌",
    "备注",
)
TEMPLATE_EXAMPLE = (  # invented: replace it with the community's own rows
    1,
    "张三",
    "女",
    "汉族",
    "1980.01",
    "150902198001010026",
    "13800000000",
    "大专",
    "2005.07",
    "正式党员",
    "恩和花园",
    "1号楼1单元101",
    "集宁区第一中学",
    "是",
    "文艺、书法",
    "党员先锋户",
    "",
)
EXPORT_HEADERS = (
    "姓名",
    "性别",
    "民族",
    "出生日期",
    "身份证号码（脱敏）",
    "手机号码（脱敏）",
    "党员类别",
    "入党日期",
    "所在党组织",
    "所在小区",
    "楼栋",
    "单元",
    "房号",
    "工作单位",
    "状态",
    "文化程度",
    "职业",
    "特长",
    "户牌",
    "备注",
)
BOLD = Font(bold=True)
HEAD_FILL = PatternFill("solid", fgColor="FDECEA")


def _save(workbook) -> bytes:
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()


def template() -> bytes:
    wb = Workbook()
    ws = wb.active
    ws.title = "党员花名册"
    ws.append(["××社区党员花名册（第一行可写标题，表头所在行会被自动识别）"])
    ws.append(list(TEMPLATE_HEADERS))
    ws.append(list(TEMPLATE_EXAMPLE))
    for cell in ws[2]:
        cell.font, cell.fill = BOLD, HEAD_FILL
    for column in ("F", "G"):  # ID numbers and mobiles as text, so Excel keeps every digit
        for row in range(3, 1003):
            ws[f"{column}{row}"].number_format = "@"
    widths = (5, 10, 5, 8, 10, 21, 14, 9, 10, 10, 14, 16, 24, 9, 14, 12, 16)
    for i, width in enumerate(widths):
        ws.column_dimensions[chr(ord("A") + i)].width = width
    notes = wb.create_sheet("填写说明")
    for line in (
        "1. 表头名称可以略有不同（如“名字”“公民身份号码”“手机”），系统会自动识别。",
        "2. 身份证号码和手机号码请设为“文本”格式，否则 Excel 会丢掉末几位。",
        "3. 出生年月、入党时间可写 1988-11-02、1988.11 或 1988年11月。",
        "4. 党员类别填“正式党员”或“预备党员”；是否在职填“是”或“否”。",
        "5. 特长之间用顿号分隔；户牌填党员先锋户、党员堡垒户或党员中心户（也可写在备注里）。",
        "6. 不要使用公式；单元格内容不要以 = + - @ 开头。",
        "7. 先点“检查”（试导入）：有错误时整份文件都不会导入，按报告改正后重新上传即可。",
    ):
        notes.append([line])
    notes.column_dimensions["A"].width = 90
    return _save(wb)


def report(plan) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("检查报告"))
    summary = plan.summary()
    ws.append([formula_safe(_("文件：%(name)s") % {"name": plan.filename})])
    ws.append([_("共 %(rows)d 行；错误 %(errors)d 处；提示 %(notices)d 处") % summary])
    ws.append([])
    head = []
    for title in (_("行号"), _("列"), _("问题"), _("级别")):
        cell = WriteOnlyCell(ws, value=title)
        cell.font = BOLD
        head.append(cell)
    ws.append(head)
    for p in plan.problems:
        ws.append(
            [
                p.row or "",
                formula_safe(p.column),
                formula_safe(p.message),
                _("错误") if p.level == "error" else _("提示"),
            ]
        )
    return _save(wb)


def member_cells(m, *, masked: bool) -> tuple:
    """One member's row under EXPORT_HEADERS (shared with the export-control flow)."""
    return (
        m.name,
        m.get_gender_display(),
        m.ethnicity,
        m.birth_date.isoformat() if m.birth_date else "",
        m.id_number_masked if masked else m.id_number,
        m.mobile_masked if masked else m.mobile,
        m.get_category_display(),
        m.joined_on.isoformat() if m.joined_on else "",
        m.party_org.name if m.party_org_id else "",
        m.compound.name,
        m.building,
        m.entrance,
        m.room,
        m.work_unit,
        m.get_status_display(),
        m.get_education_display(),
        m.profession,
        "、".join(s.name for s in m.specialties.all()),
        m.get_plate_display() if m.plate else "",
        m.note,
    )


def export(members, *, exported_by: str, unit_label: str) -> bytes:
    """Members, masked, with a watermark row naming who exported them and when."""
    wb = Workbook(write_only=True)
    ws = wb.create_sheet(_("党员名册"))
    at = timezone.localtime().strftime("%Y-%m-%d %H:%M")
    mark = WriteOnlyCell(
        ws,
        value=formula_safe(
            _("%(unit)s 党员名册 · 由 %(who)s 于 %(at)s 导出 · 内部资料，仅限工作使用，严禁外传")
            % {"unit": unit_label, "who": exported_by, "at": at}
        ),
    )
    mark.font = Font(bold=True, color="C00000")
    mark.alignment = Alignment(wrap_text=False)
    ws.append([mark])
    head = []
    for title in EXPORT_HEADERS:
        cell = WriteOnlyCell(ws, value=title)
        cell.font = BOLD
        head.append(cell)
    ws.append(head)
    count = 0
    for m in members:
        ws.append([formula_safe(v) for v in member_cells(m, masked=True)])
        count += 1
    return _save(wb), count
