"""Settings: built-in defaults, then a TOML config file, then COCDESK_* environment variables.

The config file is found at $COCDESK_CONFIG, else var/cocdesk.toml under the project root. Its keys are the
lower-case names of the values in DEFAULTS below (for example ``secret_key = "..."``); an environment variable
COCDESK_<NAME> overrides both.
"""

import os
import tomllib
from pathlib import Path

import dj_database_url

PROJECT_ROOT = Path(__file__).resolve().parents[2]
VAR_DIR = Path(os.environ.get("COCDESK_VAR_DIR", PROJECT_ROOT / "var"))

DEFAULTS = {
    "debug": False,
    "secret_key": "",
    # Empty: 127.0.0.1, localhost and the host of bind.
    "allowed_hosts": [],
    "database_url": f"sqlite:///{VAR_DIR / 'cocdesk.sqlite3'}",
    "database_conn_max_age": 600,
    "database_prepared_statements": True,
    "keyring_file": str(VAR_DIR / "keyring.json"),
    "keyring": "",
    "time_zone": "UTC",
    # Empty: links point at bind, so `make run HOST=... PORT=...` prints and mails links to where it serves.
    "base_url": "",
    "bind": "127.0.0.1:8000",
    "web_workers": 3,
    "email_backend": "django.core.mail.backends.smtp.EmailBackend",
    "email_host": "127.0.0.1",
    "email_port": 25,
    "email_host_user": "",
    "email_host_password": "",
    "email_use_tls": False,
    "default_from_email": "CoC Desk <cocdesk@localhost>",
    "session_idle_seconds": 30 * 60,
    "receipt_attempts_per_window": 5,
    "receipt_window_seconds": 15 * 60,
    "login_attempts_per_account": 5,
    "login_attempts_per_address": 20,
    "login_window_seconds": 15 * 60,
    "secure_cookies": False,
    "behind_proxy": False,
    "hsts_preload": False,
    "log_level": "INFO",
    "keep_delivered_days": 30,
    "phone_region": "",
}


def _load_config():
    values = dict(DEFAULTS)
    config_path = Path(os.environ.get("COCDESK_CONFIG", VAR_DIR / "cocdesk.toml"))
    if config_path.is_file():
        with config_path.open("rb") as handle:
            values.update({key.lower(): value for key, value in tomllib.load(handle).items()})
    for name, default in DEFAULTS.items():
        raw = os.environ.get(f"COCDESK_{name.upper()}")
        if raw is None:
            continue
        if isinstance(default, bool):
            values[name] = raw.strip().lower() in {"1", "true", "yes", "on"}
        elif isinstance(default, int):
            values[name] = int(raw)
        elif isinstance(default, list):
            values[name] = [item.strip() for item in raw.split(",") if item.strip()]
        else:
            values[name] = raw
    return values


CONFIG = _load_config()

DEBUG = CONFIG["debug"]
SECRET_KEY = CONFIG["secret_key"]
if not SECRET_KEY:
    if not DEBUG and os.environ.get("COCDESK_ALLOW_INSECURE_SECRET") != "1":
        raise RuntimeError("Set COCDESK_SECRET_KEY or secret_key in the config file (see README).")
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105


def _reached_at(bind):
    """The host (bracketed if IPv6) and port that reach a server bound to ``bind`` from this machine."""
    host, _, port = bind.rpartition(":")
    if not port.isdigit():  # a unix socket: only the proxy reaches it, and base_url names the public address
        return "localhost", ""
    host = host.strip("[]")
    if host in {"", "0.0.0.0", "::"}:  # every interface, loopback included  # noqa: S104
        host = "127.0.0.1"
    return (f"[{host}]" if ":" in host else host), port


_BIND_HOST, _BIND_PORT = _reached_at(CONFIG["bind"])
ALLOWED_HOSTS = CONFIG["allowed_hosts"] or list(dict.fromkeys(["127.0.0.1", "localhost", _BIND_HOST]))
BASE_URL = (CONFIG["base_url"] or f"http://{_BIND_HOST}{':' if _BIND_PORT else ''}{_BIND_PORT}").rstrip("/")

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rules.apps.AutodiscoverRulesConfig",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_tasks",
    "django_tasks_db",
    "cocdesk.common",
    "cocdesk.orgs",
    "cocdesk.cases",
    "cocdesk.people",
    "cocdesk.sanctions",
    "cocdesk.transparency",
    "cocdesk.notify",
    "cocdesk.public",
    "cocdesk.desk",
]

