from importlib import import_module

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class SyncingConfig(AppConfig):
    name = "syncing"

    def ready(self) -> None:
        # Outbox handlers live with the objects they deliver: each app's outbox_handlers
        # module registers its own, plus any modules named in SYNC_OUTBOX_HANDLER_MODULES.
        from syncing import conf

        autodiscover_modules("outbox_handlers")
        for module in conf.handler_modules():
            import_module(module)
