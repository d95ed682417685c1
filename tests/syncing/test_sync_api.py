"""The sync API and commands: operators and scripts list connections, start runs, follow them.

Runs are started for a worker (202 with the queued run); one test has a real worker run them.
"""

from __future__ import annotations

import io
import json

import pytest
from django.core.management import CommandError, call_command

from syncing.coordination import exclusive
from syncing.models import Connection, SyncRun
from syncing.services import connection_create
from syncing.streams import stream_queue
from syncing.tasks import run_stream
from tests.conftest import wait_until

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection(cast, rooms_fake) -> Connection:
    return connection_create(
        workspace=cast.workspace,
        provider=Connection.Provider.ROOMS_PLATFORM,
        name="Flowla",
        base_url=rooms_fake.url,
        api_key=rooms_fake.api_key,
        options={"requests_per_second": 1000, "burst": 1000},
    )


def start(actor, connection_id, body) -> object:
    return actor.client().post(f"/api/sync/connections/{connection_id}/runs", body, format="json")


def work_off(run_id: int) -> SyncRun:
    """What the worker does with the queued run's task."""
    run = SyncRun.objects.get(pk=run_id)
    run_stream(run.connection_id, run.stream, run.trigger, run.full_refresh, run_id=run.pk)
    return SyncRun.objects.get(pk=run_id)


def test_connections_are_listed_with_health_and_streams_and_never_credentials(
    cast, connection, rooms_fake
):
    response = cast.member.client().get("/api/sync/connections")

    assert response.status_code == 200
    [listed] = response.json()
    assert listed["id"] == connection.pk
    assert listed["name"] == "Flowla"
    assert listed["provider"] == "rooms_platform"
    assert listed["status"] == "never_run"  # neither tested nor run yet
    assert listed["streams"] == ["rooms"]
    assert rooms_fake.api_key not in response.content.decode()
    assert "credentials" not in json.dumps(listed).lower()
    assert cast.outsider.client().get("/api/sync/connections").json() == []


def test_a_started_run_is_queued_then_recorded_in_the_same_row_by_the_worker(
    cast, connection, rooms_fake, django_capture_on_commit_callbacks
):
    rooms_fake.add_room(title="Discovery")

    with django_capture_on_commit_callbacks() as queued:
        response = start(cast.owner, connection.pk, {"stream": "rooms", "fullRefresh": True})

    assert response.status_code == 202
    body = response.json()
    assert (body["status"], body["stream"], body["fullRefresh"]) == ("queued", "rooms", True)
    assert body["finishedAt"] is None
    assert len(queued) == 1  # the task is sent only once the request's transaction commits
    run = work_off(body["id"])
    assert SyncRun.objects.count() == 1
    detail = cast.member.client().get(f"/api/sync/runs/{body['id']}").json()
    assert detail["status"] == run.status == "succeeded"
    assert detail["counts"] == {"created": 1, "updated": 0, "unchanged": 0, "failed": 0}
    assert detail["finishedAt"] is not None
    assert detail["upstreamCalls"] == run.upstream_calls > 0


def test_a_queued_run_that_finds_the_stream_running_is_recorded_as_skipped(connection):
    run = stream_queue(connection=connection, stream="rooms")

    with exclusive(f"run:{connection.pk}:rooms", ttl=60):
        skipped = work_off(run.pk)

    assert skipped.status == "skipped"
    assert skipped.errors == [{"message": "A run of this stream was already under way."}]
    assert skipped.finished_at is not None


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"stream": "deals"}, "stream"),
        ({}, "stream"),
        ({"stream": "rooms", "fullRefresh": "soon"}, "fullRefresh"),
        ({"stream": "rooms", "priority": 1}, "priority"),
    ],
)
def test_a_bad_run_request_is_refused_and_queues_nothing(cast, connection, body, field):
    response = start(cast.owner, connection.pk, body)

    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]
    assert not SyncRun.objects.exists()


def test_a_disabled_connection_answers_409(cast, connection):
    Connection.objects.filter(pk=connection.pk).update(enabled=False)

    response = start(cast.owner, connection.pk, {"stream": "rooms"})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"
    assert not SyncRun.objects.exists()


@pytest.mark.parametrize("connection_id", ["outsider", "abc", "0", "99999999999999999999"])
def test_another_workspace_or_a_malformed_id_answers_404(cast, connection, connection_id):
    if connection_id == "outsider":
        connection_id = str(connection.pk)
        actor = cast.outsider
    else:
        actor = cast.owner

    response = start(actor, connection_id, {"stream": "rooms"})

    assert response.status_code == 404
    assert not SyncRun.objects.exists()


