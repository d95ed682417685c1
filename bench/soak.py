"""Soak: the production shape on one machine, with faults, kills and a broker restart.

gunicorn (``--web-workers``, default 4), ``--workers`` Celery worker processes (each one
process with the solo pool: concurrency 1) and one beat, on the PostgreSQL database it is given
and a private Redis it starts on a free loopback port (so it can restart it); fake upstreams in
this process: per workspace a rooms platform and a webinar platform, and HubSpot for two of them
(10 connections at the default 4 workspaces), each answering after ``--latency`` seconds with
``--fault-rate`` transient faults (503, 429, a response lost after the change was applied).
Every stream is scheduled every minute and the outbox sweeper every 3 seconds; the processes
run with bench/soak_settings.py, which compresses the recovery waits (outbox backoff and grace,
a killed worker's claim and lock) to seconds.

With gunicorn and beat up but no worker yet, ``--writes`` room creations go through the API
(8 clients), each an outbox push to its workspace's rooms platform: a backlog, whatever the
API's pace. Then the workers start and drain it, with the scheduled streams running beside;
when a third of the messages are sent one worker is SIGKILLed and started again, at two thirds
Redis is restarted (its queued tasks are lost: the sweeper must find the messages). Once the
outbox has drained, every stream is run once more through the sync API (a stream whose run
failed through its retries again, as its schedule would, at most 3 runs in all).

It checks, and exits non-zero unless all hold: no API answer 5xx; every created room upstream
exactly once and holding its upstream id; every upstream room local exactly once; no outbox
message failed, pending or sending; the last run of every stream succeeded. It prints, for each
``--workers`` given, API requests/s over the writes (first request to last answer, no worker
started), and messages/s and upstream calls/s over the drain window: from the moment the
first worker is ready to the last message's ``sent_at`` (the database's stamp), so it measures
the workers draining a backlog, kill and Redis restart included; then the ratios of the last
worker count's figures to the first's.

    createdb -h 127.0.0.1 -U postgres fs_soak
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/fs_soak \\
        CELERY_BROKER_URL=redis://127.0.0.1:6379/6 \\
        .venv/bin/python bench/soak.py --writes 2000 --workers 1 3

The suite runs a small version (tests/bench/test_soak.py) against the test database.
"""

from __future__ import annotations

import argparse
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.setdefault("DEBUG", "true")
# The fake upstreams listen on loopback, which syncing.urlguard refuses unless allowed.
os.environ.setdefault("SYNC_UPSTREAM_ALLOWED_NETWORKS", "127.0.0.1/32")

import django  # noqa: E402

django.setup()

import redis  # noqa: E402
import requests  # noqa: E402
from django.conf import settings  # noqa: E402
from django.db.models import Max  # noqa: E402
from django.utils import timezone  # noqa: E402
from django_celery_beat.models import IntervalSchedule, PeriodicTask  # noqa: E402

from rooms.models import Room  # noqa: E402
from syncing.models import Connection, OutboxMessage, SyncRun  # noqa: E402
from syncing.outbox import BROKER_MARKER  # noqa: E402
from syncing.services import connection_create, connection_delete  # noqa: E402
from tests.syncing.fakes.hubspot import FakeHubSpot  # noqa: E402
from tests.syncing.fakes.rooms_platform import FakeRoomsPlatform  # noqa: E402
from tests.syncing.fakes.webinar_platform import FakeWebinarPlatform  # noqa: E402
from workspaces.models import Workspace  # noqa: E402
from workspaces.services import api_key_create  # noqa: E402

VENV = ROOT / ".venv" / "bin"
LOGS = ROOT / "data" / "soak"
FAULTS = ("503", "429", "lost")
CLIENTS = 8


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_for(predicate, *, timeout: float, what: str, interval: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = predicate()
        if result:
            return result
        time.sleep(interval)
    raise SystemExit(f"soak: timed out after {timeout:.0f} s waiting for {what}")


class Redis:
    """A private redis-server, restartable on its port (nothing persisted)."""

    def __init__(self):
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                "redis-server",
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
            ],
            stdout=subprocess.DEVNULL,
        )
        wait_for(self._answers, timeout=20, what="redis to start")

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def _answers(self) -> bool:
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=0.5) as s:
                s.sendall(b"PING\r\n")
                return s.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()

    def restart(self) -> None:
        self.stop()
        self.start()


