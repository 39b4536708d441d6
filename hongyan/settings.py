"""One settings module, driven by environment variables (see docs/operations.md).

Development mode (the default) keeps generated keys in the data folder so that the
demo runs with no configuration at all. Production mode (`HONGYAN_ENV=production`)
refuses to start until every secret is given explicitly; a bad value stops start-up
in either mode with a message naming the variable and how to fix it.
"""

import ipaddress
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}


def _bool(name: str, default: bool = False) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    if raw.strip().lower() in TRUE_WORDS:
        return True
    if raw.strip().lower() in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a yes/no value: set it to 1 or 0.")


def _int(name: str, default: int, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is too small: use at least {minimum}.")
    return value


HONGYAN_ENV = os.environ.get("HONGYAN_ENV", "development").strip().lower()
if HONGYAN_ENV not in {"development", "production"}:
    raise ImproperlyConfigured(
        f"HONGYAN_ENV={HONGYAN_ENV!r} is not known: use 'development' or 'production'."
    )
PRODUCTION = HONGYAN_ENV == "production"
DEBUG = _bool("HONGYAN_DEBUG")

DATA_DIR = Path(os.environ.get("HONGYAN_DATA_DIR", "./var")).expanduser().resolve()
try:
    DATA_DIR.mkdir(parents=True, exist_ok=True)
except OSError as exc:
    raise ImproperlyConfigured(
        f"HONGYAN_DATA_DIR={DATA_DIR} cannot be created ({exc.strerror}): "
        "point it at a writable folder."
    ) from None


def _development_secret(filename: str, make) -> str:
    """A secret kept in the data folder, made once; only ever used outside production."""
    path = DATA_DIR / "keys" / filename
    if not path.exists():
        path.parent.mkdir(mode=0o700, exist_ok=True)
        path.write_text(make())
        path.chmod(0o600)
    return path.read_text().strip()


def _required_secret(name: str, filename: str, make, how: str) -> str:
    value = os.environ.get(name, "").strip()
    if value:
        return value
    if PRODUCTION:
        raise ImproperlyConfigured(f"{name} is not set, and production mode needs it: {how}")
    return _development_secret(filename, make)


SECRET_KEY = _required_secret(
    "HONGYAN_SECRET_KEY",
    "secret_key",
    lambda: secrets.token_urlsafe(50),
    "generate one with `python -c 'import secrets; print(secrets.token_urlsafe(50))'`.",
)
if PRODUCTION and len(SECRET_KEY) < 40:
    raise ImproperlyConfigured(
        "HONGYAN_SECRET_KEY is shorter than 40 characters: use a longer one."
    )

# Personal-data keys: "kid:base64key[,kid:base64key…]", the first one encrypts new values.
FIELD_KEYS_RAW = _required_secret(
    "HONGYAN_FIELD_KEYS",
    "field_keys",
    lambda: "k1:" + __import__("base64").b64encode(secrets.token_bytes(16)).decode(),
    "set it to 'k1:<base64 of 16 random bytes>', e.g. "
    "`python -c 'import base64,secrets; print(\"k1:\"+base64.b64encode(secrets.token_bytes(16)).decode())'`.",
)

# The backup key (base64 of 16 bytes, SM4), apart from the data and the keys above. Only
# `hongyan backup`/`restore` need it, so production does not demand it at start-up: the
# web servers can run without it (backup.py names the variable when it is missing).
BACKUP_KEY = os.environ.get("HONGYAN_BACKUP_KEY", "").strip() or (
    ""
    if PRODUCTION
    else _development_secret(
        "backup_key", lambda: __import__("base64").b64encode(secrets.token_bytes(16)).decode()
    )
)

_hosts = os.environ.get("HONGYAN_ALLOWED_HOSTS", "").strip()
if _hosts:
    ALLOWED_HOSTS = [h.strip() for h in _hosts.split(",") if h.strip()]
elif PRODUCTION:
    raise ImproperlyConfigured(
        "HONGYAN_ALLOWED_HOSTS is not set, and production mode needs it: "
        "list the host names the site answers to, e.g. 'dangjian.example.gov.cn'."
    )
else:
    ALLOWED_HOSTS = ["127.0.0.1", "localhost", "[::1]", "testserver"]

INSTALLED_APPS = [
    # first, so that its `createsuperuser` (refused outside HONGYAN_DEBUG) replaces auth's
    "hongyan.core",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "csp",
    "ninja",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "hongyan.orgs",
    "hongyan.members",
    "hongyan.exports",
    "hongyan.needs",
    "hongyan.workdays",
    "hongyan.open311",
    "hongyan.volunteers",
    "hongyan.care",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "hongyan.core.middleware.RejectNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "hongyan.core.middleware.ChineseFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "hongyan.core.accounts.SessionPolicyMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "hongyan.core.middleware.RequestContextMiddleware",
    "hongyan.core.middleware.DatabaseUnavailableMiddleware",
]

ROOT_URLCONF = "hongyan.urls"
WSGI_APPLICATION = "hongyan.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "hongyan.core.context_processors.navigation",
            ],
        },
    },
]