def test_runs_are_listed_newest_first_and_filtered(cast, connection):
    first = stream_queue(connection=connection, stream="rooms")
    work_off(first.pk)
    second = stream_queue(connection=connection, stream="rooms", full_refresh=True)
    client = cast.member.client()

    everything = client.get("/api/sync/runs").json()
    assert [run["id"] for run in everything["results"]] == [second.pk, first.pk]
    assert (everything["page"], everything["limit"], everything["total"]) == (1, 10, 2)
    queued = client.get("/api/sync/runs", {"status": "queued"}).json()["results"]
    assert [run["id"] for run in queued] == [second.pk]
    by_connection = client.get("/api/sync/runs", {"connection": connection.pk, "limit": 1})
    assert by_connection.json()["total"] == 2
    assert len(by_connection.json()["results"]) == 1
    assert client.get("/api/sync/runs", {"stream": "deals"}).json()["total"] == 0
    assert cast.outsider.client().get("/api/sync/runs").json()["total"] == 0
    assert cast.outsider.client().get(f"/api/sync/runs/{first.pk}").status_code == 404


@pytest.mark.parametrize(
    "query", [{"status": "done"}, {"connection": "x"}, {"page": "0"}, {"limit": "101"}]
)
def test_bad_run_filters_answer_400(cast, query):
    response = cast.owner.client().get("/api/sync/runs", query)

    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == set(query)


def test_connection_add_reads_the_secret_from_stdin_never_argv(cast, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO("fl_secret_key\n"))
    out = io.StringIO()

    call_command(
        "connection_add",
        "--workspace=acme",
        "--provider=rooms_platform",
        "--name=Flowla EU",
        "--base-url=http://127.0.0.1:9/api/v2",
        stdout=out,
    )

    connection = Connection.objects.get(pk=int(out.getvalue()))
    assert (connection.workspace, connection.name) == (cast.workspace, "Flowla EU")
    assert connection.credentials == {"api_key": "fl_secret_key"}
    assert "fl_secret_key" not in connection.credentials_encrypted


def test_connection_add_takes_json_credentials_from_an_environment_variable(cast, monkeypatch):
    secrets = {"client_id": "id-1", "client_secret": "s-1", "refresh_token": "r-1"}
    monkeypatch.setenv("SF_CREDENTIALS", json.dumps(secrets))

    call_command(
        "connection_add",
        "--workspace=acme",
        "--provider=salesforce",
        "--name=SF",
        "--base-url=http://127.0.0.1:9",
        "--credentials-env=SF_CREDENTIALS",
        stdout=io.StringIO(),
    )

    assert Connection.objects.get(name="SF").credentials == secrets


@pytest.mark.parametrize(
    ("options", "stdin", "message"),
    [
        (["--workspace=nope"], "key", "No workspace"),
        ([], "", "No credentials"),
        ([], '{"api_key": 3}', "must be a text"),
        ([], "{not json", "not valid JSON"),
        (["--credentials-env=MISSING_VAR"], "", "MISSING_VAR is not set"),
    ],
)
def test_connection_add_refuses_bad_input_and_stores_nothing(
    cast, monkeypatch, options, stdin, message
):
    monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    monkeypatch.delenv("MISSING_VAR", raising=False)
    base = ["--workspace=acme", "--provider=rooms_platform", "--name=X", "--base-url=http://a.b"]

    with pytest.raises(CommandError, match=message):
        call_command("connection_add", *base, *options, stdout=io.StringIO())

    assert not Connection.objects.exists()


def test_sync_refuses_an_unknown_connection_or_stream(connection):
    with pytest.raises(CommandError, match="No connection"):
        call_command("sync", "999999", stdout=io.StringIO())
    with pytest.raises(CommandError, match="has no stream 'deals'"):
        call_command("sync", str(connection.pk), "--stream=deals", stdout=io.StringIO())
    assert not SyncRun.objects.exists()


def test_sync_runs_lists_the_latest_runs_with_counts(connection):
    run = stream_queue(connection=connection, stream="rooms")
    work_off(run.pk)
    out = io.StringIO()

    call_command("sync_runs", f"--connection={connection.pk}", stdout=out)

    header, row = out.getvalue().splitlines()
    assert header.split("\t")[:4] == ["id", "connection", "stream", "status"]
    assert row.split("\t")[:4] == [str(run.pk), "Flowla", "rooms", "succeeded"]


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_runs_started_by_api_and_by_command_are_run_by_a_worker(
    cast, connection, rooms_fake, celery_worker_process
):
    rooms_fake.add_room(title="Discovery")

    response = start(cast.owner, connection.pk, {"stream": "rooms"})
    assert response.status_code == 202
    run_id = response.json()["id"]
    wait_until(
        lambda: cast.owner.client().get(f"/api/sync/runs/{run_id}").json()["status"] == "succeeded",
        timeout=90,
    )

    out = io.StringIO()
    call_command("sync", str(connection.pk), "--full-refresh", "--wait", stdout=out)
    assert "succeeded" in out.getvalue().splitlines()[-1]

    rooms_fake.api_key = "rotated-upstream"  # our stored key is refused: the run fails
    with pytest.raises(CommandError, match="did not succeed"):
        call_command("sync", str(connection.pk), "--wait", stdout=io.StringIO())
    assert celery_worker_process.poll() is None
