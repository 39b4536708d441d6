from django import forms
from django.contrib.auth import password_validation
from django.utils.translation import gettext_lazy as _


class LoginForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150)
    password = forms.CharField(label=_("密码"), widget=forms.PasswordInput)


class PasswordChangeForm(forms.Form):
    old_password = forms.CharField(label=_("原密码"), widget=forms.PasswordInput)
    new_password = forms.CharField(
        label=_("新密码"),
        widget=forms.PasswordInput,
        help_text=password_validation.password_validators_help_text_html,
    )
    new_password2 = forms.CharField(label=_("再次输入新密码"), widget=forms.PasswordInput)

    def clean(self):
        data = super().clean()
        if data.get("new_password") and data.get("new_password") != data.get("new_password2"):
            self.add_error("new_password2", _("两次输入的新密码不一致。"))
        return data


class CodeForm(forms.Form):
    code = forms.CharField(
        label=_("动态口令"),
        max_length=20,
        help_text=_("身份验证器上显示的 6 位数字。"),
    )


class AccountCreateForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150)
    display_name = forms.CharField(label=_("姓名"), max_length=40, required=False)


class GrantForm(forms.Form):
    role = forms.ChoiceField(label=_("角色"))
    unit = forms.CharField(
        label=_("单位代码"), max_length=24, help_text=_("例如 150902 为集宁区。")
    )

    def __init__(self, *args, **kwargs):
        from .roles import Role

        super().__init__(*args, **kwargs)
        self.fields["role"].choices = Role.choices


class ReasonForm(forms.Form):
    reason = forms.CharField(label=_("原因"), max_length=200)


class RevealForm(forms.Form):
    """One ID number or mobile shown in full, with the reason the audit log keeps; the
    example reason fits the page (核对高龄补贴, 核对组织关系转接材料 …)."""

    field = forms.ChoiceField(
        label=_("查看"), choices=[("id_number", _("身份证号码")), ("mobile", _("手机号码"))]
    )
    reason = forms.CharField(label=_("查看原因"), max_length=200)

    def __init__(self, *args, example: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["reason"].help_text = _("将记入审计日志，例如“%(example)s”。") % {
            "example": example
        }
