"""Trigram indexes for inbox search, on PostgreSQL only.

Search matches subjects, customer names and emails and order numbers by
substring (ILIKE '%term%'); a pg_trgm GIN index answers that without reading
every row. Creating the extension needs a role allowed to (the database owner
on PostgreSQL 13+ for this trusted extension); without it the indexes are
skipped and search still works, only slower on large desks."""

from django.db import migrations, transaction

INDEXES = {
    "ticket_subject_trgm_idx": ("tickets_ticket", "subject"),
    "customer_name_trgm_idx": ("customers_customer", "name"),
    "customer_email_trgm_idx": ("customers_customer", "email"),
    "order_number_trgm_idx": ("customers_order", "number"),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    try:
        with transaction.atomic(using=schema_editor.connection.alias):
            schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except Exception as error:  # noqa: BLE001 - any refusal leaves search working without the indexes
        print(f"\n  pg_trgm unavailable ({error}); search runs without trigram indexes.")
        return
    for name, (table, column) in INDEXES.items():
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({column} gin_trgm_ops)")


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("tickets", "0005_tags_reads_attachments_merge"),
        ("customers", "0002_widget_identity"),
    ]

    operations = [migrations.RunPython(create, drop)]
