"""Personal data: field encryption, blind index, masking and validation.

- **Encryption**: SM4-GCM (`cryptography`/OpenSSL). A stored value reads
  `kid$base64(nonce ‖ ciphertext ‖ tag)`; the key id says which of `HONGYAN_FIELD_KEYS`
  ("kid:base64key,…", the first encrypts) opens it, so keys rotate without downtime:
  add a new key in front, run `hongyan manage rotate_field_keys`, drop the old one.
  The field's name is bound in as associated data, so a value copied into another
  column does not decrypt.
- **Blind index**: HMAC-SM3 of the normalised value under a key derived per purpose
  from each field key. Lookups compare against the index under every configured key,
  so search keeps working while a rotation is half done.
- **Masking** (`150902********1234`, `138****5678`), **validation** of ID numbers
  (GB 11643: MOD 11-2 check digit and a real birth date) and mobiles (`1[3-9]\\d{9}`).
"""

import base64
import os
import re
import time
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from operator import mul

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.translation import gettext as _

from .sealing import INDEX_HEX, NONCE_BYTES

TAG_BYTES = 16


class DecryptionError(Exception):
    """A stored value could not be opened (unknown key id, or altered bytes)."""


@dataclass(frozen=True)
class FieldKey:
    kid: str
    key: bytes


@lru_cache(maxsize=4)
def _parse_keys(raw: str) -> tuple[FieldKey, ...]:
    keys = []
    for part in (p.strip() for p in raw.split(",")):
        if not part:
            continue
        kid, sep, b64 = part.partition(":")
        kid = kid.strip()
        if not sep or not kid or not re.fullmatch(r"[A-Za-z0-9_.-]{1,16}", kid):
            raise ImproperlyConfigured(
                "HONGYAN_FIELD_KEYS must read 'kid:base64key[,kid:base64key…]' "
                "(key ids: letters, digits, '_', '.', '-')."
            )
        try:
            key = base64.b64decode(b64.strip(), validate=True)
        except ValueError:
            raise ImproperlyConfigured(f"HONGYAN_FIELD_KEYS: key {kid!r} is not base64.") from None
        if len(key) != 16:
            raise ImproperlyConfigured(
                f"HONGYAN_FIELD_KEYS: key {kid!r} has {len(key)} bytes; SM4 needs 16."
            )
        keys.append(FieldKey(kid, key))
    if not keys:
        raise ImproperlyConfigured("HONGYAN_FIELD_KEYS holds no key.")
    if len({k.kid for k in keys}) != len(keys):
        raise ImproperlyConfigured("HONGYAN_FIELD_KEYS names the same key id twice.")
    return tuple(keys)


def field_keys() -> tuple[FieldKey, ...]:
    return _parse_keys(settings.FIELD_KEYS_RAW)


def current_key() -> FieldKey:
    return field_keys()[0]


def _key_by_id(kid: str) -> bytes:
    for k in field_keys():
        if k.kid == kid:
            return k.key
    raise DecryptionError(f"no field key with id {kid!r} is configured")


def encrypt(plaintext: str, aad: str) -> str:
    """SM4-GCM under the current key; `aad` names the field (e.g. "member.id_number")."""
    k = current_key()
    nonce = os.urandom(NONCE_BYTES)
    enc = Cipher(algorithms.SM4(k.key), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(aad.encode())
    body = enc.update(plaintext.encode()) + enc.finalize()
    return f"{k.kid}${base64.b64encode(nonce + body + enc.tag).decode()}"


def decrypt(token: str, aad: str) -> str:
    kid, sep, b64 = (token or "").partition("$")
    if not sep:
        raise DecryptionError("not an encrypted value")
    try:
        raw = base64.b64decode(b64, validate=True)
    except ValueError:
        raise DecryptionError("not base64") from None
    if len(raw) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("too short")
    nonce, body, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
    dec = Cipher(algorithms.SM4(_key_by_id(kid)), modes.GCM(nonce, tag)).decryptor()
    dec.authenticate_additional_data(aad.encode())
    try:
        return (dec.update(body) + dec.finalize()).decode()
    except InvalidTag:
        raise DecryptionError("altered, or encrypted for another field") from None


def encrypt_bytes(data: bytes, aad: str) -> bytes:
    """SM4-GCM for a whole file (e.g. an uploaded register waiting for its commit)."""
    k = current_key()
    nonce = os.urandom(NONCE_BYTES)
    enc = Cipher(algorithms.SM4(k.key), modes.GCM(nonce)).encryptor()
    enc.authenticate_additional_data(aad.encode())
    body = enc.update(data) + enc.finalize()
    return k.kid.encode() + b"$" + nonce + body + enc.tag


def decrypt_bytes(blob: bytes, aad: str) -> bytes:
    kid, sep, raw = blob.partition(b"$")
    if not sep or len(raw) < NONCE_BYTES + TAG_BYTES:
        raise DecryptionError("not an encrypted file")
    nonce, body, tag = raw[:NONCE_BYTES], raw[NONCE_BYTES:-TAG_BYTES], raw[-TAG_BYTES:]
    dec = Cipher(algorithms.SM4(_key_by_id(kid.decode())), modes.GCM(nonce, tag)).decryptor()
    dec.authenticate_additional_data(aad.encode())
    try:
        return dec.update(body) + dec.finalize()
    except InvalidTag:
        raise DecryptionError("altered file") from None


def key_id_of(token: str) -> str:
    return (token or "").partition("$")[0]


@lru_cache(maxsize=64)
def _index_key(key: bytes, purpose: str) -> bytes:
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(b"hongyan.blind-index.v1|" + purpose.encode())
    return mac.finalize()


def _index(key: bytes, purpose: str, value: str) -> str:
    mac = hmac.HMAC(_index_key(key, purpose), hashes.SM3())
    mac.update(value.encode())
    return mac.finalize().hex()[:INDEX_HEX]


def blind_index(value: str, purpose: str) -> str:
    """The index to store with a new value (under the current key)."""
    return _index(current_key().key, purpose, value)


def encrypted_accessors(name: str, *, aad: str, mask, purpose: str = ""):
    """The plaintext, masked and setter accessors of a personal-data value stored as
    `<name>_enc` (SM4-GCM) and, when a purpose is given, its blind index `<name>_index`.
    In a model: `mobile, mobile_masked, set_mobile = pii.encrypted_accessors(...)`;
    plaintext is reached only through these, the masked form is what pages show."""
    enc, index = f"{name}_enc", f"{name}_index"

    def plaintext(obj) -> str:
        token = getattr(obj, enc)
        return decrypt(token, aad) if token else ""

    def masked(obj) -> str:
        return mask(plaintext(obj))

    def set_value(obj, value: str) -> None:
        setattr(obj, enc, encrypt(value, aad) if value else "")
        if purpose:
            setattr(obj, index, blind_index(value, purpose) if value else "")

    return property(plaintext), property(masked), set_value


def blind_indexes(value: str, purpose: str) -> list[str]:
    """The index under every configured key: what to look a value up by."""
    return [_index(k.key, purpose, value) for k in field_keys()]


# --- registry of encrypted fields, for key rotation ---------------------------------


@dataclass(frozen=True)
class EncryptedField:
    model: type
    field: str  # column holding the ciphertext
    aad: str
    index_field: str | None = None  # column holding the blind index, if any
    index_purpose: str = ""
    normalise: object = None  # callable applied before indexing


ENCRYPTED_FIELDS: list[EncryptedField] = []


def register_encrypted_field(
    model, field: str, *, aad: str, index_field=None, index_purpose="", normalise=None
) -> None:
    """Apps call this from AppConfig.ready() so `rotate_field_keys` finds their columns."""
    entry = EncryptedField(model, field, aad, index_field, index_purpose, normalise)
    if entry not in ENCRYPTED_FIELDS:
        ENCRYPTED_FIELDS.append(entry)


# --- normalising and validating -----------------------------------------------------

# full-width ASCII (！ to ～) and the ideographic space, as typed on Chinese keyboards
_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)}
_FULLWIDTH[0x3000] = 0x20


