from django import forms
from django.utils.translation import gettext_lazy as _

from hongyan.members.models import Specialty

from .models import ServiceKind, TeamKind, TeamStatus

DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class ServiceForm(forms.Form):
    team = forms.TypedChoiceField(label=_("服务队"), coerce=int, required=False, empty_value=None)
    title = forms.CharField(label=_("服务内容"), max_length=100)
    kind = forms.ChoiceField(label=_("服务类别"), choices=ServiceKind.choices)
    place = forms.CharField(label=_("地点"), max_length=100)
    starts_at = forms.DateTimeField(label=_("开始时间"), widget=DATETIME)
    ends_at = forms.DateTimeField(label=_("结束时间"), widget=DATETIME)
    capacity = forms.IntegerField(label=_("人数"), min_value=1, max_value=500, initial=10)
    skills = forms.ModelMultipleChoiceField(
        label=_("所需技能"),
        queryset=Specialty.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args, teams=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["team"].choices = [("", _("社区发布（不属于服务队）"))] + [
            (t.pk, t.name) for t in teams
        ]


class LeaderEntryForm(forms.Form):
    """The leader enters someone's times afterwards (marked as such)."""

    volunteer = forms.TypedChoiceField(label=_("志愿者"), coerce=int)
    checkin_at = forms.DateTimeField(label=_("签到时间"), widget=DATETIME)
    checkout_at = forms.DateTimeField(label=_("签退时间"), widget=DATETIME)

    def __init__(self, *args, participants=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["volunteer"].choices = [
            (p.volunteer_id, p.volunteer.name) for p in participants
        ]

    def clean(self):
        data = super().clean()
        start, end = data.get("checkin_at"), data.get("checkout_at")
        if start and end and end <= start:
            self.add_error("checkout_at", _("签退时间须晚于签到时间。"))
        return data


class TeamForm(forms.Form):
    name = forms.CharField(label=_("队名"), max_length=60)
    kind = forms.ModelChoiceField(label=_("类别"), queryset=TeamKind.objects.filter(active=True))
    leader = forms.TypedChoiceField(label=_("队长"), coerce=int, required=False, empty_value=None)
    skills = forms.ModelMultipleChoiceField(
        label=_("技能"),
        queryset=Specialty.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    note = forms.CharField(label=_("说明"), max_length=200, required=False)

    def __init__(self, *args, volunteers=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["leader"].choices = [("", _("以后再定"))] + [
            (v.pk, f"{v.name}（{v.unit.name}）") for v in volunteers
        ]


class TeamStatusForm(forms.Form):
    status = forms.ChoiceField(
        label=_("状态"),
        choices=TeamStatus.choices,
        widget=forms.Select(attrs={"class": "form-select"}),
    )


class VolunteerForm(forms.Form):
    """Staff register a volunteer: a party member picked from the register, or a
    resident by name and home. Only shapes input; the rules are `volunteer_register`'s."""

    member = forms.TypedChoiceField(
        label=_("党员（从名册选择）"),
        coerce=int,
        required=False,
        empty_value=None,
        widget=forms.RadioSelect,
    )
    name = forms.CharField(
        label=_("居民姓名"),
        max_length=40,
        required=False,
        help_text=_("不是党员时填写；党员的姓名和住址取自名册"),
    )
    home = forms.ChoiceField(label=_("居住单位"), choices=(), required=False)
    mobile = forms.CharField(
        label=_("手机号码"),
        max_length=20,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "tel", "autocomplete": "off"}),
    )
    specialties = forms.ModelMultipleChoiceField(
        label=_("特长"),
        queryset=Specialty.objects.all(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("党员不选时沿用名册里的特长"),
    )

    def __init__(self, *args, members=(), units=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["member"].choices = [("", _("不是党员（填写下面的居民信息）"))] + [
            (m.pk, f"{m.name}（{m.unit.name}）") for m in members
        ]
        self.fields["home"].choices = [("", "—")] + [(u.code, u.label) for u in units]

    def clean(self):
        data = super().clean()
        if data.get("member") is None and "member" not in self.errors:
            if not (data.get("name") or "").strip():
                self.add_error("name", _("请选择一名党员，或填写居民姓名。"))
            if not data.get("home"):
                self.add_error("home", _("请选择居民的居住单位。"))
        return data


class WithdrawForm(forms.Form):
    reason = forms.CharField(
        label=_("退出原因"),
        max_length=200,
        widget=forms.TextInput(attrs={"placeholder": _("如：搬离本社区、身体原因")}),
    )
