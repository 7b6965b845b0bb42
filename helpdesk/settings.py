"""The one settings module. Every value that differs between installs comes
from the environment through helpdesk.env; docs/configuration.md lists them.
"""

from __future__ import annotations

import os
from pathlib import Path

from django.conf.locale import LANG_INFO
from django.core.exceptions import ImproperlyConfigured

from helpdesk.env import (
    env_bool,
    env_float,
    env_int,
    env_list,
    env_redis_url,
    env_str,
    parse_database_url,
)
from helpdesk.tickets.hours import hours_parse
from sentiment.label_map import parse_label_map

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = env_str("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off")
    SECRET_KEY = "insecure-development-key-only-for-debug"  # noqa: S105

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"])
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "daphne",
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "channels",
    "django_tasks",
    "django_tasks_db",
    "helpdesk.customers",
    "helpdesk.tickets",
    "helpdesk.reports",
    "chat",
    "frontend",
    "sentiment",
    "surveys",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "helpdesk.security.ContentSecurityPolicyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "helpdesk.urls"
ASGI_APPLICATION = "helpdesk.asgi.application"
WSGI_APPLICATION = None

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
]

DATABASES = {
    "default": parse_database_url(
        "DATABASE_URL",
        env_str("DATABASE_URL", "sqlite:///db.sqlite3"),
        base_dir=str(BASE_DIR),
    )
}
DATABASES["default"]["CONN_MAX_AGE"] = env_int("DB_CONN_MAX_AGE", 60, minimum=0)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # Several processes (daphne and the worker) share the file: wait for locks.
    DATABASES["default"]["OPTIONS"] = {"timeout": 20, "transaction_mode": "IMMEDIATE"}
elif "options" not in DATABASES["default"]["OPTIONS"]:
    # JIT off: the reports' conditional aggregates make PostgreSQL's cost
    # estimates cross its JIT thresholds, and compiling then takes seconds for
    # queries that run in milliseconds (docs/performance.md#reports). A
    # DATABASE_URL with ?options=... sets its own and keeps it.
    DATABASES["default"]["OPTIONS"]["options"] = "-c jit=off"
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env_redis_url("REDIS_URL")
if REDIS_URL:
    CHANNEL_LAYERS = {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            "CONFIG": {
                "hosts": [REDIS_URL],
                "prefix": env_str("CHANNEL_LAYER_PREFIX", "helpdesk"),
                "capacity": env_int("CHANNEL_LAYER_CAPACITY", 1000, minimum=10),
                "expiry": 60,
            },
        }
    }
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}

TASKS = {
    "default": {
        "BACKEND": "django_tasks_db.DatabaseBackend",
        "QUEUES": ["default", "sentiment"],
    }
}

# /healthz fails the task queue when a task has waited longer than this.
TASK_QUEUE_MAX_LAG_SECONDS = env_int("TASK_QUEUE_MAX_LAG_SECONDS", 300, minimum=1)
# The sweeper queues again a task RUNNING this long whose worker is gone (helpdesk.tickets.task_recovery).
TASK_STALE_SECONDS = env_int("TASK_STALE_SECONDS", 120, minimum=1)

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/admin/login/"

# The desk's language; Hebrew, Persian, Arabic and Urdu lay the desk out right to left.
LANGUAGE_CODE = env_str("DESK_LANGUAGE", "en-us").lower()
if LANGUAGE_CODE.split("-")[0] not in LANG_INFO:
    raise ImproperlyConfigured(
        f"DESK_LANGUAGE: {LANGUAGE_CODE!r} is not a language code Django knows (e.g. en, he, fa)"
    )
TIME_ZONE = env_str("TIME_ZONE", "UTC")
USE_I18N = True
USE_TZ = True

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
WHITENOISE_USE_FINDERS = DEBUG
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedStaticFilesStorage"},
}

