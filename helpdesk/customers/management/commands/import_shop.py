"""`manage.py import_shop FILE --shop SLUG`: load a shop's customers and orders
from a JSON file shaped like a shop sync batch (docs/shop-sync.md)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from helpdesk.customers.models import Shop
from helpdesk.customers.services import SyncCounts, SyncRejected, shop_import


def error_lines(errors: Any, path: str = "") -> Iterator[str]:
    """Flatten nested serializer errors into ``orders[3].items[0].quantity: message`` lines."""
    if isinstance(errors, dict):
        for key, value in errors.items():
            key = str(key)
            yield from error_lines(value, f"{path}[{key}]" if key.isdigit() else f"{path}.{key}" if path else key)
    elif isinstance(errors, list) and all(isinstance(e, str) for e in errors):
        for message in errors:
            yield f"{path}: {message}"
    elif isinstance(errors, list):
        for index, value in enumerate(errors):
            if value:  # a list of per-item errors has an empty entry for each good item
                yield from error_lines(value, f"{path}[{index}]")
    else:
        yield f"{path}: {errors}"


def _counts(kind: str, counts: SyncCounts) -> str:
    return f"{kind}: {counts.created} created, {counts.updated} updated, {counts.unchanged} unchanged"


class Command(BaseCommand):
    help = (
        'Load customers and orders from a JSON file {"customers": [...], "orders": [...]} into a shop. '
        "All or nothing: one bad record anywhere in the file stores nothing."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", metavar="FILE", type=Path, help="JSON file in the shop sync batch shape.")
        parser.add_argument("--shop", required=True, metavar="SLUG", help="Slug of the shop to load into.")

    def handle(self, *args: Any, path: Path, shop: str, **options: Any) -> None:
        target = Shop.objects.filter(slug=shop).first()
        if target is None:
            raise CommandError(f"No shop with slug {shop!r}. Create it first with `manage.py shop_create`.")
        try:
            payload = json.loads(path.read_text(encoding="utf-8"))
        except OSError as error:
            raise CommandError(f"Cannot read {path}: {error.strerror}") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise CommandError(f"{path} is not UTF-8 JSON: {error}") from None

        try:
            result = shop_import(shop=target, payload=payload)
        except SyncRejected as rejected:
            for line in error_lines(rejected.errors):
                self.stderr.write(line)
            raise CommandError(f"{path} was rejected; nothing was imported.") from None
        self.stdout.write(self.style.SUCCESS(f"Imported {path} into {target.slug}."))
        self.stdout.write(_counts("customers", result.customers))
        self.stdout.write(_counts("orders", result.orders))
