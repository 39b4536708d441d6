"""The password policy: length ≥ 10 and three of four character classes, in Chinese."""

import pytest
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.utils import translation

from hongyan.core.passwords import ComplexityValidator, character_classes


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


def problems(password, **options):
    try:
        ComplexityValidator(**options).validate(password)
    except ValidationError as exc:
        return {e.code for e in exc.error_list}, " ".join(exc.messages)
    return set(), ""


@pytest.mark.parametrize(
    ("password", "classes"),
    [
        ("abcdefghij", 1),
        ("ABCDEFGHIJ", 1),
        ("1234567890", 1),
        ("!@#$%^&*()", 1),
        ("abcdeFGHIJ", 2),
        ("abcde12345", 2),
        ("abcdeFGH12", 3),
        ("abcde-1234", 3),
        ("aB3-", 4),
        ("abc def", 2),  # a space is a symbol
    ],
)
def test_character_classes(password, classes):
    assert character_classes(password) == classes


@pytest.mark.parametrize(
    ("password", "codes"),
    [
        ("Abcdefgh1!", set()),  # 10 characters, 4 classes
        ("abcdefgh1!", set()),  # 10 characters, 3 classes
        ("Abcdefg1!", {"password_too_short"}),  # 9 characters
        ("abcdefgh12", {"password_too_simple"}),  # 10 characters, 2 classes
        ("abcdefghijklmnop", {"password_too_simple"}),
        ("Ab1!", {"password_too_short"}),  # short, but complex enough
        ("abc", {"password_too_short", "password_too_simple"}),
    ],
)
def test_the_boundaries_of_length_10_and_3_classes(password, codes):
    assert problems(password)[0] == codes


def test_the_messages_are_chinese_and_say_how_to_fix():
    _, message = problems("abc")
    assert "密码太短：至少需要 10 个字符" in message
    assert "至少 3 类" in message
    help_text = ComplexityValidator().get_help_text()
    assert "至少 10 个字符" in help_text and "3 类" in help_text


def test_the_policy_is_configurable():
    assert problems("abcdefgh", min_length=8, min_classes=1)[0] == set()
    codes, message = problems("abcdefgh12", min_length=12, min_classes=2)
    assert codes == {"password_too_short"}
    assert "12" in message


def test_the_configured_validators_apply_the_policy_and_djangos_own(alice):
    with pytest.raises(ValidationError) as exc:
        password_validation.validate_password("abcdefgh12", alice)
    assert "password_too_simple" in {e.code for e in exc.value.error_list}
    with pytest.raises(ValidationError) as exc:
        password_validation.validate_password("1234567890")
    codes = {e.code for e in exc.value.error_list}
    assert {"password_entirely_numeric", "password_too_common"} & codes
    assert password_validation.validate_password("Qingcheng-2027!", alice) is None
    help_texts = " ".join(password_validation.password_validators_help_texts())
    assert "至少 10 个字符" in help_texts
