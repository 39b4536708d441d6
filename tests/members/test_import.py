"""Importing registers: every file kind, the sample sheet as it arrives, a bad row 57,
re-import, formula cells, zip bombs and renamed files, scope — by the command line
and through the upload page."""

import io
import zipfile
from datetime import date

import pytest
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from hongyan.cli import main as hongyan
from hongyan.core.models import AuditEntry
from hongyan.members import importer
from hongyan.members.models import ImportBatch, Member, Specialty
from hongyan.orgs.models import Unit

from .conftest import FIXTURES, make_id

pytestmark = pytest.mark.django_db

SAMPLE_XLSX = FIXTURES / "党员花名册-恩和路社区.xlsx"
SAMPLE_XLS = FIXTURES / "党员花名册-恩和路社区.xls"
ENHE = "150902001001"  # 恩和路社区 (bob's)
HEADERS = ["序号", "姓名", "性别", "民族", "身份证号码", "手机", "入党时间", "所在小区", "特长"]


def sheet_rows(n: int, *, bad_row: int | None = None, compound="御景华府") -> list[list]:
    """n members, one per row, numbered from Excel row 2 (row 1 is the header)."""
    rows = []
    for i in range(n):
        excel_row = i + 2
        number = make_id(born=date(1950 + i % 30, 1 + i % 12, 1 + i % 28), seq=(100 + i) % 1000)
        if excel_row == bad_row:
            number = number[:17] + ("0" if number[17] != "0" else "1")  # wrong check digit
        rows.append(
            [i + 1, f"测试党员{i}", "", "汉族", number, f"139{i:08d}", "2010.07", compound, "法律"]
        )
    return rows


def xlsx_bytes(rows, headers=HEADERS, title=None) -> bytes:
    wb = Workbook()
    ws = wb.active
    if title:
        ws.append([title])
    ws.append(headers)
    for row in rows:
        ws.append(row)
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def check(data: bytes, name: str, unit_code=ENHE, actor=None):
    return importer.check_file(data, name, actor=actor, unit=Unit.objects.get(code=unit_code))


def import_(data: bytes, name: str, unit_code=ENHE, actor=None):
    return importer.import_file(data, name, actor=actor, unit=Unit.objects.get(code=unit_code))


# --- the sample sheet as communities keep it -------------------------------------------------


@pytest.mark.parametrize("path", [SAMPLE_XLSX, SAMPLE_XLS], ids=["xlsx", "xls"])
def test_the_sample_register_imports_as_it_is(path, bob):
    plan = check(path.read_bytes(), path.name, actor=bob)
    assert plan.ok, [str(p) for p in plan.problems]
    assert plan.total_rows == 14 and len(plan.rows) == 14  # title, footer and blank rows skipped
    assert sorted(plan.new_compounds) == sorted(["恩和花园", "体育场小区", "怀远北路3号院"])
    by_name = {r.data["name"]: r for r in plan.rows}
    # merged 所在小区 filled down; dates typed five ways; full-width mobile; spaced ID
    assert by_name["巴特尔"].compound_name == "恩和花园"
    assert by_name["张学平"].compound_name == "怀远北路3号院"
    assert by_name["巴特尔"].data["joined_on"] == date(2001, 7, 1)
    assert by_name["乌云其其格"].data["mobile"] == "13822633920"
    assert by_name["史白瑾"].data["id_number"] == "150902197907161627"
    assert by_name["梁艳荣"].data["plate"] == "pioneer"  # written in 备注
    assert by_name["单雄信"].data["status"] == "retired"
    assert by_name["梁艳荣"].specialties == ["文艺", "书法"]
    imported, result = import_(path.read_bytes(), path.name, actor=bob)
    assert result["created"] == 14 and imported.summary() == plan.summary()
    assert Unit.objects.filter(parent__code=ENHE, name="恩和花园").exists()
    assert Member.objects.get(name="刘桂兰").note == "身体不便，需上门服务"
    assert Specialty.objects.filter(name="剪纸").exists()
    entry = AuditEntry.objects.filter(action="member.import").last()
    assert entry.detail["created"] == 14 and entry.actor == bob


