from django import forms
from django.utils.translation import gettext_lazy as _


class ExportForm(forms.Form):
    unit = forms.ChoiceField(label=_("导出单位"))
    masked = forms.BooleanField(
        label=_("身份证号码、手机号码脱敏"),
        required=False,
        initial=True,
        help_text=_("取消勾选将导出完整的个人信息：必须说明用途，并由另一位有审批权限的同事批准。"),
    )
    reason = forms.CharField(
        label=_("用途"), required=False, max_length=500, widget=forms.Textarea(attrs={"rows": 2})
    )

    def __init__(self, *args, units, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["unit"].choices = units

    def clean(self):
        data = super().clean()
        if not data.get("masked") and not (data.get("reason") or "").strip():
            self.add_error("reason", _("导出完整的个人信息须说明用途。"))
        return data


class DecisionForm(forms.Form):
    decision = forms.ChoiceField(choices=[("approve", _("批准")), ("refuse", _("拒绝"))])
    note = forms.CharField(label=_("意见"), required=False, max_length=500)
