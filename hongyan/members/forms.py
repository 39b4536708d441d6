from django import forms
from django.utils.translation import gettext_lazy as _

from .models import (
    ETHNICITIES,
    Category,
    Education,
    Gender,
    Plate,
    RemovalKind,
    Specialty,
    Status,
)
from .services import clean_member


class MemberForm(forms.Form):
    """The member form. Fields are lenient text; `clean_member()` (the same check the
    API and the import use) decides, and every problem lands next to its field."""

    unit = forms.ChoiceField(label=_("所在小区"))
    name = forms.CharField(label=_("姓名"), max_length=40)
    id_number = forms.CharField(
        label=_("身份证号码"), max_length=30, help_text=_("18 位；修改时留空则不变。")
    )
    gender = forms.ChoiceField(
        label=_("性别"),
        required=False,
        choices=[("", _("按身份证号码"))] + list(Gender.choices),
    )
    ethnicity = forms.ChoiceField(label=_("民族"), choices=[(e, e) for e in ETHNICITIES])
    birth_date = forms.CharField(
        label=_("出生日期"), required=False, help_text=_("留空则按身份证号码。")
    )
    mobile = forms.CharField(
        label=_("手机号码"), required=False, max_length=20, help_text=_("修改时留空则不变。")
    )
    category = forms.ChoiceField(label=_("党员类别"), choices=Category.choices)
    joined_on = forms.CharField(
        label=_("入党日期"), required=False, help_text=_("如 2001-07-01、2001.07 或 2001年7月。")
    )
    building = forms.CharField(label=_("楼栋"), required=False, max_length=20)
    entrance = forms.CharField(label=_("单元"), required=False, max_length=10)
    room = forms.CharField(label=_("房号"), required=False, max_length=10)
    status = forms.ChoiceField(label=_("状态"), choices=Status.choices)
    work_unit = forms.CharField(label=_("工作单位"), required=False, max_length=100)
    work_unit_org = forms.CharField(label=_("工作单位党组织"), required=False, max_length=100)
    education = forms.ChoiceField(
        label=_("文化程度"), required=False, choices=[("", "—")] + list(Education.choices)
    )
    profession = forms.CharField(label=_("职业"), required=False, max_length=60)
    specialties = forms.MultipleChoiceField(
        label=_("特长"), required=False, widget=forms.CheckboxSelectMultiple
    )
    plate = forms.ChoiceField(label=_("户牌"), required=False, choices=Plate.choices)
    note = forms.CharField(label=_("备注"), required=False, max_length=200)

    def __init__(self, *args, homes, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.editing = editing
        self.fields["unit"].choices = [(u.code, label) for u, label in homes]
        self.fields["specialties"].choices = [(s.name, s.name) for s in Specialty.objects.all()]
        if editing:
            self.fields["id_number"].required = False

    def clean(self):
        data = super().clean()
        raw = {k: v for k, v in data.items() if k != "unit"}
        if self.editing:
            for optional in ("id_number", "gender", "mobile"):
                if not raw.get(optional):
                    raw.pop(optional, None)
        cleaned, problems = clean_member(raw, partial=self.editing)
        for field, message in problems:
            self.add_error(field if field in self.fields else None, message)
        return data


class ImportForm(forms.Form):
    file = forms.FileField(
        label=_("党员花名册文件"), help_text=_("支持 .xlsx、.xls、.csv（UTF-8 或 GB18030）。")
    )
    unit = forms.ChoiceField(label=_("导入到社区"))

    def __init__(self, *args, communities, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.code, label) for u, label in communities]


class PostForm(forms.Form):
    member = forms.ChoiceField(label=_("党员"))
    kind = forms.ChoiceField(label=_("职务"))
    unit = forms.ChoiceField(label=_("负责的小区、网格或楼栋"))
    building = forms.CharField(
        label=_("楼栋"),
        required=False,
        max_length=20,
        help_text=_("楼栋长、单元长填写，如“3号楼”。"),
    )
    entrance = forms.CharField(label=_("单元"), required=False, max_length=10)
    since = forms.DateField(label=_("任职日期"), required=False)
    elected_on = forms.DateField(
        label=_("推选会日期"), required=False, help_text=_("楼栋长由推选会产生。")
    )
    votes_cast = forms.IntegerField(label=_("参会户数"), required=False, min_value=1)
    votes_for = forms.IntegerField(label=_("赞成票"), required=False, min_value=0)

    def __init__(self, *args, members, units, kinds, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = [(m.pk, f"{m.name} {m.home_label}") for m in members]
        self.fields["unit"].choices = [(u.code, u.name) for u in units]
        self.fields["kind"].choices = kinds


class PairingForm(forms.Form):
    work_unit = forms.CharField(label=_("报到单位"), max_length=100)
    party_org_name = forms.CharField(label=_("单位党组织"), max_length=100)
    agreement = forms.CharField(label=_("共建协议"), max_length=200, required=False)
    signed_on = forms.DateField(label=_("签订日期"), required=False)
    contact = forms.CharField(label=_("联系人"), max_length=60, required=False)
    services = forms.CharField(label=_("服务项目"), max_length=200, required=False)


class TransferForm(forms.Form):
    unit = forms.ChoiceField(label=_("迁入的小区"))
    building = forms.CharField(label=_("楼栋"), required=False, max_length=20)
    entrance = forms.CharField(label=_("单元"), required=False, max_length=10)
    room = forms.CharField(label=_("房号"), required=False, max_length=10)

    def __init__(self, *args, homes, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [(u.code, label) for u, label in homes]


class RemoveForm(forms.Form):
    kind = forms.ChoiceField(
        label=_("移出原因"), choices=RemovalKind.choices, widget=forms.RadioSelect
    )
    reason = forms.CharField(
        label=_("说明"),
        required=False,
        max_length=200,
        help_text=_("如转往的党组织、去世日期；原因为“其他”时必填。将记入审计日志。"),
    )
