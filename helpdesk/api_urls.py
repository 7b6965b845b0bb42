"""Routes of /api/v1/."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from helpdesk.customers.api import CustomerViewSet, ShopSyncView
from helpdesk.reports.api import ReportTicketsView, ReportView
from helpdesk.tickets.api import AgentListView, AgentTokenView, TeamListView, TicketViewSet

router = SimpleRouter()
router.register("tickets", TicketViewSet, basename="ticket")
router.register("customers", CustomerViewSet, basename="customer")

urlpatterns = [
    path("auth/token/", AgentTokenView.as_view(), name="api-token"),
    path("teams/", TeamListView.as_view(), name="team-list"),
    path("agents/", AgentListView.as_view(), name="agent-list"),
    path("shop/sync/", ShopSyncView.as_view(), name="shop-sync"),
    path("reports/tickets/", ReportTicketsView.as_view(), name="report-tickets"),
    path("reports/<slug:name>/", ReportView.as_view(), name="report"),
    *router.urls,
]