def test_reimport_updates_never_duplicates(bob):
    import_(SAMPLE_XLSX.read_bytes(), SAMPLE_XLSX.name, actor=bob)
    again = check(SAMPLE_XLS.read_bytes(), SAMPLE_XLS.name, actor=bob)
    assert again.ok and again.updates == 14
    assert import_(SAMPLE_XLS.read_bytes(), SAMPLE_XLS.name, actor=bob)[1] == {
        "created": 0,
        "updated": 14,
        "compounds_created": [],
        "specialties_created": [],
    }
    assert Member.objects.count() == 14
    assert Unit.objects.filter(parent__code=ENHE, name="恩和花园").count() == 1


# --- file kinds -------------------------------------------------------------------------------


def test_gb18030_csv_with_rare_characters(tree, bob):
    text = f"姓名,身份证号码,所在小区,性别\n刘䶮,{make_id(seq=111)},御景华府,男\n"
    plan, result = import_(text.encode("gb18030"), "名册.csv", actor=bob)
    assert plan.ok and result["created"] == 1, [str(p) for p in plan.problems]
    member = Member.objects.get(name="刘䶮")
    assert member.compound == tree.compound_a
    from hongyan.members.selectors import member_list

    assert list(member_list(bob, q="ly")) == [member]


@pytest.mark.parametrize("bom", [b"", b"\xef\xbb\xbf"], ids=["utf8", "utf8-bom"])
def test_utf8_csv_with_or_without_bom(tree, bob, bom):
    text = f"名字,公民身份号码,小区\n王芳,{make_id(seq=112)},御景华府\n"
    plan = check(bom + text.encode(), "名册.csv", actor=bob)
    assert plan.ok, [str(p) for p in plan.problems]
    assert plan.rows[0].data["name"] == "王芳"


def test_bad_row_57_imports_nothing_and_is_reported(tree, bob):
    data = xlsx_bytes(sheet_rows(60, bad_row=57))
    plan = check(data, "名册.xlsx", actor=bob)
    assert not plan.ok
    assert [(p.row, p.column) for p in plan.problems if p.level == "error"] == [(57, "身份证号码")]
    imported, result = import_(data, "名册.xlsx", actor=bob)
    assert result is None and imported.problems == plan.problems
    assert Member.objects.count() == 0


def test_a_bad_row_after_written_slices_rolls_everything_back(tree, bob, monkeypatch):
    """The import writes slices as rows pass: a bad row late in the sheet takes back the
    members, keys, specialties and compounds already written."""
    monkeypatch.setattr(importer._Committer, "SLICE", 10)
    rows = sheet_rows(60, bad_row=57)
    rows[20][7] = "新建小区甲"  # a compound the register does not know: created mid-way
    rows[30][8] = "剪纸"  # and a new specialty
    data = xlsx_bytes(rows)
    before = (Unit.objects.count(), Specialty.objects.count(), AuditEntry.objects.count())
    plan, result = import_(data, "名册.xlsx", actor=bob)
    assert result is None
    assert [(p.row, p.column) for p in plan.problems if p.level == "error"] == [(57, "身份证号码")]
    assert Member.objects.count() == 0
    assert Member.specialties.through.objects.count() == 0
    assert (Unit.objects.count(), Specialty.objects.count(), AuditEntry.objects.count()) == before


def test_new_compounds_and_specialties_between_written_slices(tree, bob, monkeypatch):
    monkeypatch.setattr(importer._Committer, "SLICE", 10)
    rows = sheet_rows(45)
    for row in rows[25:]:
        row[7] = "新建小区乙"  # first met after two slices went to the writer
    rows[40][8] = "剪纸、法律"
    plan, result = import_(xlsx_bytes(rows), "名册.xlsx", actor=bob)
    assert result == {
        "created": 45,
        "updated": 0,
        "compounds_created": ["新建小区乙"],
        "specialties_created": ["剪纸"],
    }
    new = Unit.objects.get(parent__code=ENHE, name="新建小区乙")
    assert Member.objects.filter(compound=new).count() == 20
    assert Member.objects.filter(compound=tree.compound_a).count() == 25
    assert sorted(
        Member.objects.get(name="测试党员40").specialties.values_list("name", flat=True)
    ) == ["剪纸", "法律"]
    assert set(Member.objects.values_list("pk", flat=True)) == set(
        Member.objects.filter(search_keys__key="csdy").values_list("pk", flat=True)
    )


