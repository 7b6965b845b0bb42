"""Settings of the child processes in the fault and scale-out tests
(tests/chat/test_faults.py, test_scale_out.py): the test overlay, mail
written to files in FAULT_MAIL_DIR so the test can count what was sent, and
the test-only hooks of tests/fault_hooks.py."""

import os

from helpdesk.settings_test import *  # noqa: F403

INSTALLED_APPS = [*INSTALLED_APPS, "tests.fault_hooks.FaultHooksConfig"]  # noqa: F405
if os.environ.get("FAULT_MAIL_DIR"):
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = os.environ["FAULT_MAIL_DIR"]