# Widgets render through Jinja2 (Django ships the same widget markup for it): a case page full of choice lists
# renders its forms in a fraction of the time the Django engine takes.
FORM_RENDERER = "cocdesk.common.forms_rendering.FormRenderer"

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "cocdesk.common.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "cocdesk.common.sessions.SessionRenewalMiddleware",
    "django.middleware.common.CommonMiddleware",
    "cocdesk.common.middleware.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "cocdesk.orgs.access.AccessScopeMiddleware",
    "cocdesk.common.signed_in.PreparedOTPMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "cocdesk.common.middleware.NoStoreMiddleware",
]

ROOT_URLCONF = "cocdesk.urls"
WSGI_APPLICATION = "cocdesk.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
    # The busiest page's sections (the case page) render with Jinja2, several times faster than the template
    # language; everything else stays with the Django engine, which is asked first.
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "environment": "cocdesk.common.jinja.environment",
            "context_processors": ["django.contrib.auth.context_processors.auth"],
        },
    },
]

# Each worker keeps its connection for database_conn_max_age seconds instead of opening one per request: a server
# database's would cost a TCP (and TLS, and authentication) handshake, SQLite's the registration of Django's SQL
# functions and the pragmas below (about a millisecond of CPU, as much as a page's queries). The health check
# replaces a connection that died meanwhile.
DATABASES = {
    "default": dj_database_url.parse(
        CONFIG["database_url"], conn_max_age=CONFIG["database_conn_max_age"], conn_health_checks=True
    )
}
# PostgreSQL plans the hot paths' statements (common.prepared) once per connection; a pooler that cannot keep a
# session's prepared statements (PgBouncer in transaction mode before 1.21) needs this off.
COCDESK_PREPARED_STATEMENTS = CONFIG["database_prepared_statements"]
SQLITE_ENGINE = "cocdesk.common.sqlite"
POSTGRESQL_ENGINE = "cocdesk.common.postgresql"
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # Django's own, but for a health check that asks the connection's socket first (common/postgresql/base.py).
    DATABASES["default"]["ENGINE"] = POSTGRESQL_ENGINE
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Django's own, but for converting each statement's text once per worker (common/sqlite/base.py).
    DATABASES["default"]["ENGINE"] = SQLITE_ENGINE
    Path(DATABASES["default"]["NAME"]).parent.mkdir(parents=True, exist_ok=True)
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTHENTICATION_BACKENDS = [
    "rules.permissions.ObjectPermissionBackend",
    "cocdesk.common.signed_in.PreparedModelBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 12}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "desk:login"
OTP_TOTP_ISSUER = "CoC Desk"
COCDESK_LOGIN_ATTEMPTS_PER_ACCOUNT = CONFIG["login_attempts_per_account"]
COCDESK_LOGIN_ATTEMPTS_PER_ADDRESS = CONFIG["login_attempts_per_address"]
COCDESK_LOGIN_WINDOW = CONFIG["login_window_seconds"]
LOGIN_REDIRECT_URL = "desk:queue"
LOGOUT_REDIRECT_URL = "desk:login"
PASSWORD_RESET_TIMEOUT = 24 * 60 * 60

SESSION_COOKIE_AGE = CONFIG["session_idle_seconds"]
# Activity renews a session; cocdesk.common.sessions writes the renewal at most once a minute, not on every page.
SESSION_ENGINE = "cocdesk.common.sessions"
MESSAGE_STORAGE = "cocdesk.common.messages.LazyFallbackStorage"
SESSION_SAVE_EVERY_REQUEST = False
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
# secure_cookies says the site is served over HTTPS: cookies travel only encrypted and plain HTTP is redirected.
SESSION_COOKIE_SECURE = CONFIG["secure_cookies"]
CSRF_COOKIE_SECURE = CONFIG["secure_cookies"]
SECURE_SSL_REDIRECT = CONFIG["secure_cookies"]
CSRF_COOKIE_HTTPONLY = True
CSRF_FAILURE_VIEW = "cocdesk.urls.csrf_failure"
# Set deliberately above anything a browser can send through our forms: every text box carries maxlength (the
# largest, 50,000 characters, is at most 600 KB once encoded), so only a tampered request reaches these limits,
# and it gets the product's own page saying what they are (cocdesk.urls.bad_request).
DATA_UPLOAD_MAX_MEMORY_SIZE = 4 * 1024 * 1024
DATA_UPLOAD_MAX_NUMBER_FIELDS = 1000

SECURE_REFERRER_POLICY = "no-referrer"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Sent on HTTPS responses only (Django checks request.is_secure()).
SECURE_HSTS_SECONDS = 60 * 60 * 24 * 365
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = CONFIG["hsts_preload"]
# Behind a reverse proxy that ends TLS, only its X-Forwarded-Proto tells whether the browser used HTTPS. It is trusted
# only when behind_proxy says every request comes through that proxy: a client reaching the server directly could
# send the header itself.
if CONFIG["behind_proxy"]:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
# Where the throttles read the client's address: behind the proxy, REMOTE_ADDR is the proxy's for everyone, and one
# guesser would lock every member and reporter out; the proxy's X-Real-IP (set by it, never passed on) is the client.
COCDESK_CLIENT_ADDRESS_HEADER = "HTTP_X_REAL_IP" if CONFIG["behind_proxy"] else "REMOTE_ADDR"
SILENCED_SYSTEM_CHECKS = [
    # The check looks for Django's CSRF middleware by name; MIDDLEWARE holds cocdesk.common.middleware's subclass.
    "security.W003",
]
if not CONFIG["hsts_preload"]:
    # Preloading writes the domain and every subdomain into browsers as HTTPS-only for months: the operator's choice.
    SILENCED_SYSTEM_CHECKS.append("security.W021")

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'none'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "form-action": ["'self'"],
        "connect-src": ["'self'"],
        "base-uri": ["'none'"],
        "frame-ancestors": ["'none'"],
    }
}

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "cocdesk"}}

