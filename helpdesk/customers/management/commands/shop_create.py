"""`manage.py shop_create SLUG NAME`: register a shop and print its API key once."""

from __future__ import annotations

import re
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from helpdesk.customers.models import Shop
from helpdesk.customers.services import shop_create


class Command(BaseCommand):
    help = "Create a shop and print its sync API key. The key is stored hashed and shown only this once."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("slug", metavar="SLUG", help="Short name used in URLs and commands, e.g. acme.")
        parser.add_argument("name", metavar="NAME", help="Display name, e.g. 'Acme Outdoor'.")
        parser.add_argument("--currency", default="EUR", help="ISO 4217 code of the shop's prices (default EUR).")

    def handle(self, *args: Any, slug: str, name: str, currency: str, **options: Any) -> None:
        currency = currency.upper()
        if not re.fullmatch(r"[A-Z]{3}", currency):
            raise CommandError(f"{currency!r} is not a three-letter currency code.")
        try:
            # Slug format, lengths and a taken slug; the key fields are filled by shop_create.
            Shop(slug=slug, name=name.strip(), currency=currency).full_clean(
                exclude=["api_key_digest", "api_key_prefix"]
            )
        except ValidationError as error:
            problems = " ".join(f"{field}: {' '.join(msgs)}" for field, msgs in error.message_dict.items())
            raise CommandError(problems) from None
        shop, raw_key = shop_create(slug=slug, name=name.strip(), currency=currency)
        self.stdout.write(self.style.SUCCESS(f"Created shop {shop.slug} ({shop.name}, {shop.currency})."))
        self.stdout.write("API key, shown only now; store it in the shop's settings:")
        self.stdout.write(raw_key)
        self.stdout.write("Widget secret, to sign logged-in customers for the chat (also on the shop's admin page):")
        self.stdout.write(shop.widget_secret)
