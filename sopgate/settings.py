"""SOPGate settings: one module, driven by environment variables (see .env.example)."""

from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off. Set SECRET_KEY in the environment or in .env."
        )
    SECRET_KEY = "insecure-local-development-key-only-used-with-debug-on"

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://localhost:8000").rstrip("/")
TIME_ZONE = env.str("TIME_ZONE", default="UTC")
USE_TZ = True
LANGUAGE_CODE = "en"
# The suppliers' portal speaks these (portal/middleware.py picks one from the browser or the switch); the admin, the
# dashboard and the API stay in English, the language of their contract and of the gate's messages.
USE_I18N = True
LANGUAGES = [("en", "English"), ("zh-hans", "简体中文"), ("de", "Deutsch")]
LOCALE_PATHS = [BASE_DIR / "locale"]
FORMAT_MODULE_PATH = ["portal.formats"]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "rest_framework",
    "knox",
    "axes",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "simple_history",
    "import_export",
    "sopgate",
    "parts",
    "validation",
    "portal",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "sopgate.security.NulInQueryMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "portal.middleware.PortalLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "sopgate.security.ContentSecurityPolicyMiddleware",
    "sopgate.security.DatabaseUnavailableMiddleware",
    "simple_history.middleware.HistoryRequestMiddleware",
    "axes.middleware.AxesMiddleware",  # last, as django-axes asks: turns a lock-out into its 429 page
]
# django-axes refuses a login after repeated failures; then Django's own backend, which also refuses inactive
# users and the users of an inactive supplier.
AUTHENTICATION_BACKENDS = ["axes.backends.AxesStandaloneBackend", "sopgate.security.AccountBackend"]
LOGIN_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
LOGIN_LOCKOUT_SECONDS = env.int("LOGIN_LOCKOUT_SECONDS", default=15 * 60)

ROOT_URLCONF = "sopgate.urls"
WSGI_APPLICATION = "sopgate.wsgi.application"

TEMPLATES = [
    {
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

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}")}
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # JIT compilation cost ~140 ms on a 15 ms gate query here; the app's queries are short.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
elif DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"timeout": 20, "transaction_mode": "IMMEDIATE", "init_command": "PRAGMA journal_mode=WAL;"}
    )
    # SQLite has no covering indexes: the INCLUDE columns of the PostgreSQL indexes are ignored here, as intended.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "admin:login"
LOGIN_REDIRECT_URL = "/"

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Evidence files (PPAP warrants, run-at-rate and test reports) go through Django's storage API: a local folder by
# default, any S3-compatible store (AWS, MinIO, Ceph...) when EVIDENCE_S3_BUCKET is set (django-storages). They are
# never served as static media: every download passes the API's permission check.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
EVIDENCE_S3_BUCKET = env.str("EVIDENCE_S3_BUCKET", default="")
if EVIDENCE_S3_BUCKET:
    _evidence_storage = {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": EVIDENCE_S3_BUCKET,
            "endpoint_url": env.str("EVIDENCE_S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("EVIDENCE_S3_REGION", default="") or None,
            "access_key": env.str("EVIDENCE_S3_ACCESS_KEY", default="") or None,
            "secret_key": env.str("EVIDENCE_S3_SECRET_KEY", default="") or None,
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
else:
    _evidence_storage = {"BACKEND": "django.core.files.storage.FileSystemStorage"}
STORAGES = {
    "default": _evidence_storage,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}
# What an evidence file may be: its size, and its type by the name's extension.
EVIDENCE_MAX_MB = env.int("EVIDENCE_MAX_MB", default=25)
EVIDENCE_FILE_TYPES = env.list(
    "EVIDENCE_FILE_TYPES", default=["pdf", "png", "jpg", "jpeg", "xlsx", "xls", "csv", "docx", "doc", "txt", "zip"]
)
WHITENOISE_USE_FINDERS = DEBUG

# --- Email ------------------------------------------------------------------------------------
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
EMAIL_TIMEOUT = env.int("EMAIL_TIMEOUT", default=10)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="SOPGate <sopgate@localhost>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Proxy -----------------------------------------------------------------------------------------
# How many reverse proxies stand in front of the web processes (0: clients connect directly). Only then are
# X-Forwarded-Proto (HTTPS detection) and X-Forwarded-For (the client address of the lock-out and the throttle)
# believed; without a proxy anyone could send them.
TRUSTED_PROXY_COUNT = env.int("TRUSTED_PROXY_COUNT", default=0)

# --- Cache: the limits every web process shares (API throttle, login lock-out) ----------------------
REDIS_URL = env.str("REDIS_URL", default="")


def _next_redis_database(url: str) -> str:
    """The Redis server of `url`, one database number up (wrapping at 16): the cache keeps off the broker's keys."""
    base, _, database = url.rpartition("/")
    number = int(database) if database.isdigit() else 0
    return f"{base}/{(number + 1) % 16}"


CACHE_URL = env.str("CACHE_URL", default=_next_redis_database(REDIS_URL) if REDIS_URL else "")
if CACHE_URL:
    # Counted in Redis, across processes and hosts. Short timeouts, and a Redis that is down or frozen fails open
    # (IGNORE_EXCEPTIONS: nothing is counted, every request and login goes on), as docs/RELIABILITY.md promises.
    CACHES = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": CACHE_URL,
            "KEY_PREFIX": "sopgate",
            "OPTIONS": {
                "SOCKET_CONNECT_TIMEOUT": 0.25,
                "SOCKET_TIMEOUT": 0.25,
                "IGNORE_EXCEPTIONS": True,
            },
        }
    }
    DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
    AXES_HANDLER = "axes.handlers.cache.AxesCacheHandler"
