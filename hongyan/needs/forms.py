"""Forms of the needs pages. They only shape input: every rule (text length, mobile,
photos, states) is the services' (`hongyan.needs.services`), whose errors the views put
back on the field they name."""

from django import forms
from django.utils.translation import gettext_lazy as _

from .models import PHOTOS_MAX, TEXT_MAX, Channel, DeadlineUnit, Status


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class PhotosField(forms.FileField):
    widget = MultipleFileInput

    def clean(self, data, initial=None):
        files = data if isinstance(data, list | tuple) else ([data] if data else [])
        return [f for f in files if f]


def _text_widget(rows=4):
    return forms.Textarea(attrs={"rows": rows, "maxlength": TEXT_MAX})


class NeedForm(forms.Form):
    """Filing a need: the public page, a resident account, or staff for a resident.

    The place is picked down the tree (旗县区 → 街道/乡镇 → 社区 → 小区) or, below a
    community, typed as an address; the selects' choices are filled by the view."""

    resident_name = forms.CharField(label=_("您的姓名"), max_length=40, required=False)
    resident_mobile = forms.CharField(
        label=_("手机号码"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "tel"}),
    )
    county = forms.CharField(label=_("旗县区"), required=False)
    township = forms.CharField(label=_("街道/乡镇"), required=False)
    community = forms.CharField(label=_("社区/村"), required=False)
    compound = forms.CharField(label=_("小区/自然村"), required=False)
    building = forms.CharField(label=_("楼栋"), required=False)
    address = forms.CharField(
        label=_("详细地址"),
        max_length=200,
        required=False,
        help_text=_("找不到小区时，请写清楼号、单元、门牌"),
    )
    category = forms.ChoiceField(label=_("需求类别"), choices=())
    text = forms.CharField(label=_("需求内容"), widget=_text_widget(5), required=False)
    photos = PhotosField(
        label=_("照片（最多 %(n)d 张，每张不超过 5 MB）") % {"n": PHOTOS_MAX},
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/*"}),
    )

    def __init__(self, *args, categories, staff_channels=False, public=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["text"].error_messages["required"] = _("请填写需求内容。")
        self.fields["text"].required = True
        self.fields["category"].error_messages["required"] = _("请选择需求类别。")
        if public:  # no account: we must know whom to call back
            self.fields["resident_name"].required = True
            self.fields["resident_name"].error_messages["required"] = _("请填写您的姓名。")
            self.fields["resident_mobile"].required = True
            self.fields["resident_mobile"].error_messages["required"] = _("请填写手机号码。")
        self.fields["category"].choices = [("", _("请选择"))] + [
            (c.code, c.name) for c in categories
        ]
        if staff_channels:
            self.fields["channel"] = forms.ChoiceField(
                label=_("登记方式"),
                choices=[
                    (Channel.DESK, Channel.DESK.label),
                    (Channel.PROXY, Channel.PROXY.label),
                    (Channel.HOTLINE, Channel.HOTLINE.label),
                    (Channel.VISIT, Channel.VISIT.label),
                ],
            )
            self.fields["source_ref"] = forms.CharField(
                label=_("来源记录（热线工单号等）"), max_length=60, required=False
            )
            self.fields["resident_name"].label = _("居民姓名")
            self.fields["resident_mobile"].help_text = _("居民没有手机可不填（代办登记）")
            self.order_fields(["channel", "resident_name", "resident_mobile", "source_ref"])

    def place_code(self) -> str:
        data = self.cleaned_data
        return data.get("building") or data.get("compound") or data.get("community") or ""


class QueueFilterForm(forms.Form):
    status = forms.ChoiceField(label=_("状态"), required=False)
    category = forms.ChoiceField(label=_("类别"), required=False)
    channel = forms.ChoiceField(label=_("渠道"), required=False)
    overdue = forms.BooleanField(label=_("只看超期"), required=False)
    q = forms.CharField(label=_("编号或内容"), required=False, max_length=60)

    def __init__(self, *args, categories, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", _("全部状态")), ("open", _("未办结"))] + list(
            Status.choices
        )
        self.fields["category"].choices = [("", _("全部类别"))] + [
            (c.code, c.name) for c in categories
        ]
        self.fields["channel"].choices = [("", _("全部渠道"))] + list(Channel.choices)


class NoteForm(forms.Form):
    note = forms.CharField(label=_("备注"), required=False, max_length=500, widget=_text_widget(2))


class RequiredNoteForm(forms.Form):
    # the service checks the length and names the field; required=False keeps its message
    note = forms.CharField(label=_("原因"), required=False, max_length=500, widget=_text_widget(2))


class RejectForm(forms.Form):
    reason = forms.CharField(label=_("不予受理原因"), required=False, max_length=200)


class DispatchForm(forms.Form):
    target = forms.ChoiceField(label=_("派给"), required=False)
    team_name = forms.CharField(label=_("或填写志愿服务队名称"), required=False, max_length=100)
    note = forms.CharField(label=_("备注"), required=False, max_length=500, widget=_text_widget(2))

    def __init__(self, *args, targets, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["target"].choices = [("", _("请选择"))] + targets


class ResolveForm(forms.Form):
    resolution = forms.CharField(label=_("办理结果"), required=False, widget=_text_widget(3))
    photos = PhotosField(
        label=_("办结照片（最多 %(n)d 张）") % {"n": PHOTOS_MAX},
        required=False,
        widget=MultipleFileInput(attrs={"accept": "image/*"}),
    )


class RateForm(forms.Form):
    rating = forms.TypedChoiceField(
        label=_("满意度"),
        coerce=int,
        choices=[
            (5, _("5 星 · 非常满意")),
            (4, _("4 星 · 满意")),
            (3, _("3 星 · 基本满意")),
            (2, _("2 星 · 不满意")),
            (1, _("1 星 · 很不满意")),
        ],
        widget=forms.RadioSelect(attrs={"class": "form-check-input"}),
        error_messages={"required": _("请选择 1 到 5 星。")},
    )
    comment = forms.CharField(
        label=_("评价意见"), required=False, max_length=500, widget=_text_widget(2)
    )


class TransferForm(forms.Form):
    to_unit = forms.ChoiceField(label=_("转给"), required=False)
    note = forms.CharField(
        label=_("转办原因"), required=False, max_length=500, widget=_text_widget(2)
    )

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["to_unit"].choices = [("", _("请选择"))] + units


class MergeForm(forms.Form):
    into = forms.CharField(label=_("合并到（需求编号）"), required=False, max_length=20)
    note = forms.CharField(label=_("备注"), required=False, max_length=500, widget=_text_widget(2))


class CategoryForm(forms.Form):
    code = forms.CharField(
        label=_("代码"),
        max_length=40,
        required=False,
        help_text=_("小写字母开头，如 heating；也是 Open311 的 service_code，定下后不再改"),
    )
    name = forms.CharField(label=_("名称"), max_length=30, required=False)
    description = forms.CharField(label=_("说明"), max_length=200, required=False)
    deadline_value = forms.IntegerField(label=_("办理时限"), min_value=1, max_value=720)
    deadline_unit = forms.ChoiceField(label=_("时限单位"), choices=DeadlineUnit.choices)
    response_hours = forms.IntegerField(label=_("响应时限（工作小时）"), min_value=1, max_value=720)
    owner_level = forms.ChoiceField(
        label=_("默认承办层级"),
        choices=[
            ("community", _("社区/村")),
            ("township", _("街道/乡镇")),
            ("county", _("旗县区")),
        ],
    )
    specialties = forms.MultipleChoiceField(
        label=_("相关特长（用于推荐派单对象）"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    active = forms.BooleanField(label=_("启用"), required=False, initial=True)

    def __init__(self, *args, specialties, editing=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["specialties"].choices = [(s, s) for s in specialties]
        if editing:
            self.fields["code"].disabled = True
