"""Websocket URL routes, mounted by helpdesk.asgi. Each route has its own
origin check: the agent desk only from the desk's own hosts, the widget only
from the shop sites in WIDGET_ALLOWED_ORIGINS."""

from channels.auth import AuthMiddlewareStack
from channels.security.websocket import AllowedHostsOriginValidator
from django.urls import path

from chat.consumers import AgentConsumer, WidgetConsumer
from chat.origins import WidgetOriginValidator

websocket_urlpatterns = [
    path("ws/agent/", AllowedHostsOriginValidator(AuthMiddlewareStack(AgentConsumer.as_asgi()))),
    path("ws/widget/", WidgetOriginValidator(WidgetConsumer.as_asgi())),
]