REST_FRAMEWORK = {
    # Token first: its WWW-Authenticate header makes a request without credentials a 401, not a 403.
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["helpdesk.tickets.permissions.IsAgent"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "helpdesk.api.exception_handler",
    "TEST_REQUEST_DEFAULT_FORMAT": "json",
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Support desk API",
    "DESCRIPTION": "Agent API (session or token auth) and shop sync API (shop key).",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "COMPONENT_SPLIT_REQUEST": True,
    # Several models have a "status"; name each choice set after its class.
    "ENUM_NAME_OVERRIDES": {
        "TicketStatusEnum": "helpdesk.tickets.models.TicketStatus",
        "AgentStatusEnum": "helpdesk.tickets.models.AgentStatus",
        "OrderStatusEnum": "helpdesk.customers.models.OrderStatus",
        "ShippingStatusEnum": "helpdesk.customers.models.ShippingStatus",
        "SentimentLabelEnum": "helpdesk.tickets.models.SentimentLabel",
    },
}

# Shop sync accepts at most this many records (customers + orders) per request.
SHOP_SYNC_MAX_RECORDS = env_int("SHOP_SYNC_MAX_RECORDS", 1000, minimum=1)
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("DATA_UPLOAD_MAX_MEMORY_SIZE", 10 * 1024 * 1024, minimum=1024)

# Live chat (docs/protocol.md). Shop pages allowed to embed the widget, as
# origins: "https://shop.example.com".
WIDGET_ALLOWED_ORIGINS = env_list("WIDGET_ALLOWED_ORIGINS", [])
WIDGET_CONNECT_TOKEN_SECONDS = env_int("WIDGET_CONNECT_TOKEN_SECONDS", 300, minimum=10)
WIDGET_SESSION_RATE_PER_MINUTE = env_int("WIDGET_SESSION_RATE_PER_MINUTE", 60, minimum=1)
CHAT_MAX_FRAME_BYTES = env_int("CHAT_MAX_FRAME_BYTES", 64 * 1024, minimum=1024)
CHAT_MAX_MESSAGE_CHARS = env_int("CHAT_MAX_MESSAGE_CHARS", 5000, minimum=1)
CHAT_RATE_LIMIT_PER_MINUTE = env_int("CHAT_RATE_LIMIT_PER_MINUTE", 30, minimum=1)
# Daphne drops a websocket holding more than this unread by its client (chat.transport).
CHAT_MAX_OUTBOUND_BYTES = env_int("CHAT_MAX_OUTBOUND_BYTES", 1024 * 1024, minimum=64 * 1024)
# Business hours in the desk's TIME_ZONE, e.g. "mon-fri 09:00-18:00; sat 10:00-14:00".
BUSINESS_HOURS = env_str("BUSINESS_HOURS", "mon-sun 00:00-24:00")
try:
    hours_parse(BUSINESS_HOURS)
except ValueError as error:
    raise ImproperlyConfigured(f"BUSINESS_HOURS: {error}") from None
# An agent counts as online while their desk tab has been heard from this recently.
AGENT_ONLINE_SECONDS = env_int("AGENT_ONLINE_SECONDS", 90, minimum=10)
# The inbox's "At SLA risk" queue: tickets whose SLA clock is due within this many minutes.
SLA_AT_RISK_MINUTES = env_int("SLA_AT_RISK_MINUTES", 5, minimum=1)
# An agent marked online but not heard from for this long (every desk tab closed
# or cut off) is set offline and their open chats go back to the queue.
AGENT_OFFLINE_GRACE_SECONDS = env_int(
    "AGENT_OFFLINE_GRACE_SECONDS", max(120, AGENT_ONLINE_SECONDS), minimum=AGENT_ONLINE_SECONDS
)
# Shown to customers while agents are online until there are enough first responses to measure.
CHAT_DEFAULT_REPLY_SECONDS = env_int("CHAT_DEFAULT_REPLY_SECONDS", 120, minimum=1)
# Attachments (docs/configuration.md). Files live under MEDIA_ROOT and are
# served only through the desk's download view, never straight from disk.
MEDIA_ROOT = Path(env_str("MEDIA_ROOT", str(BASE_DIR / "media")))
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 10 * 1024 * 1024, minimum=1)
ATTACHMENTS_PER_MESSAGE = env_int("ATTACHMENTS_PER_MESSAGE", 5, minimum=1, maximum=50)
# How long a download link in a customer's chat works; the widget gets fresh ones on every sync.
ATTACHMENT_LINK_SECONDS = env_int("ATTACHMENT_LINK_SECONDS", 24 * 3600, minimum=60)
# /demo/shop/: a pretend shop page with the widget, for trying the desk locally.
DEMO_SHOP_PAGE = env_bool("DEMO_SHOP_PAGE", DEBUG)

# Surveys (docs/surveys.md). No customer is surveyed more than once in SURVEY_COOLDOWN_DAYS;
# an emailed link works once, for SURVEY_TOKEN_DAYS.
SURVEY_COOLDOWN_DAYS = env_int("SURVEY_COOLDOWN_DAYS", 30, minimum=0)
SURVEY_TOKEN_DAYS = env_int("SURVEY_TOKEN_DAYS", 7, minimum=1, maximum=365)
# Where customers reach the desk: the start of emailed survey links.
SURVEY_BASE_URL = env_str("SURVEY_BASE_URL", "http://127.0.0.1:8000")
# Sent to (and shown to) customers who answer 3-5 or 7-10; empty: no thanks.
SURVEY_THANKS_MESSAGE = env_str("SURVEY_THANKS_MESSAGE", "")
SURVEY_WEBHOOK_URLS = env_list("SURVEY_WEBHOOK_URLS", [])
SURVEY_WEBHOOK_SECRET = env_str("SURVEY_WEBHOOK_SECRET", "")
if SURVEY_WEBHOOK_URLS and not SURVEY_WEBHOOK_SECRET:
    raise ImproperlyConfigured("SURVEY_WEBHOOK_SECRET must be set when SURVEY_WEBHOOK_URLS is")
