from django.apps import AppConfig


class ChatConfig(AppConfig):
    name = "chat"
    verbose_name = "Live chat"

    def ready(self) -> None:
        from chat import sessions

        # Desk sockets close when their sign-in ends (chat.sessions).
        sessions.connect_signals()
