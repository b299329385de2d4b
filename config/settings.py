"""Settings for the release knowledge base, read from the environment.

Every setting that differs between a laptop, CI and production comes from an environment
variable; nothing here needs editing to deploy. The variables are documented in README.md.
"""

import hashlib
import os
import re
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

from config.build import build_id

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


def env_bool(name: str, default: bool) -> bool:
    """Read a boolean variable: 1/true/yes/on are true, 0/false/no/off/empty are false."""
    value = os.environ.get(name)
    if value is None:
        return default
    value = value.strip().lower()
    if value in {"1", "true", "yes", "on"}:
        return True
    if value in {"0", "false", "no", "off", ""}:
        return False
    raise ImproperlyConfigured(f"{name} must be 0 or 1, got {value!r}.")


def env_list(name: str, default: str = "") -> list[str]:
    """Read a comma-separated variable into a list, dropping empty items."""
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def env_bytes(name: str) -> int | None:
    """Read a size: a number of bytes, or of KiB, MiB or GiB with K, M or G (``64M``, ``1G``).
    None when the variable is unset or empty."""
    value = os.environ.get(name, "").strip()
    if not value:
        return None
    match = re.fullmatch(r"([0-9]+)\s*([KMG]?)(?:I?B)?", value.upper())
    if not match or int(match[1]) == 0:
        raise ImproperlyConfigured(f"{name} must be a size such as 67108864 or 64M, got {value!r}.")
    return int(match[1]) * 1024 ** " KMG".index(match[2] or " ")


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY is not set. Set the SECRET_KEY environment variable to a long random "
            "string (or DEBUG=1 for local development)."
        )
    SECRET_KEY = "development-only-key-never-used-when-debug-is-off-3f9a1c7e5b2d4f6a8c0e"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]" if DEBUG else "")
