"""Full-text index over message bodies for inbox search, on PostgreSQL only.

The expression matches what helpdesk.tickets.selectors.ticket_search asks for
(``SearchVector("body", config="simple")``), so the planner can use it. Other
databases search with LIKE and need no index."""

from django.db import migrations

INDEX = "message_body_search_idx"


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON tickets_message "
            "USING gin (to_tsvector('simple'::regconfig, COALESCE(body, '')))"
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("tickets", "0002_receipts_and_agent_last_seen")]

    operations = [migrations.RunPython(create, drop)]