def test_an_import_sealed_in_the_helper_process_reads_back(tree, bob, monkeypatch):
    """Big sheets seal ID numbers and mobiles in a helper process: what lands in the
    register opens, masks and is found exactly as from the form."""
    from hongyan.core import sealing
    from hongyan.members.selectors import member_list

    monkeypatch.setattr(importer, "HELPER_FROM_BYTES", 0)
    monkeypatch.setattr(sealing.os, "sched_getaffinity", lambda _pid: {0, 1})
    monkeypatch.setattr(importer._Committer, "SLICE", 7)
    rows = sheet_rows(30)
    rows[3][5] = ""  # a member without a mobile
    plan, result = import_(xlsx_bytes(rows), "名册.xlsx", actor=bob)
    assert result["created"] == 30, [str(p) for p in plan.problems]
    for i, row in enumerate(rows):
        member = Member.objects.get(name=f"测试党员{i}")
        assert member.id_number == row[4] and member.mobile == row[5]
    assert list(member_list(bob, q=rows[17][4])) == [Member.objects.get(name="测试党员17")]
    assert list(member_list(bob, q=rows[18][5])) == [Member.objects.get(name="测试党员18")]


def test_header_names_are_matched_leniently(tree, bob):
    headers = ["名字", "公民身份号码（18位）", "手机号码*", "居住小区", "学历", "党员身份", "专长"]
    row = ["赵敏", make_id(seq=114), "13912345678", "御景华府", "硕士", "预备", "法律/医疗"]
    plan = check(xlsx_bytes([row], headers=headers, title="御景华府党员名单"), "x.xlsx", actor=bob)
    assert plan.ok, [str(p) for p in plan.problems]
    data = plan.rows[0].data
    assert data["education"] == "postgraduate" and data["category"] == "probationary"
    assert plan.rows[0].specialties == ["法律", "医疗"]


def test_every_problem_is_named_by_row_and_column(tree, bob):
    rows = sheet_rows(3)
    rows[0][5] = "1234"  # mobile
    rows[1][3] = "火星族"  # ethnicity
    rows[2][4] = rows[1][4]  # the same ID twice
    plan = check(xlsx_bytes(rows), "x.xlsx", actor=bob)
    errors = {(p.row, p.column) for p in plan.problems if p.level == "error"}
    assert errors == {(2, "手机"), (3, "民族"), (4, "身份证号码")}


def test_ids_stored_as_numbers_are_refused(tree, bob):
    rows = sheet_rows(1)
    rows[0][4] = 150902198001011234.0  # Excel kept it as a number: the last digits are gone
    plan = check(xlsx_bytes(rows), "x.xlsx", actor=bob)
    assert "文本" in plan.problems[0].message


# --- hostile files ---------------------------------------------------------------------------


def test_formula_cells_are_refused(tree, bob):
    rows = sheet_rows(2)
    rows[1][1] = '=HYPERLINK("http://evil.example","点我")'
    plan = check(xlsx_bytes(rows), "x.xlsx", actor=bob)
    assert not plan.ok
    assert any(p.row == 3 and "公式" in p.message for p in plan.problems)


@pytest.mark.parametrize("start", ["+", "-", "@", "\t"])
def test_text_that_looks_like_a_formula_is_refused(tree, bob, start):
    text = f"姓名,身份证号码,所在小区,备注\n王芳,{make_id(seq=112)},御景华府,{start}cmd\n"
    plan = check(text.encode(), "x.csv", actor=bob)
    assert not plan.ok and plan.problems[0].row == 2 and plan.problems[0].column == "备注"


def test_zip_bomb_is_refused_before_parsing(tree, bob):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("xl/workbook.xml", "<workbook/>")
        z.writestr("xl/worksheets/sheet1.xml", b"\0" * (importer.MAX_UNZIPPED + 1))
    with pytest.raises(importer.FileRefused, match="压缩炸弹"):
        check(out.getvalue(), "bomb.xlsx", actor=bob)


