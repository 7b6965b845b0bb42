"""`manage.py seed_demo`: load the demo desk once and print how to log in."""

from __future__ import annotations

import time
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from helpdesk.demo.seed import DEMO_API_KEY, DEMO_PASSWORD, DEMO_SHOP_NAME, LOGINS, DemoConflict, demo_seed


class Command(BaseCommand):
    help = "Load a demo shop, teams, agents and past tickets. Running it again changes nothing."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--allow-known-passwords",
            action="store_true",
            help="Run with DEBUG off. The demo users' passwords are published: never on a reachable server.",
        )

    def handle(self, *args: Any, allow_known_passwords: bool, **options: Any) -> None:
        if not settings.DEBUG and not allow_known_passwords:
            raise CommandError(
                "seed_demo creates a superuser and a shop API key that are published in the docs. "
                "Run it with DJANGO_DEBUG=1, or pass --allow-known-passwords on a machine only you can reach."
            )
        started = time.monotonic()
        try:
            summary = demo_seed(now=timezone.now())
        except DemoConflict as conflict:
            raise CommandError(str(conflict)) from None
        if summary.created:
            self.stdout.write(
                self.style.SUCCESS(
                    f"Loaded {DEMO_SHOP_NAME} in {time.monotonic() - started:.1f} s: {summary.customers} customers, "
                    f"{summary.orders} orders, {summary.tickets} tickets ({summary.unsolved} not solved yet)."
                )
            )
        else:
            self.stdout.write(
                f"Demo shop already loaded ({summary.customers} customers, {summary.orders} orders, "
                f"{summary.tickets} tickets); nothing changed."
            )
        self.stdout.write(f"Shop API key for the sync API: {DEMO_API_KEY}")
        self.stdout.write(f"Log in at /admin/login/ with password {DEMO_PASSWORD} as:")
        for login in LOGINS:
            teams = ", ".join(login.teams) or "all teams"
            extra = ", superuser" if login.is_superuser else ""
            self.stdout.write(f"  {login.username:<8} {login.role.label.lower()} ({teams}){extra}")
