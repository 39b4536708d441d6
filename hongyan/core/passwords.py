"""The Chinese-language password policy on top of Django's validators."""

import string

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import ngettext


def character_classes(password: str) -> int:
    classes = [
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() or c in string.punctuation for c in password),
    ]
    return sum(classes)


class ComplexityValidator:
    """At least `min_length` characters drawn from at least `min_classes` of: lower-case
    letters, upper-case letters, digits, symbols."""

    def __init__(self, min_length: int = 10, min_classes: int = 3):
        self.min_length = min_length
        self.min_classes = min_classes

    def validate(self, password, user=None):
        problems = []
        if len(password) < self.min_length:
            problems.append(
                ValidationError(
                    ngettext(
                        "密码太短：至少需要 %(n)d 个字符。",
                        "密码太短：至少需要 %(n)d 个字符。",
                        self.min_length,
                    )
                    % {"n": self.min_length},
                    code="password_too_short",
                )
            )
        if character_classes(password) < self.min_classes:
            problems.append(
                ValidationError(
                    _("密码需包含小写字母、大写字母、数字、符号中的至少 %(n)d 类。")
                    % {"n": self.min_classes},
                    code="password_too_simple",
                )
            )
        if problems:
            raise ValidationError(problems)

    def get_help_text(self):
        return _(
            "至少 %(length)d 个字符，包含小写字母、大写字母、数字、符号中的至少 %(classes)d 类。"
        ) % {
            "length": self.min_length,
            "classes": self.min_classes,
        }