_database_url = os.environ.get("DATABASE_URL", "").strip()
if _database_url:
    try:
        _db = dj_database_url.parse(_database_url, conn_max_age=60, conn_health_checks=True)
    except Exception as exc:  # the library raises several types for a malformed URL
        raise ImproperlyConfigured(
            f"DATABASE_URL is not a database URL ({exc}): "
            "use e.g. postgres://user:password@127.0.0.1:5432/hongyan"
        ) from None
    if _db.get("ENGINE") not in {
        "django.db.backends.postgresql",
        "django.db.backends.sqlite3",
    }:
        raise ImproperlyConfigured(
            f"DATABASE_URL names {_db.get('ENGINE')}: Hongyan runs on PostgreSQL or SQLite."
        )
else:
    _db = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(DATA_DIR / "hongyan.sqlite3")}
if _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web server read while the worker writes; IMMEDIATE avoids
    # "database is locked" when two writers upgrade their locks at once.
    _db["OPTIONS"] = {
        "timeout": 20,
        "transaction_mode": "IMMEDIATE",
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "core.User"
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]
LOGIN_URL = "core:login"
LOGIN_REDIRECT_URL = "core:home"
LOGOUT_REDIRECT_URL = "core:login"

PASSWORD_MIN_LENGTH = _int("HONGYAN_PASSWORD_MIN_LENGTH", 10, minimum=8)
PASSWORD_MIN_CLASSES = _int("HONGYAN_PASSWORD_MIN_CLASSES", 3, minimum=1)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
    {
        "NAME": "hongyan.core.passwords.ComplexityValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH, "min_classes": PASSWORD_MIN_CLASSES},
    },
]
LOCKOUT_ATTEMPTS = _int("HONGYAN_LOCKOUT_ATTEMPTS", 5, minimum=1)
LOCKOUT_MINUTES = _int("HONGYAN_LOCKOUT_MINUTES", 30, minimum=1)
API_TOKEN_DAYS = _int("HONGYAN_API_TOKEN_DAYS", 30, minimum=1)
# Accounts and sessions (docs/accounts.md). 0 turns expiry / the idle sweep off.
PASSWORD_MAX_AGE_DAYS = _int("HONGYAN_PASSWORD_MAX_AGE_DAYS", 90)
ACCOUNT_IDLE_DAYS = _int("HONGYAN_ACCOUNT_IDLE_DAYS", 90)
SESSION_ABSOLUTE_HOURS = _int("HONGYAN_SESSION_ABSOLUTE_HOURS", 12, minimum=1)
# A TOTP step-up opens a window for revealing or exporting personal data.
STEP_UP_MINUTES = _int("HONGYAN_STEP_UP_MINUTES", 5, minimum=1)
OTP_TOTP_ISSUER = os.environ.get("HONGYAN_TOTP_ISSUER", "鸿雁").strip() or "鸿雁"
# 等保 level 3 keeps audit records at least 180 days; `purge_audit` refuses younger ones.
AUDIT_RETENTION_DAYS = _int("HONGYAN_AUDIT_RETENTION_DAYS", 180, minimum=180)


def _rate(name: str, default: str) -> str:
    """A rate limit "N/S" (N requests per S seconds), or "off"."""
    raw = os.environ.get(name, "").strip().lower() or default
    if raw in FALSE_WORDS:
        return ""
    count, _slash, seconds = raw.partition("/")
    if not (count.isdigit() and seconds.isdigit() and int(count) > 0 and int(seconds) > 0):
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a rate: write requests/seconds, e.g. 30/60, or off."
        )
    return raw


