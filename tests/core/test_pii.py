"""The personal-data kernel: SM4-GCM fields, blind index, masking, GB 11643, mobiles."""

import base64
from datetime import date, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from hongyan.core import pii

AAD = "member.id_number"
KEY_A = "k1:" + base64.b64encode(b"A" * 16).decode()
KEY_B = "k2:" + base64.b64encode(b"B" * 16).decode()


@pytest.fixture(autouse=True)
def chinese():
    """Messages are checked in Chinese, whatever language an earlier test left active."""
    with translation.override("zh-hans"):
        yield


def make_id(area: str, born: date, seq: int) -> str:
    first17 = f"{area}{born:%Y%m%d}{seq:03d}"
    return first17 + pii.id_check_char(first17)


birth_dates = st.dates(min_value=date(1900, 1, 1), max_value=date(2025, 12, 31))
areas = st.from_regex(r"[1-8][0-9]{5}", fullmatch=True)
sequences = st.integers(min_value=0, max_value=999)


# --- GB 11643 --------------------------------------------------------------------------


def test_known_valid_numbers():
    # the sample register's numbers carry real check digits
    for number in ("150902196203101007", "150902197506111135", "11010519491231002X"):
        assert pii.id_number_problem(number) is None, number


@given(areas, birth_dates, sequences)
def test_generated_numbers_are_valid(area, born, seq):
    number = make_id(area, born, seq)
    assert pii.id_number_problem(number, today=date(2026, 1, 1)) is None
    assert pii.id_birth_date(number) == born


@given(areas, birth_dates, sequences, st.integers(0, 17), st.integers(1, 9))
def test_any_single_character_change_is_caught(area, born, seq, position, delta):
    number = make_id(area, born, seq)
    alphabet = "0123456789X" if position == 17 else "0123456789"
    current = alphabet.index(number[position])
    replacement = alphabet[(current + delta) % len(alphabet)]
    changed = number[:position] + replacement + number[position + 1 :]
    assert pii.id_number_problem(changed, today=date(2026, 1, 1)) is not None


@given(areas, birth_dates, sequences, st.integers(0, 16))
def test_adjacent_transpositions_are_caught(area, born, seq, i):
    number = make_id(area, born, seq)
    if number[i] == number[i + 1] or number[i + 1] == "X":
        return
    swapped = number[:i] + number[i + 1] + number[i] + number[i + 2 :]
    assert pii.id_number_problem(swapped, today=date(2026, 1, 1)) is not None


def test_birth_date_must_exist_and_not_be_in_the_future():
    bad_day = "150902" + "19900230" + "123"
    assert "出生日期" in pii.id_number_problem(bad_day + pii.id_check_char(bad_day))
    tomorrow = date.today() + timedelta(days=1)
    future = make_id("150902", tomorrow, 1)
    assert "出生日期" in pii.id_number_problem(future)
    old = "150902" + "18991231" + "123"
    assert pii.id_number_problem(old + pii.id_check_char(old)) is not None


def test_area_codes_that_no_longer_exist_are_accepted():
    # 152601 was 集宁市 of 乌兰察布盟 before 2003
    assert pii.id_number_problem(make_id("152601", date(1970, 5, 1), 12)) is None


def test_non_ascii_digits_are_refused():
    # Python's \\d matches any Unicode digit; an ID number is ASCII only
    assert pii.id_number_problem("100\u0cee\u0b6e0200001010004") is not None
    assert pii.mobile_problem("1\u0cee812345678") is not None


def test_length_and_characters():
    assert "18" in pii.id_number_problem("15090219620310100")
    assert pii.id_number_problem("15090219620310100Y") is not None
    assert pii.id_number_problem("1509021962031010X7") is not None


def test_normalising_ids_and_gender():
    assert pii.normalise_id_number(" 150902 1962 0310 100x ") == "15090219620310100X"
    assert pii.normalise_id_number("１５０９０２１９６２０３１０１００７") == "150902196203101007"
    assert pii.id_gender("150902196203101007") == "female"
    assert pii.id_gender("150902197506111135") == "male"


