"""Websocket URL routes, mounted by helpdesk.asgi."""

from django.urls import URLPattern

websocket_urlpatterns: list[URLPattern] = []
