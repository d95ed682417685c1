from django.core.management.base import BaseCommand

from config.formats import iso_utc
from syncing.models import SyncRun
from syncing.selectors import runs_filtered


class Command(BaseCommand):
    help = "List the latest sync runs, newest first, with their counts."

    def add_arguments(self, parser):
        parser.add_argument("--connection", type=int, help="Only this connection's runs.")
        parser.add_argument("--stream")
        parser.add_argument("--status", choices=SyncRun.Status.values)
        parser.add_argument("--limit", type=int, default=20)

    def handle(self, *args, connection, stream, status, limit, **options):
        runs = runs_filtered(
            SyncRun.objects.select_related("connection").order_by("-started_at", "-pk"),
            connection_id=connection,
            stream=stream,
            status=status,
        )
        header = (
            "id",
            "connection",
            "stream",
            "status",
            "started",
            "created",
            "updated",
            "unchanged",
            "failed",
        )
        self.stdout.write("\t".join(header))
        for run in runs[: max(limit, 1)]:
            row = (
                run.pk,
                run.connection.name,
                run.stream,
                run.status,
                iso_utc(run.started_at),
                run.created,
                run.updated,
                run.unchanged,
                run.failed,
            )
            self.stdout.write("\t".join(str(value) for value in row))