@dataclass
class Stack:
    """gunicorn, the Celery workers and beat, as separate processes."""

    database_url: str
    redis: Redis
    workers: int
    web_workers: int
    port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen] = field(default_factory=dict)

    def env(self) -> dict[str, str]:
        broker = self.redis.url
        keys = settings.FIELD_ENCRYPTION_KEY
        return {
            **os.environ,
            "DEBUG": "false",
            "DJANGO_SETTINGS_MODULE": "bench.soak_settings",
            "PYTHONPATH": str(ROOT),
            "DATABASE_URL": self.database_url,
            "CELERY_BROKER_URL": broker,
            "SYNC_REDIS_URL": broker,
            "CACHE_URL": f"redis://127.0.0.1:{self.redis.port}/1",
            "SECRET_KEY": settings.SECRET_KEY,
            "FIELD_ENCRYPTION_KEY": keys if isinstance(keys, str) else ",".join(keys),
            "ALLOWED_HOSTS": "127.0.0.1",
            "API_THROTTLE_RATE": "1000000/min",
            "LOG_LEVEL": "WARNING",
        }

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def _spawn(self, name: str, argv: list[str]) -> None:
        """Each process logs to data/soak/<name>.log (appended across restarts)."""
        LOGS.mkdir(parents=True, exist_ok=True)
        with open(LOGS / f"{name}.log", "a") as log:
            self.processes[name] = subprocess.Popen(
                argv, cwd=ROOT, env=self.env(), stdout=log, stderr=subprocess.STDOUT
            )

    def start_workers(self) -> None:
        for index in range(self.workers):
            self.start_worker(index)

    def start_worker(self, index: int) -> None:
        self._spawn(
            f"worker-{index}",
            [
                str(VENV / "celery"),
                "-A",
                "config",
                "worker",
                "--pool",
                "solo",
                "-n",
                f"soak{index}@%h",
                "--loglevel",
                "INFO",
                "--without-mingle",
                "--without-gossip",
            ],
        )

    def start(self, *, workers: bool = True) -> None:
        self._spawn(
            "web",
            [
                str(VENV / "gunicorn"),
                "config.wsgi",
                "-w",
                str(self.web_workers),
                "-b",
                f"127.0.0.1:{self.port}",
            ],
        )
        if workers:
            self.start_workers()
        self._spawn(
            "beat",
            [str(VENV / "celery"), "-A", "config", "beat", "-s", str(LOGS / "beat-schedule")],
        )
        wait_for(self._web_answers, timeout=180, what="gunicorn to answer")

    def _web_answers(self) -> bool:
        try:
            return requests.get(f"{self.url}/healthz", timeout=30).status_code < 600
        except requests.RequestException:
            return False

    def workers_ready(self) -> int:
        """How many worker start-ups have finished (each logs "ready"), restarts included."""
        return sum(
            (LOGS / f"worker-{index}.log").read_text().count(" ready.")
            for index in range(self.workers)
            if (LOGS / f"worker-{index}.log").exists()
        )

    def kill_worker(self, index: int) -> None:
        process = self.processes[f"worker-{index}"]
        process.send_signal(signal.SIGKILL)
        process.wait()

    def stop(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                process.terminate()
        for process in self.processes.values():
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


@dataclass
class Tenant:
    workspace: Workspace
    key: str
    rooms: FakeRoomsPlatform
    fakes: list


def tenants_create(count: int, *, label: str, latency: float, fault_rate: float) -> list:
    every_minute, _ = IntervalSchedule.objects.get_or_create(every=1, period="minutes")
    tenants = []
    for index in range(count):
        workspace = Workspace.objects.create(
            name=f"Soak {label} {index}", slug=f"soak-{label}-{index}"
        )
        rooms, webinars = FakeRoomsPlatform(seed=index).start(), FakeWebinarPlatform().start()
        rooms.populate(20)
        for room in rooms.rooms.values():  # no links to deals that no CRM fake holds
            room.update(hsDealId=None, sfOpportunityId=None, attioDealId=None)
        session = webinars.add_session(period="past")
        for n in range(30):
            webinars.add_registrant(session["token"], email=f"person{n}@buyer.example")
        fakes = [
            (Connection.Provider.ROOMS_PLATFORM, rooms),
            (Connection.Provider.WEBINAR_PLATFORM, webinars),
        ]
        if index < 2:
            hubspot = FakeHubSpot().start()
            for _ in range(50):
                hubspot.add_deal()
            fakes.append((Connection.Provider.HUBSPOT, hubspot))
        for provider, fake in fakes:
            secret = (
                {"access_token": fake.api_key}
                if provider == "hubspot"
                else {"api_key": fake.api_key}
            )
            connection_create(
                workspace=workspace,
                provider=provider,
                name=f"{provider} {index}",
                base_url=fake.url,
                credentials=secret,
                options={"requests_per_second": 1000, "burst": 1000},
            )
            fake.delay = latency
            fake.fault_rate = fault_rate
            fake.fault_kinds = FAULTS
            fake.retry_after = 0
        connections = Connection.objects.filter(workspace=workspace)
        names = [f"sync:{pk}:" for pk in connections.values_list("pk", flat=True)]
        for prefix in names:
            PeriodicTask.objects.filter(name__startswith=prefix).update(
                interval=every_minute, crontab=None
            )
        key = api_key_create(workspace=workspace, name="soak").plaintext
        tenants.append(Tenant(workspace, key, rooms, [fake for _, fake in fakes]))
    return tenants


def sweeper_every_three_seconds() -> None:
    """The outbox sweeper's schedule (made by syncing/0002, every minute), compressed like the
    other recovery waits. Made again when it is missing: a test database flushed by earlier
    tests no longer has the migration's rows."""
    every, _ = IntervalSchedule.objects.get_or_create(every=3, period="seconds")
    PeriodicTask.objects.update_or_create(
        name="syncing: sweep outbox",
        defaults={
            "task": "syncing.sweep_outbox",
            "interval": every,
            "crontab": None,
            "enabled": True,
        },
    )


@dataclass
class Load:
    statuses: list = field(default_factory=list)
    seconds: float = 0.0


def create_rooms(stack: Stack, tenants: list, writes: int) -> Load:
    """``writes`` POST /api/v2/rooms spread over the tenants by ``CLIENTS`` threads."""
    load = Load()
    sessions = [requests.Session() for _ in range(CLIENTS)]

    def create(n: int) -> int:
        tenant = tenants[n % len(tenants)]
        session = sessions[n % CLIENTS]
        response = session.post(
            f"{stack.url}/api/v2/rooms",
            json={"title": f"Soak room {n}"},
            headers={"x-flowla-api-key": tenant.key},
            timeout=60,
        )
        return response.status_code

    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        load.statuses = list(pool.map(create, range(writes)))
    load.seconds = time.perf_counter() - started
    return load


def drain(stack: Stack, redis_server: Redis, workspaces, writes: int, timeout: float) -> None:
    """Wait until no message is pending or sending; SIGKILL worker 0 (and start it again) once
    a third are sent, restart Redis at two thirds."""
    messages = OutboxMessage.objects.filter(workspace__in=workspaces)
    chaos = [
        (writes // 3, lambda: (stack.kill_worker(0), stack.start_worker(0))),
        (2 * writes // 3, redis_server.restart),
    ]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        sent = messages.filter(status=OutboxMessage.Status.SENT).count()
        while chaos and sent >= chaos[0][0]:
            chaos.pop(0)[1]()
        if not messages.filter(
            status__in=[OutboxMessage.Status.PENDING, OutboxMessage.Status.SENDING]
        ).exists():
            return
        time.sleep(0.25)
    raise SystemExit(f"soak: timed out after {timeout:.0f} s waiting for the outbox to drain")


def broker_seen(redis_server: Redis) -> None:
    """Leave the marker a sweep leaves in the broker, as the sweeper running long before the
    load would have: the first sweep must not take the fresh Redis for one that lost its
    tasks."""
    redis.Redis(port=redis_server.port).set(BROKER_MARKER, "1")


FINAL_ROUNDS = 3


def bearer(key: str) -> dict:
    return {"Authorization": f"Bearer {key}"}


def sync_everything(stack: Stack, tenants: list, timeout: float) -> tuple[list[dict], int]:
    """Every stream of every connection once more, started and followed through the sync API,
    and a stream whose run failed started again (as its schedule would), at most
    ``FINAL_ROUNDS`` runs in all: with 20 % faults, a run of thousands of calls now and then
    meets one call failing through all its retries. The last run of each stream, and how many
    were started again."""
    streams = []
    for tenant in tenants:
        for connection in requests.get(
            f"{stack.url}/api/sync/connections", headers=bearer(tenant.key), timeout=30
        ).json():
            streams += [(tenant.key, connection["id"], stream) for stream in connection["streams"]]
    final, again = {}, 0
    for _ in range(FINAL_ROUNDS):
        runs = _run_and_follow(stack, streams, timeout)
        final.update(runs)
        streams = [key for key, run in runs.items() if run["status"] != SyncRun.Status.SUCCEEDED]
        if not streams:
            break
        again += len(streams)
    return list(final.values()), again


def _run_and_follow(stack: Stack, streams: list, timeout: float) -> dict:
    started = {}
    for key, connection_id, stream in streams:
        answer = requests.post(
            f"{stack.url}/api/sync/connections/{connection_id}/runs",
            json={"stream": stream},
            headers=bearer(key),
            timeout=30,
        )
        started[(key, connection_id, stream)] = answer.json()["id"]

    def finished() -> dict | None:
        runs = {
            stream: requests.get(
                f"{stack.url}/api/sync/runs/{run_id}", headers=bearer(stream[0]), timeout=30
            ).json()
            for stream, run_id in started.items()
        }
        done = all(run["status"] not in ("queued", "running") for run in runs.values())
        return runs if done else None

    return wait_for(finished, timeout=timeout, what="the final runs", interval=2)


def problems_found(tenants: list, load: Load, final_runs: list[dict]) -> list[str]:
    problems = []
    server_errors = [status for status in load.statuses if status >= 500]
    if server_errors:
        problems.append(f"{len(server_errors)} API answers were 5xx")
    if any(status != 201 for status in load.statuses):
        problems.append(f"answers other than 201: {sorted(set(load.statuses))}")
    for tenant in tenants:
        created = Room.objects.filter(workspace=tenant.workspace, title__startswith="Soak room")
        upstream_titles = [room["title"] for room in tenant.rooms.rooms.values()]
        for title, upstream_id in created.values_list("title", "upstream_id"):
            if upstream_titles.count(title) != 1:
                problems.append(f"{title!r} is upstream {upstream_titles.count(title)} times")
            if not upstream_id:
                problems.append(f"{title!r} has no upstream id")
        local_ids = list(
            Room.objects.filter(workspace=tenant.workspace)
            .exclude(upstream_id="")
            .values_list("upstream_id", flat=True)
        )
        for upstream_id in tenant.rooms.rooms:
            if local_ids.count(upstream_id) != 1:
                problems.append(
                    f"upstream room {upstream_id} is local {local_ids.count(upstream_id)} times"
                )
    stuck = OutboxMessage.objects.filter(workspace__in=[t.workspace for t in tenants]).exclude(
        status=OutboxMessage.Status.SENT
    )
    if stuck.exists():
        problems.append(
            f"{stuck.count()} outbox messages not sent: "
            f"{sorted(set(stuck.values_list('status', flat=True)))}"
        )
    for run in final_runs:
        if run["status"] != SyncRun.Status.SUCCEEDED:
            problems.append(
                f"run {run['id']} of {run['stream']} ended {run['status']}: {run['errors'][:1]}"
            )
    return problems


@dataclass
class Figures:
    workers: int
    api_per_second: float
    window_seconds: float
    messages_per_second: float
    calls_per_second: float
    runs_in_window: int
    final_reruns: int
    problems: list


def soak(
    *,
    database_url: str,
    writes: int,
    workers: int,
    tenants_count: int = 4,
    web_workers: int = 4,
    latency: float = 0.05,
    fault_rate: float = 0.2,
    timeout: float = 900,
) -> Figures:
    """One soak on fresh workspaces; the fakes and processes are stopped afterwards."""
    redis_server = Redis()
    redis_server.start()
    label = f"{workers}w{os.getpid()}"
    tenants = tenants_create(tenants_count, label=label, latency=latency, fault_rate=fault_rate)
    sweeper_every_three_seconds()
    stack = Stack(
        database_url=database_url, redis=redis_server, workers=workers, web_workers=web_workers
    )
    workspaces = [tenant.workspace for tenant in tenants]
    fakes = [fake for tenant in tenants for fake in tenant.fakes]
    try:
        broker_seen(redis_server)
        stack.start(workers=False)
        load = create_rooms(stack, tenants, writes)
        calls_before = sum(len(fake.requests) for fake in fakes)
        ready_before = stack.workers_ready()
        stack.start_workers()
        wait_for(
            lambda: stack.workers_ready() > ready_before,
            timeout=180,
            what="a worker to start",
            interval=0.1,
        )
        drain_started = timezone.now()
        drain(stack, redis_server, workspaces, writes, timeout)
        calls = sum(len(fake.requests) for fake in fakes) - calls_before
        last_sent = OutboxMessage.objects.filter(workspace__in=workspaces).aggregate(
            last=Max("sent_at")
        )["last"]
        window = (last_sent - drain_started).total_seconds()
        runs_in_window = SyncRun.objects.filter(
            workspace__in=workspaces, finished_at__range=(drain_started, last_sent)
        ).count()
        final_runs, final_reruns = sync_everything(stack, tenants, timeout)
        return Figures(
            workers=workers,
            api_per_second=writes / load.seconds,
            window_seconds=window,
            messages_per_second=writes / window,
            calls_per_second=calls / window,
            runs_in_window=runs_in_window,
            final_reruns=final_reruns,
            problems=problems_found(tenants, load, final_runs),
        )
    finally:
        stack.stop()
        redis_server.stop()
        for tenant in tenants:
            for fake in tenant.fakes:
                fake.stop()
            for connection in Connection.objects.filter(workspace=tenant.workspace):
                connection_delete(connection=connection)  # and its schedules
            tenant.workspace.delete()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--writes", type=int, default=2000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 3])
    parser.add_argument("--latency", type=float, default=0.05)
    parser.add_argument("--fault-rate", type=float, default=0.2)
    args = parser.parse_args()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    database_url = os.environ["DATABASE_URL"]
    load_before = os.getloadavg()[0]
    results = [
        soak(
            database_url=database_url,
            writes=args.writes,
            workers=workers,
            latency=args.latency,
            fault_rate=args.fault_rate,
        )
        for workers in args.workers
    ]
    print(
        f"{args.writes} room creations, {args.latency * 1000:.0f} ms latency, "
        f"{args.fault_rate:.0%} faults, one worker SIGKILLed and Redis restarted; load average "
        f"{load_before:.1f} before, {os.getloadavg()[0]:.1f} after"
    )
    print(
        f"{'workers':>8} | {'API req/s':>10} | {'drain window s':>15} | {'messages/s':>10} | "
        f"{'upstream calls/s':>16} | {'runs in window':>14} | {'final runs again':>16}"
    )
    for figures in results:
        print(
            f"{figures.workers:>8} | {figures.api_per_second:10.1f} | "
            f"{figures.window_seconds:15.1f} | {figures.messages_per_second:10.1f} | "
            f"{figures.calls_per_second:16.1f} | {figures.runs_in_window:14} | "
            f"{figures.final_reruns:16}"
        )
    first, last = results[0], results[-1]
    print(
        f"{last.workers} workers to {first.workers}: messages/s "
        f"{last.messages_per_second / first.messages_per_second:.2f}, upstream calls/s "
        f"{last.calls_per_second / first.calls_per_second:.2f}"
    )
    problems = [problem for figures in results for problem in figures.problems]
    for problem in problems:
        print("PROBLEM:", problem)
    sys.exit(1 if problems else 0)


if __name__ == "__main__":
    main()