LANGUAGE_CODE = "en"
TIME_ZONE = CONFIG["time_zone"]
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = VAR_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # collectstatic fills it; an empty one is served through finders
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = DEBUG

EMAIL_BACKEND = CONFIG["email_backend"]
EMAIL_HOST = CONFIG["email_host"]
EMAIL_PORT = CONFIG["email_port"]
EMAIL_HOST_USER = CONFIG["email_host_user"]
EMAIL_HOST_PASSWORD = CONFIG["email_host_password"]
EMAIL_USE_TLS = CONFIG["email_use_tls"]
DEFAULT_FROM_EMAIL = CONFIG["default_from_email"]

COCDESK_KEYRING_FILE = CONFIG["keyring_file"]
COCDESK_KEYRING = CONFIG["keyring"]
COCDESK_RECEIPT_ATTEMPTS = CONFIG["receipt_attempts_per_window"]
COCDESK_RECEIPT_WINDOW = CONFIG["receipt_window_seconds"]
# Sent or cancelled notifications and finished background tasks older than this are deleted by prune_records.
COCDESK_KEEP_DELIVERED_DAYS = CONFIG["keep_delivered_days"]
# Where phone numbers written without a country code are read from (an ISO 3166 code such as "GB"); without it
# only international numbers ("+44 ...") become E.164 and others are matched by their digits.
COCDESK_PHONE_REGION = (CONFIG["phone_region"] or "").upper() or None

# Request logging is off: the access log would otherwise hold reporters' addresses and user agents.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "{asctime} {levelname} {name}: {message}", "style": "{"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "loggers": {
        "django.server": {"handlers": [], "propagate": False},
        "django.request": {"handlers": ["console"], "level": "ERROR", "propagate": False},
        "cocdesk": {"handlers": ["console"], "level": CONFIG["log_level"], "propagate": False},
    },
}