@pytest.mark.parametrize(
    "data, name",
    [
        (b"%PDF-1.7 not a sheet", "名册.xlsx"),
        (b"\x89PNG\r\n\x1a\n....", "名册.csv"),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 600,
            "名册.xls",
        ),  # an OLE file, not a workbook
        (b"name,id\n", "名册.xlsx"),  # text renamed .xlsx
    ],
    ids=["pdf", "png", "ole-garbage", "text-as-xlsx"],
)
def test_renamed_files_are_refused_with_a_clear_message(tree, bob, data, name):
    with pytest.raises(importer.FileRefused) as refused:
        check(data, name, actor=bob)
    assert str(refused.value)


def test_a_docx_is_not_a_workbook(tree, bob):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<document/>")
    with pytest.raises(importer.FileRefused, match="不是 Excel"):
        check(out.getvalue(), "名册.xlsx", actor=bob)


def test_size_and_row_limits(tree, bob, monkeypatch):
    monkeypatch.setattr(importer, "MAX_BYTES", 1000)
    with pytest.raises(importer.FileRefused, match="上限"):
        check(b"x" * 1001, "big.csv", actor=bob)
    monkeypatch.setattr(importer, "MAX_BYTES", 10**8)
    monkeypatch.setattr(importer, "MAX_ROWS", 10)
    with pytest.raises(importer.FileRefused, match="行"):
        check(xlsx_bytes(sheet_rows(40)), "many.xlsx", actor=bob)
    with pytest.raises(importer.FileRefused, match="行"):
        check(("姓名,身份证号码\n" + "a,b\n" * 40).encode(), "many.csv", actor=bob)


def test_no_header_row(tree, bob):
    with pytest.raises(importer.FileRefused, match="表头"):
        check(xlsx_bytes([["a", "b"]], headers=["甲", "乙"]), "x.xlsx", actor=bob)


# --- scope ------------------------------------------------------------------------------------


def test_an_existing_member_of_another_community_is_not_overwritten(tree, bob, charlie):
    number = make_id(seq=121)
    text = f"姓名,身份证号码,所在小区\n龙一,{number},龙湾新城\n"
    import_(text.encode(), "b.csv", unit_code="150902002001", actor=charlie)
    plan = check(f"姓名,身份证号码,所在小区\n龙一,{number},御景华府\n".encode(), "a.csv", actor=bob)
    assert not plan.ok and "其他社区" in plan.problems[0].message


# --- command line -------------------------------------------------------------------------------