def halfwidth(value: str) -> str:
    return str(value).translate(_FULLWIDTH)


ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_CHECK = "10X98765432"
ID_RE = re.compile(r"[0-9]{17}[0-9X]")
MOBILE_RE = re.compile(r"1[3-9][0-9]{9}")


_ZERO_WEIGHTED = ord("0") * sum(ID_WEIGHTS)


def id_check_char(first17: str) -> str:
    """GB 11643 MOD 11-2: the 18th character for the first 17 digits."""
    digits = first17.encode("ascii")  # a non-ASCII character raises (a ValueError)
    if len(digits) != 17 or not digits.isdigit():
        raise ValueError("17 digits expected")
    # the bytes are the digits' codes: weigh them, then take the weighted '0's away
    return ID_CHECK[(sum(map(mul, digits, ID_WEIGHTS)) - _ZERO_WEIGHTED) % 11]


def normalise_id_number(value) -> str:
    if type(value) is str and len(value) == 18 and value.isascii() and value.isalnum():
        return value.upper()  # already compact (most cells): no spaces, dashes or full-width
    return re.sub(r"[\s\-]", "", halfwidth(value or "")).upper()


def id_birth_date(id_number: str) -> date | None:
    return _yyyymmdd(id_number[6:14])


@lru_cache(maxsize=40_000)
def _yyyymmdd(digits: str) -> date | None:
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None


def id_gender(id_number: str) -> str:
    """ "male" or "female", from the 17th digit (odd = male)."""
    return "male" if int(id_number[16]) % 2 else "female"


_today_cache: list = [0.0, None]


def local_today() -> date:
    """Today in the site's time zone, looked up at most once a second (hot loops)."""
    now = time.monotonic()
    if now - _today_cache[0] > 1.0:
        _today_cache[0], _today_cache[1] = now, timezone.localdate()
    return _today_cache[1]


def id_number_problem(value: str, today: date | None = None) -> str | None:
    """Why `value` (already normalised) is not a valid ID number, or None.

    The area code is not checked against a list: codes that no longer exist stay valid."""
    if len(value) != 18:
        return _("身份证号码应为 18 位，现为 %(n)d 位。") % {"n": len(value)}
    if not ID_RE.fullmatch(value):
        return _("身份证号码前 17 位应为数字，第 18 位为数字或 X。")
    born = id_birth_date(value)
    today = today or local_today()
    if born is None or born.year < 1900 or born > today:
        return _("身份证号码中的出生日期 %(d)s 不是有效日期。") % {"d": value[6:14]}
    if id_check_char(value[:17]) != value[17]:
        return _("身份证号码校验位不正确，请核对是否抄错。")
    return None


def normalise_mobile(value) -> str:
    value = re.sub(r"[\s\-()（）]", "", halfwidth(value or ""))
    if value.startswith("+86"):
        value = value[3:]
    elif value.startswith("0086"):
        value = value[4:]
    return value


def mobile_problem(value: str) -> str | None:
    if not MOBILE_RE.fullmatch(value):
        return _("手机号码应为 11 位数字，以 13–19 开头。")
    return None


# --- masking ------------------------------------------------------------------------


def mask_id_number(value: str) -> str:
    if not value:
        return ""
    if len(value) < 10:
        return "*" * len(value)
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def mask_mobile(value: str) -> str:
    if not value:
        return ""
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
