from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "helpdesk.tickets"
    label = "tickets"
    verbose_name = "Support: tickets, teams and agents"

    def ready(self) -> None:
        # Registers the task workers' signal receivers (held task locks).
        from helpdesk.tickets import task_recovery  # noqa: F401
