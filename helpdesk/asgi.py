"""ASGI entry point: HTTP through Django, websockets through chat.routing."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "helpdesk.settings")
# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from chat import transport  # noqa: E402
from chat.routing import websocket_urlpatterns  # noqa: E402

# Daphne drops a socket whose client stops reading (CHAT_MAX_OUTBOUND_BYTES).
transport.limit_daphne_buffers()

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        # Origin checks and sign-in are per route (chat.routing): the widget is
        # embedded in shop sites, the agent desk is not.
        "websocket": URLRouter(websocket_urlpatterns),
    }
)
