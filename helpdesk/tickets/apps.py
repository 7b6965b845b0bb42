from django.apps import AppConfig


class TicketsConfig(AppConfig):
    name = "helpdesk.tickets"
    label = "tickets"
    verbose_name = "Support: tickets, teams and agents"
