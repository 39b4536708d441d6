"""SM3 / HMAC-SM3 from `cryptography` (OpenSSL), the national algorithms 等保 expects."""

from cryptography.hazmat.primitives import hashes, hmac
from django.conf import settings


def hmac_sm3(key: bytes, message: bytes) -> str:
    mac = hmac.HMAC(key, hashes.SM3())
    mac.update(message)
    return mac.finalize().hex()


def derived_key(purpose: str) -> bytes:
    """A key for one purpose, derived from the secret key so purposes never share a key."""
    return bytes.fromhex(hmac_sm3(settings.SECRET_KEY.encode(), purpose.encode()))
