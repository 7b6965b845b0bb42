from django.contrib.auth.views import LogoutView
from django.urls import path

from frontend import views

urlpatterns = [
    path("", views.home, name="home"),
    path("inbox/", views.inbox, name="inbox"),
    # POST only (Django's LogoutView); the agent's open desk sockets close too (chat/sessions.py).
    path("sign-out/", LogoutView.as_view(next_page="inbox"), name="sign-out"),
    path("inbox/rows/", views.inbox_rows, name="inbox-rows"),
    # The old address of the list; redirects to the inbox, query string kept.
    path("desk/", views.desk_ticket_list, name="desk-tickets"),
    path("desk/tickets/<int:ticket_id>/", views.desk_ticket_detail, name="desk-ticket"),
    path("desk/tickets/<int:ticket_id>/events/", views.desk_ticket_events, name="desk-ticket-events"),
    path("desk/tickets/<int:ticket_id>/context/", views.desk_ticket_context, name="desk-ticket-context"),
    path("desk/tickets/<int:ticket_id>/thread/", views.desk_ticket_thread, name="desk-ticket-thread"),
    path("reports/", views.reports, name="reports"),
    path("demo/shop/", views.demo_shop, name="demo-shop"),
]