# Rate limits (core.ratelimit), counted in the database so they hold across processes.
RATE_LIMITS = {
    "login_user_ip": _rate("HONGYAN_RATE_LOGIN_USER_IP", "10/60"),
    "login_ip": _rate("HONGYAN_RATE_LOGIN_IP", "100/60"),
    "token_user_ip": _rate("HONGYAN_RATE_TOKEN_USER_IP", "30/60"),
    "token_ip": _rate("HONGYAN_RATE_TOKEN_IP", "120/60"),
    "reveal_user": _rate("HONGYAN_RATE_REVEAL_USER", "30/60"),
    "search_user": _rate("HONGYAN_RATE_SEARCH_USER", "120/60"),
    "export_user": _rate("HONGYAN_RATE_EXPORT_USER", "10/600"),
    # the public need intake (and 附议): per client IP and per resident mobile
    "need_intake_ip": _rate("HONGYAN_RATE_NEED_INTAKE_IP", "30/3600"),
    "need_intake_mobile": _rate("HONGYAN_RATE_NEED_INTAKE_MOBILE", "5/3600"),
    # the public certificate check (/certificates/verify/{code}): per client IP
    "certificate_verify_ip": _rate("HONGYAN_RATE_CERTIFICATE_VERIFY_IP", "60/60"),
}


def _networks(name: str) -> tuple:
    """Comma-separated IP addresses and CIDR networks (IPv4 or IPv6), as networks."""
    networks = []
    for entry in os.environ.get(name, "").split(","):
        if entry.strip():
            try:
                networks.append(ipaddress.ip_network(entry.strip(), strict=False))
            except ValueError:
                raise ImproperlyConfigured(
                    f"{name}: {entry.strip()!r} is not an IP address or network: "
                    "write e.g. 127.0.0.1,10.0.0.0/8,::1"
                ) from None
    return tuple(networks)


# The reverse proxies whose X-Forwarded-For we believe (core.client_address): the client
# address in rate limits and the audit log. Empty: REMOTE_ADDR, the header is ignored.
TRUSTED_PROXIES = _networks("HONGYAN_TRUSTED_PROXIES")

# Idle timeout: the cookie's age is renewed on every request, so it expires after
# this many minutes without one.
SESSION_COOKIE_AGE = _int("HONGYAN_SESSION_IDLE_MINUTES", 30, minimum=1) * 60
SESSION_SAVE_EVERY_REQUEST = True
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = _bool("HONGYAN_SECURE_COOKIES", PRODUCTION)
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
# Behind a TLS proxy: trust its X-Forwarded-Proto (only if the proxy always sets it),
# redirect plain HTTP, and tell browsers to stay on HTTPS.
if _bool("HONGYAN_BEHIND_TLS_PROXY", PRODUCTION):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = _bool("HONGYAN_SSL_REDIRECT", PRODUCTION)
SECURE_HSTS_SECONDS = _int("HONGYAN_HSTS_SECONDS", 31536000 if PRODUCTION else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = _bool("HONGYAN_HSTS_PRELOAD", False)
# Joining the browsers' HSTS preload list binds the whole domain for months and is the
# deployer's call (HONGYAN_HSTS_PRELOAD=1), so `check --deploy` is not asked about it.
SILENCED_SYSTEM_CHECKS = [] if SECURE_HSTS_PRELOAD else ["security.W021"]
# Every script, style and font is ours, served from /static/: no inline script, no eval
# (Alpine's CSP build, htmx with allowEval off), no third-party origin.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# Branch set-up rules (DOMAIN.md §3) — local practice may differ, so they are settings.
BRANCH_MIN_FULL_MEMBERS = _int("HONGYAN_BRANCH_MIN_FULL_MEMBERS", 3, minimum=1)
BRANCH_COMMITTEE_MIN_MEMBERS = _int("HONGYAN_BRANCH_COMMITTEE_MIN_MEMBERS", 7, minimum=1)
BRANCH_MAX_MEMBERS = _int("HONGYAN_BRANCH_MAX_MEMBERS", 50, minimum=1)
PARTY_COMMITTEE_MIN_MEMBERS = _int("HONGYAN_PARTY_COMMITTEE_MIN_MEMBERS", 100, minimum=1)

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("en", "English")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(exist_ok=True)  # whitenoise warns about a missing folder
STATICFILES_DIRS = [BASE_DIR / "static"]
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG
MEDIA_ROOT = DATA_DIR / "uploads"

NINJA_PAGINATION_PER_PAGE = 50

# Export control (hongyan/exports): a masked export of more rows than this, or any
# unmasked one, waits for a second person's approval; files are kept this many hours.
EXPORT_APPROVAL_ROWS = _int("HONGYAN_EXPORT_APPROVAL_ROWS", 500, minimum=0)
EXPORT_EXPIRY_HOURS = _int("HONGYAN_EXPORT_EXPIRY_HOURS", 24, minimum=1)

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": "WARNING"},
}
