"""Thin overlay for the test suite: the same settings, with fast hashing and
mail kept in memory. The database and Redis still come from the environment."""

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "test-only-secret-key")

from helpdesk.settings import *  # noqa: F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Browser tests run daphne on the test database without collectstatic.
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# Consumers run ORM calls on pool threads; without persistent connections none
# outlives its call, so the test database can be flushed and dropped.
DATABASES["default"]["CONN_MAX_AGE"] = 0  # noqa: F405