if DEBUG:
    ALLOWED_HOSTS += ["testserver"]
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "config.apps.KnowledgeBaseAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.contrib.sitemaps",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "articles",
    "releases",
    "corpus",
    "config.signin",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "config.security.SecurityHeadersMiddleware",
    # Before anything reads the request: a NUL in its path, query, form or credentials is a 400.
    "config.null_guard.NullCharacterGuardMiddleware",
    # Gzip, for answers without secrets only (BREACH: config/compression.py). Above the middleware
    # that set ETags and CSRF cookies, so it compresses their finished answer.
    "config.compression.SafeGZipMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "config.head.ConditionalGetMiddleware",  # Django's, with the ETag on HEAD answers too
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "config.replicas.ReplicaReadsMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        # Reader pages: compiled once to Python (articles/templating.py says why).
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates" / "jinja2"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "articles.templating.environment"},
    },
    {
        # The admin, the browsable API and the API docs.
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# Database: DATABASE_URL, or an embedded SQLite file under var/.
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{VAR_DIR / 'db.sqlite3'}",
        conn_max_age=int(os.environ.get("CONN_MAX_AGE", "600")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets readers and one writer work at once (gunicorn runs several workers), and
    # IMMEDIATE transactions make a writer wait for the lock instead of failing mid-way.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    # SQLite has no covering indexes: the columns an index carries for PostgreSQL's
    # index-only scans (INCLUDE) are left out there, and the index serves as it is.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
# Read replicas (PostgreSQL streaming replicas of DATABASE_URL), comma-separated: anonymous reads
# go to one of them, everything else to the primary (config/replicas.py).
READ_REPLICAS = []
for number, url in enumerate(env_list("DATABASE_REPLICA_URLS"), start=1):
    alias = f"replica{number}"
    DATABASES[alias] = dj_database_url.parse(
        url, conn_max_age=int(os.environ.get("CONN_MAX_AGE", "600")), conn_health_checks=True
    )
    DATABASES[alias]["TEST"] = {"MIRROR": "default"}
    READ_REPLICAS.append(alias)
DATABASE_ROUTERS = ["config.replicas.ReplicaRouter"]
for alias in DATABASES:
    if DATABASES[alias]["ENGINE"] == "django.db.backends.postgresql":
        # A database host that accepts the connection but never answers must not hang a worker
        # (or /health) until gunicorn kills it.
        DATABASES[alias].setdefault("OPTIONS", {}).setdefault(
            "connect_timeout", int(os.environ.get("DATABASE_CONNECT_TIMEOUT", "5"))
        )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Static files are served by whitenoise with compressed, content-hashed names; media goes
# through Django's storage API so object storage can replace the local disk.
STATIC_URL = "static/"
STATIC_ROOT = Path(os.environ.get("STATIC_ROOT", BASE_DIR / "staticfiles"))
STATICFILES_DIRS = [BASE_DIR / "static"]
MEDIA_URL = os.environ.get("MEDIA_URL", "/media/")
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT", VAR_DIR / "media"))
STORAGES = {
    # MEDIA_STORAGE names another storage class (object storage) without a code change.
    "default": {"BACKEND": os.environ.get("MEDIA_STORAGE", "django.core.files.storage.FileSystemStorage")},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}


# Caches. CACHE_URL picks the backend: unset for memory local to each process (no server
# needed), redis://host:6379/0 for a cache shared by every app server, file:///path, or dummy://.
# Memory and files are bounded by the bytes they hold (config/cache_backends.py): max_bytes, or
# the backend's default (64 MiB of memory per process, 512 MiB of files). Redis is bounded by
# its own maxmemory.
def cache_from_url(url: str, max_bytes: int | None = None) -> dict:
    scheme, _, rest = url.partition("://")
    bound = {"MAX_BYTES": max_bytes} if max_bytes else {}
    if scheme in ("redis", "rediss"):
        return {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": url}
    if scheme == "file":
        return {
            "BACKEND": "config.cache_backends.ByteBoundedFileBasedCache",
            "LOCATION": rest,
            "OPTIONS": bound,
        }
    if scheme == "dummy":
        return {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}
    if scheme == "locmem":
        return {
            "BACKEND": "config.cache_backends.ByteBoundedLocMemCache",
            "LOCATION": rest or "default",
            "OPTIONS": bound,
        }
    raise ImproperlyConfigured(
        f"CACHE_URL must start with redis://, file://, locmem:// or dummy://, got {url!r}."
    )


CACHES = {"default": cache_from_url(os.environ.get("CACHE_URL") or "locmem://", env_bytes("CACHE_MAX_BYTES"))}
# The anonymous read cache (articles/read_cache.py): on unless READ_CACHE=0. Its invalidations
# are keys in the cache itself, so every process that writes (web workers, the importer,
# publish_scheduled) must share it: CACHE_URL when set, else files under var/ on this machine,
# apart for each database. READ_CACHE_URL chooses another (locmem:// only for one process).
# READ_CACHE_MAX_BYTES bounds it when it is memory or files (CACHE_MAX_BYTES when it is
# CACHE_URL's cache, which one bound must hold).
READ_CACHE = env_bool("READ_CACHE", True)
READ_CACHE_ALIAS = "read"
_database_tag = hashlib.sha256(
    f"{DATABASES['default'].get('HOST')}:{DATABASES['default'].get('PORT')}/{DATABASES['default']['NAME']}".encode()
).hexdigest()[:12]
CACHES["read"] = cache_from_url(
    os.environ.get("READ_CACHE_URL")
    or os.environ.get("CACHE_URL")
    or f"file://{VAR_DIR / 'read-cache' / _database_tag}",
    env_bytes("READ_CACHE_MAX_BYTES")
    or (
        env_bytes("CACHE_MAX_BYTES")
        if os.environ.get("CACHE_URL") and not os.environ.get("READ_CACHE_URL")
        else None
    ),
)
CACHES["read"]["KEY_PREFIX"] = _database_tag  # a cache shared by several databases keeps them apart
READ_CACHE_TIMEOUT = int(os.environ.get("READ_CACHE_TIMEOUT", "600"))
# The build that answers (config/build.py): the read cache keeps each build's answers apart.
BUILD_ID = build_id(BASE_DIR)

# The editor's desk: a live article's review is due when its last review is older than
# REVIEW_MAX_AGE_DAYS, or its freshness score is below REVIEW_MIN_FRESHNESS (0-100).
REVIEW_MAX_AGE_DAYS = int(os.environ.get("REVIEW_MAX_AGE_DAYS", "180"))
REVIEW_MIN_FRESHNESS = int(os.environ.get("REVIEW_MIN_FRESHNESS", "40"))

# Security. With DEBUG off the HTTPS-only settings are on unless HTTPS=0 (a local plain-HTTP
# run such as `make run`).
HTTPS = env_bool("HTTPS", not DEBUG)
SECURE_SSL_REDIRECT = HTTPS
SECURE_REDIRECT_EXEMPT = [r"^health$"]
SECURE_HSTS_SECONDS = 31_536_000 if HTTPS else 0
SECURE_HSTS_INCLUDE_SUBDOMAINS = HTTPS
SECURE_HSTS_PRELOAD = HTTPS
SESSION_COOKIE_SECURE = HTTPS
CSRF_COOKIE_SECURE = HTTPS
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# Hosts article images may be loaded from (the CSP's img-src): comma-separated CSP host sources such
# as images.example.com, https://images.example.com or *.cdn.example.com. Without a scheme a host
# matches the page's own (https only, on an https site). The default serves the sample articles.
IMAGE_HOSTS = env_list("IMAGE_HOSTS", "images.unsplash.com,loremflickr.com,dummyimage.com")
for _host in IMAGE_HOSTS:
    if not re.fullmatch(r"(https?://)?(\*\.)?[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*(:[0-9]+)?", _host):
        raise ImproperlyConfigured(f"IMAGE_HOSTS: {_host!r} is not a host such as images.example.com.")
if proxy_header := os.environ.get("SECURE_PROXY_SSL_HEADER"):
    # e.g. "HTTP_X_FORWARDED_PROTO,https" behind a TLS-terminating proxy.
    name, _, value = proxy_header.partition(",")
    if not value:
        raise ImproperlyConfigured("SECURE_PROXY_SSL_HEADER must look like 'HEADER,value'.")
    SECURE_PROXY_SSL_HEADER = (name.strip(), value.strip())


# Reverse proxies in front of the app that each append the address they saw to X-Forwarded-For.
# Every per-client limit (the sign-in throttle, the API's rate limits) counts the client address of
# config/client_address.py: REMOTE_ADDR, or with N proxies the header's entry N places from the
# right. 0, the default, ignores the header, which any client can write. SIGNIN_TRUSTED_PROXIES is
# the variable's older name, still read.
def trusted_proxies() -> int:
    given = {
        name: os.environ[name].strip()
        for name in ("TRUSTED_PROXIES", "SIGNIN_TRUSTED_PROXIES")
        if os.environ.get(name, "").strip()
    }
    if len(set(given.values())) > 1:
        raise ImproperlyConfigured(
            "TRUSTED_PROXIES and SIGNIN_TRUSTED_PROXIES (its older name) disagree: set TRUSTED_PROXIES only."
        )
    value = next(iter(given.values()), "0")
    if not value.isascii() or not value.isdigit():
        raise ImproperlyConfigured(f"TRUSTED_PROXIES must be a number of proxies (0 or more), got {value!r}.")
    return int(value)


TRUSTED_PROXIES = trusted_proxies()

# Sign-in throttling (config/signin): after SIGNIN_FAILURE_LIMIT failed sign-ins for one username
# or from one client address (see TRUSTED_PROXIES) within SIGNIN_WINDOW_SECONDS, more attempts are
# refused (HTTP 429) until the window passes.
SIGNIN_FAILURE_LIMIT = int(os.environ.get("SIGNIN_FAILURE_LIMIT", "5"))
SIGNIN_WINDOW_SECONDS = int(os.environ.get("SIGNIN_WINDOW_SECONDS", "900"))

# Logging: one line per event on standard error; standard output stays free for results.
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "line": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "stderr": {"class": "logging.StreamHandler", "formatter": "line", "stream": "ext://sys.stderr"},
    },
    "root": {"handlers": ["stderr"], "level": LOG_LEVEL},
    "loggers": {
        "django": {"handlers": ["stderr"], "level": LOG_LEVEL, "propagate": False},
    },
}

REST_FRAMEWORK = {
    # drf-spectacular's, reading the patterns and keywords serializers state (articles/api/schema.py).
    "DEFAULT_SCHEMA_CLASS": "articles.api.schema.ApiSchema",
    # Token first: DRF takes the first class's WWW-Authenticate header, so a missing, wrong or
    # revoked token is answered 401 (403 would mean "signed in, not allowed").
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    # Refused workflow actions (releases.errors) answered with their status, in one place.
    "EXCEPTION_HANDLER": "releases.api_errors.exception_handler",
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    # DRF's throttles counting the client address of TRUSTED_PROXIES (config/throttling.py), in the
    # default cache: per process with the in-memory one, shared by every worker with CACHE_URL.
    "DEFAULT_THROTTLE_CLASSES": [
        "config.throttling.AnonRateThrottle",
        "config.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": os.environ.get("API_THROTTLE_ANON", "1000/minute"),
        "user": os.environ.get("API_THROTTLE_USER", "10000/minute"),
    },
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Release knowledge base API",
    "DESCRIPTION": "The post-meta box of every article as JSON: filter, search and order the list, "
    "read one article's meta, its similar posts and (staff) its revisions, import documents.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # Operations' paths as text, not links inside the button that opens them (a link in a button is
    # an interactive element nested in another, which keyboards and screen readers cannot use).
    "SWAGGER_UI_SETTINGS": {"deepLinking": False},
    "COMPONENT_SPLIT_REQUEST": True,
    # 3.1: its schemas are JSON Schema 2020-12, which can say what the server refuses in object keys
    # (propertyNames of the edits' extra meta).
    "OAS_VERSION": "3.1.0",
    # The answers every operation can give (401, 403, 406, 415, 429 with Retry-After), added once.
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "articles.api.schema.document_common_responses",
    ],
}
