"""Forms of the care pages. They only shape input: every rule is the services'
(`hongyan.care.services`), whose errors the views put back on the field they name."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import (
    TEXT_MAX,
    AllowanceCheck,
    CareService,
    CertificationCheck,
    ConsentMethod,
    DibaoCheck,
    FindingKind,
    Gender,
    Wellbeing,
)

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
NOT_CHECKED = [("", _("未核查"))]


class RecipientForm(forms.Form):
    unit = forms.ChoiceField(label=_("居住单位（小区、网格或楼栋）"), choices=())
    group = forms.ChoiceField(label=_("关爱群体"), choices=())
    name = forms.CharField(label=_("姓名"), max_length=40)
    gender = forms.ChoiceField(
        label=_("性别"), choices=[("", "—"), *Gender.choices], required=False
    )
    id_number = forms.CharField(
        label=_("身份证号码"),
        max_length=30,
        required=False,
        help_text=_("填写后自动得出出生日期和性别；修改时留空表示不变"),
    )
    birth_date = forms.DateField(label=_("出生日期"), required=False, widget=DATE)
    mobile = forms.CharField(
        label=_("联系电话"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel"}),
        help_text=_("修改时留空表示不变"),
    )
    address = forms.CharField(label=_("住址（楼栋、单元、门牌）"), max_length=100, required=False)
    household = forms.CharField(label=_("家庭情况"), max_length=200, required=False)
    interval_days = forms.IntegerField(
        label=_("走访周期（天）"),
        required=False,
        help_text=_("不填则按群体默认周期：独居老人每周，其他每月"),
    )
    visitor = forms.ChoiceField(label=_("走访人"), choices=(), required=False)
    guardian_name = forms.CharField(label=_("监护人姓名"), max_length=40, required=False)
    guardian_relation = forms.CharField(label=_("与儿童关系"), max_length=20, required=False)
    consent_on = forms.DateField(label=_("监护人同意日期"), required=False, widget=DATE)
    consent_method = forms.ChoiceField(
        label=_("监护人同意方式"), choices=[("", "—"), *ConsentMethod.choices], required=False
    )

    def __init__(self, *args, units, groups, visitors, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = [("", "—")] + [(u.code, u.label) for u in units]
        self.fields["group"].choices = [("", "—")] + [(g.code, g.name) for g in groups]
        self.fields["visitor"].choices = [("", _("暂不指定"))] + visitors


class VisitForm(forms.Form):
    visited_on = forms.DateField(label=_("走访日期"), required=False, widget=DATE)
    seen = forms.TypedChoiceField(
        label=_("见到本人了吗"),
        choices=[("1", _("见到了")), ("0", _("没见到"))],
        coerce=lambda v: v == "1",
        initial="1",
        widget=forms.RadioSelect,
    )
    wellbeing = forms.ChoiceField(
        label=_("身体和生活状况"),
        choices=Wellbeing.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    services = forms.MultipleChoiceField(
        label=_("提供的服务"),
        choices=CareService.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    elderly_certification = forms.ChoiceField(
        label=_("高龄认证"),
        choices=NOT_CHECKED + CertificationCheck.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    elderly_allowance = forms.ChoiceField(
        label=_("高龄补贴"),
        choices=NOT_CHECKED + AllowanceCheck.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    dibao_status = forms.ChoiceField(
        label=_("低保"),
        choices=NOT_CHECKED + DibaoCheck.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    finding_kind = forms.ChoiceField(
        label=_("发现的问题"),
        choices=[("", _("没有"))] + FindingKind.choices,
        required=False,
        widget=forms.RadioSelect,
    )
    findings = forms.CharField(
        label=_("问题描述"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": TEXT_MAX}),
    )
    note = forms.CharField(
        label=_("备注"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2, "maxlength": TEXT_MAX}),
    )


class RaiseNeedForm(forms.Form):
    category = forms.ChoiceField(label=_("需求类别"), choices=())
    text = forms.CharField(
        label=_("需要解决的问题"),
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000}),
    )

    def __init__(self, *args, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [(c.code, c.name) for c in categories]


class ListFilterForm(forms.Form):
    q = forms.CharField(label=_("姓名、住址、身份证号或电话"), required=False)
    group = forms.ChoiceField(label=_("群体"), choices=(), required=False)
    status = forms.ChoiceField(
        label=_("走访状态"),
        required=False,
        choices=[
            ("", _("全部在册")),
            ("overdue", _("已超期")),
            ("due", _("今天及超期")),
            ("soon", _("一周内到期")),
            ("ok", _("未到期")),
            ("ended", _("已销册")),
        ],
    )

    def __init__(self, *args, groups, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["group"].choices = [("", _("全部"))] + [(g.code, g.name) for g in groups]


class GroupForm(forms.Form):
    """A care group's default visit frequency and whether it can still be chosen."""

    code = forms.CharField(widget=forms.HiddenInput)
    interval_days = forms.IntegerField(
        label=_("默认走访周期（天）"),
        widget=forms.NumberInput(attrs={"inputmode": "numeric"}),
    )
    active = forms.BooleanField(label=_("启用"), required=False)
