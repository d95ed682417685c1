import contextlib
import signal
import threading

from django.core.management.base import BaseCommand

from demo.sandbox import sandbox_start
from workspaces.models import Workspace


class Command(BaseCommand):
    help = (
        "Serve the demo sandbox (a fake rooms platform on a free loopback port) and point the "
        "demo workspace's sandbox connection at it, until stopped (Ctrl-C or SIGTERM)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--workspace", default="demo", help="The workspace's slug.")

    def handle(self, *args, workspace: str, **options):
        fake, connection = sandbox_start(workspace=Workspace.objects.get(slug=workspace))
        self.stdout.write(
            f"Demo sandbox: {fake.url} (connection {connection.pk}, '{connection.name}'); "
            f"press Sync now on it in the admin"
        )
        stop = threading.Event()
        signal.signal(signal.SIGTERM, lambda *_: stop.set())
        with contextlib.suppress(KeyboardInterrupt):
            stop.wait()
        fake.stop()
