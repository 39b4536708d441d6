from django import forms
from django.utils.translation import gettext_lazy as _

from .models import DayKind


class CalendarDayForm(forms.Form):
    date = forms.DateField(label=_("日期"), widget=forms.DateInput(attrs={"type": "date"}))
    kind = forms.ChoiceField(label=_("类别"), choices=DayKind.choices)
    name = forms.CharField(
        label=_("名称"), max_length=40, required=False, help_text=_("如：国庆节、春节调休")
    )
