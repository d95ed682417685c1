"""flowsync settings. Every value that differs between machines comes from the environment
(see .env.example); the defaults run the whole stack on one machine with no server."""

from __future__ import annotations

from pathlib import Path

from cryptography.fernet import Fernet
from django.templatetags.static import static

from config.env import (
    env_bool,
    env_cache,
    env_database,
    env_email_backend,
    env_int,
    env_list,
    env_secret,
    env_str,
    random_secret_key,
)

BASE_DIR = Path(__file__).resolve().parent.parent
DATA_DIR = Path(env_str("FLOWSYNC_DATA_DIR", str(BASE_DIR / "data")))

# --- Core -------------------------------------------------------------------------------------
# DEBUG is off unless asked for, so a deployment that forgets its settings fails loudly
# (SECRET_KEY is then required) instead of running with generated development secrets.
DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env_secret("SECRET_KEY", debug=DEBUG, data_dir=DATA_DIR, generate=random_secret_key)
# Former signing keys, comma-separated: sessions, signed values and API keys made under them keep
# working while SECRET_KEY is rotated (docs/operations.md).
SECRET_KEY_FALLBACKS = env_list("SECRET_KEY_FALLBACKS", [])
# Credentials at rest (syncing.Connection). Comma-separated: the first encrypts, all decrypt,
# which is how a key is rotated (MultiFernet).
FIELD_ENCRYPTION_KEY = env_secret(
    "FIELD_ENCRYPTION_KEY",
    debug=DEBUG,
    data_dir=DATA_DIR,
    generate=lambda: Fernet.generate_key().decode(),
)
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["localhost", "127.0.0.1", "[::1]"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])
# Public address used in links flowsync hands out (webinar login links, room URLs for CRMs).
PUBLIC_BASE_URL = env_str("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# --- E-mail (webinar login links, sent by the worker) ----------------------------------------
EMAIL_BACKEND = env_email_backend()
EMAIL_HOST = env_str("EMAIL_HOST", "localhost")
EMAIL_PORT = env_int("EMAIL_PORT", 25)
EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", False)
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "flowsync <webinars@localhost>")

INSTALLED_APPS = [
    # unfold's templates must win over django.contrib.admin's.
    "unfold",
    "unfold.contrib.filters",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "django_celery_beat",
    "workspaces",
    "rooms",
    "insights",
    "events",
    "syncing",
    "console",
    "axes",
]

MIDDLEWARE = [
    # First: a too-big body or a NUL in the URL is answered before anything reads them.
    "config.middleware.RequestLimitsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files straight from the web process (gunicorn in production), before sessions.
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "csp.middleware.CSPMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "config.middleware.ApiTrailingSlashMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # The console's pages in the staff member's time zone (the API stays in UTC).
    "console.middleware.StaffTimeZoneMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: it turns a locked-out login into its 429 page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"
# The specs' paths have no trailing slash; config.urls accepts both forms explicitly.
APPEND_SLASH = False

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
            ]
        },
    }
]