SURVEY_WEBHOOK_MAX_ATTEMPTS = env_int("SURVEY_WEBHOOK_MAX_ATTEMPTS", 6, minimum=1, maximum=20)
SURVEY_WEBHOOK_RETRY_SECONDS = env_int("SURVEY_WEBHOOK_RETRY_SECONDS", 30, minimum=1)
# Requests a minute to the public survey endpoints, per client IP and per survey.
SURVEY_RATE_LIMIT_PER_IP = env_int("SURVEY_RATE_LIMIT_PER_IP", 30, minimum=1)
SURVEY_RATE_LIMIT_PER_SURVEY = env_int("SURVEY_RATE_LIMIT_PER_SURVEY", 10, minimum=1)
# Rate-limit counters: in Redis when REDIS_URL is set (shared by every process), else in memory.
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "ratelimit": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL, "KEY_PREFIX": "rl"}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache", "LOCATION": "ratelimit"}
    ),
}

# Sentiment tagging (docs/sentiment.md). Empty SENTIMENT_MODEL means the model shipped in sentiment/models/default/.
SENTIMENT_MODEL = env_str("SENTIMENT_MODEL", "").strip()
SENTIMENT_LABEL_MAP = env_str("SENTIMENT_LABEL_MAP", "")
try:
    parse_label_map(SENTIMENT_LABEL_MAP)
except ValueError as error:
    raise ImproperlyConfigured(f"SENTIMENT_LABEL_MAP: {error}") from None
SENTIMENT_BATCH_SIZE = env_int("SENTIMENT_BATCH_SIZE", 32, minimum=1, maximum=1024)
SENTIMENT_THREADS = env_int("SENTIMENT_THREADS", len(os.sched_getaffinity(0)), minimum=1)
SENTIMENT_MAX_LENGTH = env_int("SENTIMENT_MAX_LENGTH", 128, minimum=8, maximum=512)
# A tag this confident that a customer message is negative raises the ticket's priority (once).
SENTIMENT_ESCALATE_CONFIDENCE = env_float("SENTIMENT_ESCALATE_CONFIDENCE", 0.8, minimum=0.0, maximum=1.0)
# A batch a worker claimed this long ago without finishing is taken over (the worker died).
SENTIMENT_CLAIM_SECONDS = env_int("SENTIMENT_CLAIM_SECONDS", 300, minimum=10)
# The tagging worker lowers its CPU priority by this much (0: not at all), so the chat stays fast beside it.
SENTIMENT_WORKER_NICE = env_int("SENTIMENT_WORKER_NICE", 10, minimum=0, maximum=19)

EMAIL_BACKEND = env_str("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "support@localhost")

# Where agents reach the desk: the start of links in email to agents (the weekly digest).
DESK_BASE_URL = env_str("DESK_BASE_URL", SURVEY_BASE_URL)
# The weekly report email to managers, sent by the sweeper once this
# weekday (0 = Monday) and hour have passed in TIME_ZONE; it covers the 7 days before that day.
REPORTS_DIGEST_ENABLED = env_bool("REPORTS_DIGEST_ENABLED", True)
REPORTS_DIGEST_WEEKDAY = env_int("REPORTS_DIGEST_WEEKDAY", 0, minimum=0, maximum=6)
REPORTS_DIGEST_HOUR = env_int("REPORTS_DIGEST_HOUR", 7, minimum=0, maximum=23)

# Security (docs/deployment.md). Every response gets a Content-Security-Policy
# (helpdesk/security.py), nosniff, a referrer policy, COOP and X-Frame-Options.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# DJANGO_SECURE=1: the desk is reached only over HTTPS, through a proxy that
# terminates TLS and says so in X-Forwarded-Proto (deploy/nginx.conf). Each part
# below follows it and may be set on its own.
SECURE = env_bool("DJANGO_SECURE", False)
if env_bool("DJANGO_TRUST_X_FORWARDED_PROTO", SECURE):
    # Only safe when the proxy overwrites the header the client sent.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", SECURE)
# Probes reach daphne directly, without the proxy's header.
SECURE_REDIRECT_EXEMPT = [r"^healthz$"]
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 365 * 24 * 3600 if SECURE else 0, minimum=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", SECURE)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", SECURE)
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", SECURE)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
if SECURE and (len(SECRET_KEY) < 50 or len(set(SECRET_KEY)) < 5 or SECRET_KEY.startswith("django-insecure-")):
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY must be at least 50 random characters when DJANGO_SECURE is on "
        "(python -c 'import secrets; print(secrets.token_urlsafe(50))')"
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env_str("LOG_LEVEL", "INFO")},
}
