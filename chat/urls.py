from django.urls import path

from chat import views

urlpatterns = [
    path("session", views.session, name="widget-session"),
    path("attachments", views.attachments, name="widget-attachments"),
]
