import time

from django.core.management.base import BaseCommand, CommandError

from syncing.models import Connection, SyncRun
from syncing.streams import stream_queue, streams_of

POLL_SECONDS = 1.0


def _describe(run: SyncRun) -> str:
    return (
        f"run {run.pk} {run.stream}: {run.status}, created {run.created}, updated "
        f"{run.updated}, unchanged {run.unchanged}, failed {run.failed}, "
        f"{run.upstream_calls} upstream calls"
    )


class Command(BaseCommand):
    help = (
        "Queue a run of one stream (or of every stream) of a connection for the workers and "
        "print the run ids. With --wait, print the counts as they grow until the runs end; the "
        "exit status is 1 when a run failed or was skipped (partial runs exit 0)."
    )

    def add_arguments(self, parser):
        parser.add_argument("connection", type=int, help="The connection's id.")
        parser.add_argument("--stream", help="One stream; default: all of the connection's.")
        parser.add_argument("--full-refresh", action="store_true")
        parser.add_argument("--wait", action="store_true", help="Wait for the runs to end.")

    def handle(self, *args, connection: int, stream, full_refresh, wait, **options):
        found = Connection.objects.filter(pk=connection).first()
        if found is None:
            raise CommandError(f"No connection with id {connection}.")
        names = sorted(streams_of(found.provider))
        if stream is not None and stream not in names:
            raise CommandError(f"{found} has no stream {stream!r} (streams: {', '.join(names)}).")
        if not found.enabled:
            raise CommandError(f"{found} is disabled.")
        runs = [
            stream_queue(connection=found, stream=name, full_refresh=full_refresh)
            for name in ([stream] if stream else names)
        ]
        for run in runs:
            self.stdout.write(f"queued run {run.pk} of {run.stream}")
        if wait:
            self._wait([run.pk for run in runs])

    def _wait(self, run_ids: list[int]) -> None:
        seen: dict[int, str] = {}
        finished = SyncRun.Status.finished()
        while True:
            runs = list(SyncRun.objects.filter(pk__in=run_ids).order_by("pk"))
            for run in runs:
                line = _describe(run)
                if seen.get(run.pk) != line:
                    seen[run.pk] = line
                    self.stdout.write(line)
            if all(run.status in finished for run in runs):
                break
            time.sleep(POLL_SECONDS)
        failed = [
            run for run in runs if run.status in (SyncRun.Status.FAILED, SyncRun.Status.SKIPPED)
        ]
        for run in failed:
            for error in run.errors[:3]:
                self.stderr.write(f"run {run.pk}: {error.get('message')}")
        if failed:
            raise CommandError(f"{len(failed)} of {len(runs)} run(s) did not succeed.")
