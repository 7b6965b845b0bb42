from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "helpdesk.reports"
    label = "reports"
    verbose_name = "Reports"

    def ready(self) -> None:
        from django.db.backends.signals import connection_created

        from helpdesk.reports.aggregates import sqlite_register

        # SQLite has no percentile_cont; the reports' queries need one (see aggregates).
        connection_created.connect(sqlite_register, dispatch_uid="reports.sqlite_percentile")