# --- mobiles -----------------------------------------------------------------------------


@given(st.from_regex(r"1[3-9][0-9]{9}", fullmatch=True))
def test_mobiles_valid(number):
    assert pii.mobile_problem(number) is None


@pytest.mark.parametrize("number", ["12012345678", "1381234567", "138123456789", "0474821234a", ""])
def test_mobiles_invalid(number):
    assert pii.mobile_problem(number) is not None


def test_normalising_mobiles():
    assert pii.normalise_mobile("１３８２２６３３９２０") == "13822633920"
    assert pii.normalise_mobile("+86 138-2263-3920") == "13822633920"


# --- masking -----------------------------------------------------------------------------


def test_masks():
    assert pii.mask_id_number("150902196203101234") == "150902********1234"
    assert pii.mask_mobile("13812345678") == "138****5678"
    assert pii.mask_id_number("") == "" and pii.mask_mobile("") == ""
    assert pii.mask_mobile("123") == "***"


@given(st.from_regex(r"[0-9]{17}[0-9X]", fullmatch=True))
def test_id_mask_reveals_only_ten_characters(number):
    masked = pii.mask_id_number(number)
    assert len(masked) == 18 and masked.count("*") == 8
    assert masked[:6] == number[:6] and masked[-4:] == number[-4:]


# --- encryption and blind index --------------------------------------------------------------


def test_round_trip_and_randomised(settings):
    settings.FIELD_KEYS_RAW = KEY_A
    a, b = pii.encrypt("150902196203101007", AAD), pii.encrypt("150902196203101007", AAD)
    assert a != b, "a fresh nonce each time"
    assert a.startswith("k1$") and "150902" not in a
    assert pii.decrypt(a, AAD) == "150902196203101007"


@given(st.text(max_size=60))
def test_round_trip_any_text(text):
    assert pii.decrypt(pii.encrypt(text, AAD), AAD) == text


def test_tampering_and_wrong_field_are_refused(settings):
    settings.FIELD_KEYS_RAW = KEY_A
    token = pii.encrypt("13812345678", "member.mobile")
    with pytest.raises(pii.DecryptionError):
        pii.decrypt(token, "member.id_number")
    kid, _, body = token.partition("$")
    raw = bytearray(base64.b64decode(body))
    raw[14] ^= 1
    with pytest.raises(pii.DecryptionError):
        pii.decrypt(kid + "$" + base64.b64encode(bytes(raw)).decode(), "member.mobile")
    with pytest.raises(pii.DecryptionError):
        pii.decrypt("plain text", "member.mobile")


def test_rotation_keeps_old_values_readable(settings):
    settings.FIELD_KEYS_RAW = KEY_A
    old = pii.encrypt("13812345678", "member.mobile")
    old_index = pii.blind_index("13812345678", "member.mobile")
    settings.FIELD_KEYS_RAW = f"{KEY_B},{KEY_A}"
    assert pii.decrypt(old, "member.mobile") == "13812345678"
    assert pii.encrypt("x", "member.mobile").startswith("k2$")
    assert old_index in pii.blind_indexes("13812345678", "member.mobile")
    settings.FIELD_KEYS_RAW = KEY_B
    with pytest.raises(pii.DecryptionError):
        pii.decrypt(old, "member.mobile")


def test_blind_index_is_deterministic_and_per_purpose(settings):
    settings.FIELD_KEYS_RAW = KEY_A
    a = pii.blind_index("13812345678", "member.mobile")
    assert a == pii.blind_index("13812345678", "member.mobile")
    assert a != pii.blind_index("13812345678", "member.id_number")
    assert len(a) == 32 and "13812345678" not in a


@pytest.mark.parametrize(
    "raw",
    ["", "k1", "k1:notbase64!", "k1:" + base64.b64encode(b"short").decode(), f"{KEY_A},{KEY_A}"],
)
def test_bad_key_settings_are_refused(settings, raw):
    settings.FIELD_KEYS_RAW = raw
    with pytest.raises(ImproperlyConfigured):
        pii.current_key()
