from django.urls import path

from frontend import views

urlpatterns = [
    path("", views.home, name="home"),
    path("desk/", views.desk_ticket_list, name="desk-tickets"),
    path("desk/tickets/<int:ticket_id>/", views.desk_ticket_detail, name="desk-ticket"),
    path("demo/shop/", views.demo_shop, name="demo-shop"),
]