# --- Database ---------------------------------------------------------------------------------
DATABASES = {"default": env_database("DATABASE_URL", f"sqlite:///{DATA_DIR / 'flowsync.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = True
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # WAL lets the web process read while the worker writes; IMMEDIATE transactions plus a
    # busy timeout make concurrent writers wait for each other instead of failing at once.
    DATABASES["default"]["OPTIONS"] = {
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
    }
    DATA_DIR.mkdir(parents=True, exist_ok=True)
else:
    # Connections are kept between requests only by processes that serve one request at a
    # time: gunicorn's sync workers (deploy/gunicorn.conf.py sets 60). The development server
    # runs a thread per client and each thread would keep its own connection until PostgreSQL
    # ran out (#15 finding 2), so by default a connection is closed when its request ends;
    # Celery's prefork children then open one per task, one at a time.
    DATABASES["default"].setdefault("CONN_MAX_AGE", env_int("DATABASE_CONN_MAX_AGE", 0))
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Shared by every web process (throttling): a file cache works on one machine; use Redis
# (CACHE_URL=redis://...) when web processes run on several.
CACHES = {"default": env_cache("CACHE_URL", f"filecache://{DATA_DIR / 'cache'}")}

# --- Auth -------------------------------------------------------------------------------------
AUTH_USER_MODEL = "workspaces.User"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]
LOGIN_URL = "admin:login"
# django-axes first: it refuses a login while its username and address are locked out (5
# failures, then an hour), before the password is checked. It is also a ModelBackend.
AUTHENTICATION_BACKENDS = [
    "workspaces.authentication.LoginLockoutBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = 1  # hours
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The admin login form's field (axes would read USERNAME_FIELD, "email", and find nothing).
AXES_USERNAME_FORM_FIELD = "username"
AXES_CLIENT_IP_CALLABLE = "workspaces.throttling.client_address"
# The one-time "copy this API key" message lives in the session (server side), never in a
# cookie (the default storage puts messages in a signed, readable cookie).
MESSAGE_STORAGE = "django.contrib.messages.storage.session.SessionStorage"

# --- HTTPS and browser protections ------------------------------------------------------------
# On by default when DEBUG is off; SECURE_COOKIES=false only for a deployment without TLS.
SECURE_COOKIES = env_bool("SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = SECURE_COOKIES
CSRF_COOKIE_SECURE = SECURE_COOKIES
# Sent on HTTPS responses only; a year, the usual preload minimum. Subdomains are not included:
# flowsync does not own its parent domain's other hosts.
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
X_FRAME_OPTIONS = "DENY"
# Only this origin's scripts, styles, images and connections; no framing or plugins. Inline
# scripts and styles stay allowed: the admin theme and Swagger UI use them. No form-action:
# "Connect with HubSpot" posts a form that redirects to the provider's authorization page.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'", "'unsafe-inline'", "'unsafe-eval'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'", "data:"],
        "connect-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

# --- Time and language ------------------------------------------------------------------------
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
# The console writes each time's zone beside it (console/formats).
FORMAT_MODULE_PATH = ["console.formats"]
USE_I18N = True
USE_TZ = True

# --- Static files and the production server ------------------------------------------------
STATIC_URL = "static/"
# collectstatic writes here and whitenoise serves from here (deploy/ runs it before gunicorn).
STATIC_ROOT = Path(env_str("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Without DEBUG: compressed files with content hashes in their names, cached forever by
    # browsers (needs collectstatic); in DEBUG, files straight from the apps.
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "whitenoise.storage.CompressedManifestStaticFilesStorage"
    },
}
if DEBUG:  # nothing collected on a developer machine; whitenoise warns about a missing folder
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)
# Behind a proxy that terminates TLS and sets X-Forwarded-Proto (docs/deployment.md): trust it,
# so Django knows a request was https (secure cookies, redirects, CSRF origin checks).
if env_bool("BEHIND_TLS_PROXY", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- REST API ---------------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "workspaces.authentication.ApiKeyAuthentication",
        "workspaces.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["workspaces.permissions.IsWorkspaceMember"],
    "DEFAULT_THROTTLE_CLASSES": ["workspaces.throttling.WorkspaceRateThrottle"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # DRF's JSON parser with a nesting limit and no NUL characters (config/parsers.py).
    "DEFAULT_PARSER_CLASSES": ["config.parsers.JSONParser"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "config.errors.api_exception_handler",
    "UNAUTHENTICATED_USER": "django.contrib.auth.models.AnonymousUser",
    # Proxies in front of flowsync that append the client's address to X-Forwarded-For; the
    # throttles read the address the last of them saw. 0: the header is ignored (a client
    # could otherwise pick a new address per request and never be throttled).
    "NUM_PROXIES": env_int("TRUSTED_PROXY_COUNT", 0),
}
# Requests per caller (API key, logged-in user, or client address when anonymous).
API_THROTTLE_RATE = env_str("API_THROTTLE_RATE", "1200/min")
PUBLIC_THROTTLE_RATE = env_str("PUBLIC_THROTTLE_RATE", "60/min")
# Failed API authentications (unknown, revoked or malformed keys) per client address; past
# it the answer is 429 instead of 401.
API_AUTH_FAILURE_RATE = env_str("API_AUTH_FAILURE_RATE", "30/min")
# Redis keys of the throttle counters (workspaces.throttling).
THROTTLE_KEY_PREFIX = "throttle"
# Longest a process trusts its cached API key without the database; revocations through the
# services reach every process at once (workspaces.keycache).
API_KEY_CACHE_SECONDS = env_int("API_KEY_CACHE_SECONDS", 60)

SPECTACULAR_SETTINGS = {
    "TITLE": "flowsync API",
    "DESCRIPTION": "Sales rooms, webinars and chatbot insights served from flowsync's database.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    "SCHEMA_PATH_PREFIX": r"/api",
    "APPEND_COMPONENTS": {
        "securitySchemes": {
            "FlowlaApiKey": {"type": "apiKey", "in": "header", "name": "x-flowla-api-key"},
            "ApiSecret": {"type": "apiKey", "in": "header", "name": "api-secret"},
            "BearerKey": {"type": "http", "scheme": "bearer"},
        }
    },
    "SECURITY": [{"FlowlaApiKey": []}, {"ApiSecret": []}, {"BearerKey": []}],
    "AUTHENTICATION_WHITELIST": [],
    # Swagger UI and Redoc from drf-spectacular-sidecar's static files: no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Staff console (django-unfold) ------------------------------------------------------------
UNFOLD = {
    "SITE_TITLE": "flowsync",
    "SITE_HEADER": "flowsync",
    "SITE_SUBHEADER": "Staff console",
    "SITE_SYMBOL": "sync_alt",
    "SITE_URL": "/admin/",
    "SHOW_VIEW_ON_SITE": False,
    "DASHBOARD_CALLBACK": "console.dashboard.dashboard_callback",
    "STYLES": [lambda request: static("console/console.css")],
    "SIDEBAR": {
        "show_search": True,
        "show_all_applications": True,
        "navigation": "console.navigation.sidebar_navigation",
    },
    "ACCOUNT": {"navigation": "console.navigation.account_links"},
}

# --- Celery -----------------------------------------------------------------------------------
# The default broker needs no server: Celery's filesystem transport in the data folder.
CELERY_BROKER_URL = env_str("CELERY_BROKER_URL", "filesystem://")
CELERY_BROKER_TRANSPORT_OPTIONS = (
    {
        "data_folder_in": str(DATA_DIR / "broker"),
        "data_folder_out": str(DATA_DIR / "broker"),
        "processed_folder": str(DATA_DIR / "broker-processed"),
        # Exchange tables (broadcasts, remote control); kombu's default is ./control.
        "control_folder": str(DATA_DIR / "broker-control"),
        "store_processed": False,
    }
    if CELERY_BROKER_URL.startswith("filesystem")
    # Redis re-delivers an unacknowledged task after this many seconds; longer than any task.
    else {"visibility_timeout": env_int("CELERY_VISIBILITY_TIMEOUT", 3600)}
)
if CELERY_BROKER_URL.startswith("filesystem"):
    for folder in ("broker", "broker-processed", "broker-control"):
        (DATA_DIR / folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
# A task is acknowledged only when it finished, and put back if its worker died, so a crash
# never loses work; tasks are therefore written to be safe to run twice.
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SOFT_TIME_LIMIT = env_int("CELERY_TASK_SOFT_TIME_LIMIT", 25 * 60)
CELERY_TASK_TIME_LIMIT = env_int("CELERY_TASK_TIME_LIMIT", 30 * 60)
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
# Beat writes a task's last run time at every send (not every 3 minutes), so /healthz can tell
# from it whether beat is alive (config.health).
CELERY_BEAT_SYNC_EVERY = 1
CELERY_TIMEZONE = "UTC"
# Fixed schedules; django-celery-beat copies them into its tables, where they can be edited.
CELERY_BEAT_SCHEDULE = {
    "worker-heartbeat": {"task": "workspaces.worker_heartbeat", "schedule": 60.0},
}

# --- Logging ----------------------------------------------------------------------------------
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
