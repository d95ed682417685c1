from importlib import import_module

from django.apps import AppConfig

# The modules whose outbox handlers deliver each provider's pushes.
PUSH_MODULES = (
    "syncing.providers.rooms_platform.push",
    "syncing.providers.webinar_platform.push",
)


class SyncingConfig(AppConfig):
    name = "syncing"

    def ready(self) -> None:
        # Importing a push module registers its handlers; so does importing any module named
        # in SYNC_OUTBOX_HANDLER_MODULES.
        from syncing import conf

        for module in (*PUSH_MODULES, *conf.handler_modules()):
            import_module(module)