else:
    # No Redis (`make run` on a bare machine): the throttle counts per process; the lock-out counts in the database,
    # which every process shares.
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "sopgate"}}
    AXES_HANDLER = "axes.handlers.database.AxesDatabaseHandler"

# Login lock-out (django-axes): failures count per username *and* client address together, so nobody can lock an
# engineer out from elsewhere by typing wrong passwords under their name.
AXES_FAILURE_LIMIT = LOGIN_FAILURE_LIMIT
AXES_COOLOFF_TIME = timedelta(seconds=LOGIN_LOCKOUT_SECONDS)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_IPWARE_PROXY_COUNT = TRUSTED_PROXY_COUNT or None
AXES_IPWARE_META_PRECEDENCE_ORDER = ["HTTP_X_FORWARDED_FOR", "REMOTE_ADDR"] if TRUSTED_PROXY_COUNT else ["REMOTE_ADDR"]
AXES_VERBOSE = False

# --- Celery -------------------------------------------------------------------------------------
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "visibility_timeout": 15 * 60,
        "socket_timeout": 3,
        "socket_connect_timeout": 3,
        "max_retries": 1,
        "interval_start": 0,
        "interval_step": 0.5,
        "interval_max": 1,
    }
else:
    # No Redis configured: an embedded filesystem broker so `make run` works on a bare machine. `make test` points
    # BROKER_DIR elsewhere, so the tasks its tests queue are not left for the next `make run`'s worker.
    _broker_dir = BASE_DIR / env.str("BROKER_DIR", default="var/broker")
    for _sub in ("in", "processed", "control"):
        (_broker_dir / _sub).mkdir(parents=True, exist_ok=True)
    CELERY_BROKER_URL = "filesystem://localhost//"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "in"),
        "data_folder_out": str(_broker_dir / "in"),
        "processed_folder": str(_broker_dir / "processed"),
        "store_processed": False,
        "control_folder": str(_broker_dir / "control"),  # not ./control in whatever directory a command runs
    }
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TASK_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.5, "interval_max": 1}
# What a task prints (the console email backend's messages) is logged at INFO, not as `WARNING celery.redirected`.
CELERY_WORKER_REDIRECT_STDOUTS_LEVEL = "INFO"
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_TIME_LIMIT = 10 * 60
CELERY_TASK_SOFT_TIME_LIMIT = 9 * 60
CELERY_TIMEZONE = TIME_ZONE
CELERY_WORKER_HIJACK_ROOT_LOGGER = False

SOPGATE_SCAN_INTERVAL_MINUTES = env.int("SCAN_INTERVAL_MINUTES", default=10)
# Seconds a data change waits before its re-scan runs; changes inside that window share one scan.
SOPGATE_SCAN_DEBOUNCE_SECONDS = env.int("SCAN_DEBOUNCE_SECONDS", default=30)
SOPGATE_DIGEST_HOUR = env.int("DIGEST_HOUR", default=6)
# A blocker that resolves and comes back within this many hours reopens without a second alert (a supplier flipping
# a date back and forth); later it alerts again, saying "reopened".
SOPGATE_REOPEN_QUIET_HOURS = env.int("REOPEN_QUIET_HOURS", default=24)
if not 0 <= SOPGATE_DIGEST_HOUR <= 23:
    raise ImproperlyConfigured(f"DIGEST_HOUR must be an hour from 0 to 23; got {SOPGATE_DIGEST_HOUR}.")