def test_cli_dry_run_and_commit(tree, capsys):
    assert hongyan(["import", "members", str(SAMPLE_XLSX), "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "恩和路社区" in out and Member.objects.count() == 0
    assert hongyan(["import", "members", str(SAMPLE_XLSX), "--unit", ENHE]) == 0
    assert Member.objects.count() == 14


def test_cli_bad_row_exit_status_and_report(tree, tmp_path, capsys):
    path = tmp_path / "bad.xlsx"
    path.write_bytes(xlsx_bytes(sheet_rows(60, bad_row=57)))
    report = tmp_path / "report.xlsx"
    code = hongyan(["import", "members", str(path), "--unit", ENHE, "--report", str(report)])
    assert code == 1
    assert "row 57, 身份证号码: " in capsys.readouterr().out
    assert Member.objects.count() == 0
    ws = load_workbook(report).active
    assert any(row[0] == 57 for row in ws.iter_rows(values_only=True))


def test_cli_refuses_a_renamed_file(tmp_path, capsys, db):
    path = tmp_path / "x.xlsx"
    path.write_bytes(b"%PDF-1.4")
    assert hongyan(["import", "members", str(path), "--unit", ENHE]) == 2


# --- the upload page --------------------------------------------------------------------------


def upload(client, data: bytes, name: str, unit=ENHE):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return client.post(
        reverse("members:import"), {"file": SimpleUploadedFile(name, data), "unit": unit}
    )


def test_upload_fix_and_import_again(login, tree, bob):
    client = login(bob)
    assert client.get(reverse("members:import")).status_code == 200
    response = upload(client, xlsx_bytes(sheet_rows(60, bad_row=57)), "名册.xlsx")
    assert response.status_code == 302
    report = client.get(response["Location"])
    html = report.content.decode()
    assert "确认导入" not in html and ">57<" in html
    batch = ImportBatch.objects.get()
    sheet = client.get(reverse("members:import_report"), {"batch": batch.pk})
    assert sheet.status_code == 200 and sheet["Content-Type"].startswith("application/vnd")
    # commit refused while errors remain
    client.post(reverse("members:import_commit"), {"batch": batch.pk})
    assert Member.objects.count() == 0
    # the fixed file
    response = upload(client, xlsx_bytes(sheet_rows(60)), "名册.xlsx")
    fixed = ImportBatch.objects.order_by("-pk").first()
    assert "确认导入" in client.get(response["Location"]).content.decode()
    done = client.post(reverse("members:import_commit"), {"batch": fixed.pk})
    assert done.status_code == 302 and Member.objects.count() == 60
    assert "lyr" not in done["Location"]
    fixed.refresh_from_db()
    assert fixed.state == "committed"


def test_upload_is_stored_encrypted(login, tree, bob, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    rows = sheet_rows(1)
    upload(login(bob), xlsx_bytes(rows), "名册.xlsx")
    stored = next((tmp_path / "imports").iterdir()).read_bytes()
    assert stored.startswith(b"k") and b"PK\x03\x04" not in stored[:64]


def test_upload_refused_file_shows_the_reason(login, tree, bob):
    response = upload(login(bob), b"%PDF-1.4", "名册.xlsx")
    assert response.status_code == 200
    assert "不是 Excel" in response.content.decode()


def test_charlie_cannot_import_into_bobs_community(login, tree, charlie):
    response = upload(login(charlie), xlsx_bytes(sheet_rows(1)), "名册.xlsx")
    assert response.status_code == 200 and "unit" in response.context["form"].errors
    assert not ImportBatch.objects.exists()


def test_charlie_cannot_see_or_commit_bobs_batch(login, tree, bob, charlie):
    upload(login(bob), xlsx_bytes(sheet_rows(2)), "名册.xlsx")
    batch = ImportBatch.objects.get()
    client = login(charlie)
    assert client.get(reverse("members:import"), {"batch": batch.pk}).status_code == 404
    assert client.post(reverse("members:import_commit"), {"batch": batch.pk}).status_code == 404
    assert client.get(reverse("members:import_report"), {"batch": batch.pk}).status_code == 404
    assert Member.objects.count() == 0


def test_grid_worker_may_not_import(login, tree, make_user):
    from hongyan.core.roles import Role

    grid_worker = make_user(Role.GRID_WORKER, tree.compound_a)
    assert login(grid_worker).get(reverse("members:import")).status_code == 403


def test_template_download(login, tree, bob):
    response = login(bob).get(reverse("members:import_template"))
    ws = load_workbook(io.BytesIO(response.content)).active
    headers = [c.value for c in ws[2]]
    assert "姓名" in headers and "身份证号码" in headers
    # the template itself imports cleanly (its example row included)
    plan = importer.check_file(response.content, "模板.xlsx", actor=bob, unit=tree.community_a)
    assert plan.ok, [str(p) for p in plan.problems]


def test_formula_cells_in_an_xls_are_refused(tree, bob):
    # made with xlwt: row 3's name is the formula "李"&"四" (calamine sees only "")
    plan = check((FIXTURES / "formula.xls").read_bytes(), "formula.xls", actor=bob)
    assert not plan.ok
    assert any(p.row == 3 and p.column == "姓名" and "公式" in p.message for p in plan.problems)


def test_abandoned_uploads_are_swept_after_a_day(login, tree, bob, settings, tmp_path):
    from datetime import timedelta

    from django.utils import timezone

    from hongyan.members.imports import sweep_uploads

    settings.MEDIA_ROOT = tmp_path
    upload(login(bob), xlsx_bytes(sheet_rows(1)), "名册.xlsx")
    batch = ImportBatch.objects.get()
    assert sweep_uploads() == 0
    ImportBatch.objects.filter(pk=batch.pk).update(created_at=timezone.now() - timedelta(days=2))
    assert sweep_uploads() == 1
    assert not any((tmp_path / "imports").iterdir())
    response = login(bob).post(reverse("members:import_commit"), {"batch": batch.pk})
    assert response.status_code == 302 and Member.objects.count() == 0  # "please upload again"
