from django import forms
from django.utils.translation import gettext_lazy as _

from .models import CHILD_KINDS, OrgKind, UnitKind


class ChildUnitForm(forms.Form):
    kind = forms.ChoiceField(label=_("类别"))
    name = forms.CharField(label=_("名称"), max_length=100)
    code = forms.CharField(
        label=_("代码"), max_length=24, required=False, help_text=_("留空则自动编号。")
    )

    def __init__(self, *args, parent, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["kind"].choices = [
            (k, UnitKind(k).label) for k in CHILD_KINDS.get(parent.kind, ())
        ]


class PartyOrgForm(forms.Form):
    kind = forms.ChoiceField(label=_("类别"), choices=OrgKind.choices)
    name = forms.CharField(label=_("名称"), max_length=120)
    secretary = forms.CharField(label=_("书记"), max_length=40, required=False)
    members_count = forms.IntegerField(
        label=_("党员人数"), min_value=0, max_value=100000, initial=0
    )
    covers = forms.MultipleChoiceField(
        label=_("覆盖小区"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("仅联合党支部、网格党支部需要选择。"),
    )

    def __init__(self, *args, compounds=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["covers"].choices = [(c.code, c.name) for c in compounds]
        if not compounds:
            del self.fields["covers"]


class CadreForm(forms.Form):
    cadre_name = forms.CharField(label=_("包保干部姓名"), max_length=40)
    cadre_post = forms.CharField(label=_("职务"), max_length=60, required=False)
    since = forms.DateField(
        label=_("包保起始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