# How long a POST's Idempotency-Key is remembered: a retry within this time gets the first response back.
SOPGATE_IDEMPOTENCY_RETENTION_HOURS = env.int("IDEMPOTENCY_RETENTION_HOURS", default=72)
# Supplier updates one supplier may store per day (from midnight in TIME_ZONE), so a login cannot fill the
# database. 10,000 lets a supplier of 300+ parts send several full batches a day, with room for retries.
SUPPLIER_DAILY_UPDATE_LIMIT = env.int("SUPPLIER_DAILY_UPDATE_LIMIT", default=10_000)
if SUPPLIER_DAILY_UPDATE_LIMIT < 1:
    raise ImproperlyConfigured(f"SUPPLIER_DAILY_UPDATE_LIMIT must be at least 1; got {SUPPLIER_DAILY_UPDATE_LIMIT}.")

CELERY_BEAT_SCHEDULE = {
    "scan-all-programs": {
        "task": "sopgate.tasks.scan_all_programs",
        "schedule": timedelta(minutes=SOPGATE_SCAN_INTERVAL_MINUTES),
    },
    "dispatch-outbox": {"task": "sopgate.tasks.dispatch_outbox", "schedule": timedelta(minutes=1)},
    # Before the day's snapshot: a capacity plan line dated today takes over as the part's capacity per week.
    "daily-capacity-in-force": {
        "task": "parts.tasks.refresh_capacity_in_force",
        "schedule": crontab(hour=0, minute=5),
    },
    "daily-snapshot": {
        "task": "sopgate.tasks.snapshot_all_programs",
        "schedule": crontab(hour=0, minute=15),
    },
    "daily-digest": {
        "task": "sopgate.tasks.send_daily_digests",
        "schedule": crontab(hour=SOPGATE_DIGEST_HOUR, minute=0),
    },
    "purge-idempotency-records": {"task": "parts.tasks.purge_idempotency_records", "schedule": timedelta(hours=1)},
}

# --- REST framework -----------------------------------------------------------------------------
# A batch of 1,000 supplier updates with notes of 10,000 ASCII characters each fits; a larger body is a 413.
DATA_UPLOAD_MAX_MEMORY_SIZE = 16 * 2**20

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "sopgate.api.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": [
        "django_filters.rest_framework.DjangoFilterBackend",
        "sopgate.api.filters.SearchFilter",
        "sopgate.api.filters.OrderingFilter",
    ],
    "DEFAULT_PARSER_CLASSES": ["sopgate.api.parsers.JSONParser"],
    "DEFAULT_PAGINATION_CLASS": "sopgate.api.pagination.Pagination",
    "PAGE_SIZE": 50,
    "DEFAULT_SCHEMA_CLASS": "sopgate.api.schema.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": ["rest_framework.throttling.UserRateThrottle"],
    "DEFAULT_THROTTLE_RATES": {"user": env.str("API_THROTTLE_RATE", default="6000/min")},
    "NUM_PROXIES": TRUSTED_PROXY_COUNT or None,
    "EXCEPTION_HANDLER": "sopgate.api.errors.exception_handler",
}
# API tokens (django-rest-knox): stored as SHA-512 digests, shown once when issued, expiring after this many days
# (0: never). `manage.py create_api_token USER` issues one.
API_TOKEN_TTL_DAYS = env.int("API_TOKEN_TTL_DAYS", default=365)
REST_KNOX = {
    "TOKEN_TTL": timedelta(days=API_TOKEN_TTL_DAYS) if API_TOKEN_TTL_DAYS else None,
    "AUTH_HEADER_PREFIX": "Token",
    "AUTO_REFRESH": False,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "SOPGate API",
    "DESCRIPTION": "Supply-chain readiness for a vehicle program's Start of Production.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "sopgate.api.schema.add_error_responses",
    ],
}

# --- Security ------------------------------------------------------------------------------------
SESSION_ENGINE = "django.contrib.sessions.backends.db"
SESSION_COOKIE_HTTPONLY = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
if not DEBUG:
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    # The health check is asked for over plain HTTP from inside the container or host (compose, a load balancer).
    SECURE_REDIRECT_EXEMPT = [r"^health/$"]
    if TRUSTED_PROXY_COUNT:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
    CSRF_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=60 * 60 * 24 * 30)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "WARNING"}, "axes": {"level": "WARNING"}},
}
