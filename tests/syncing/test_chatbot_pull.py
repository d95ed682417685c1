"""The chatbot platform's conversations stream against the fake on loopback: the insights
tables end equal to the upstream's messages, the insights endpoints answer as if the same
data had been ingested, incremental runs read what changed (also while the run reads), faults
converge without duplicates."""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime, timedelta

import pytest

from config.formats import iso_utc
from insights.models import ChatMessage, ChatUser, Flow
from syncing.coordination import redis_client
from syncing.models import Connection, SyncRun
from syncing.providers.chatbot_platform.client import MESSAGES_LIMIT
from syncing.schedules import connection_schedules, schedule_every_minutes
from syncing.services import connection_create
from syncing.streams import stream_run
from syncing.tasks import run_stream
from tests.conftest import wait_until
from tests.factories import WorkspaceFactory
from tests.syncing.conftest import admin_edit_connection
from tests.syncing.fakes.chatbot_platform import FakeChatbotPlatform
from workspaces.services import api_key_create

pytestmark = pytest.mark.django_db

MESSAGES = "/messages"


@pytest.fixture
def fake():
    fake = FakeChatbotPlatform().start()
    yield fake
    fake.stop()


@pytest.fixture
def connection(workspace, fake) -> Connection:
    return connection_create(
        workspace=workspace,
        provider=Connection.Provider.CHATBOT_PLATFORM,
        name="Flow XO",
        base_url=fake.url,
        api_key=fake.api_key,
        options={"requests_per_second": 1000, "burst": 1000},
    )


def pull(connection_, **options) -> SyncRun:
    run = stream_run(connection=connection_, stream="conversations", **options)
    assert run is not None
    return run


def message_calls(fake) -> int:
    return sum(1 for _, path in fake.requests if path.endswith(MESSAGES))


def upstream(fake) -> dict[str, tuple]:
    return {
        m["id"]: (
            "received" if m["role"] == "user" else "sent",
            m["message"],
            m["timestamp"],
            m["conversation"].split("/c/")[1],
        )
        for m in fake.all_messages()
    }


def stored(workspace) -> dict[str, tuple]:
    return {
        m.client_id: (m.direction, m.text, iso_utc(m.sent_at), m.user.upstream_id)
        for m in ChatMessage.objects.for_workspace(workspace).select_related("user")
    }


def test_a_full_sync_stores_every_message_field_by_field(connection, fake, workspace):
    fake.populate(30)

    run = pull(connection, full_refresh=True)

    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert (run.created, run.updated, run.unchanged, run.failed) == (30, 0, 0, 0)
    assert stored(workspace) == upstream(fake)
    users = {u.upstream_id: u.name for u in ChatUser.objects.for_workspace(workspace)}
    assert users == {c["user_id"]: c["user_name"] for c in fake.conversations.values()}
    flows = {f.upstream_id: f.name for f in Flow.objects.for_workspace(workspace)}
    assert flows == {w["_id"]: w["name"] for w in fake.workflows}


def test_insights_answer_the_same_as_after_ingesting_the_same_data(
    connection, fake, workspace, client
):
    fake.populate(25, start=datetime(2026, 11, 20, 9, tzinfo=UTC))
    pull(connection, full_refresh=True)
    twin = WorkspaceFactory(slug="ingested")
    events = [
        {
            "id": m["id"],
            "kind": "message",
            "direction": "received" if m["role"] == "user" else "sent",
            "user": {"id": c["user_id"], "name": c["user_name"]},
            "text": m["message"],
            "at": m["timestamp"],
        }
        for c in fake.conversations.values()
        for m in fake.messages[c["id"]]
    ]
    twin_key = api_key_create(workspace=twin, name="t").plaintext
    posted = client.post(
        "/api/insights/events",
        {"events": events},
        content_type="application/json",
        HTTP_AUTHORIZATION=f"Bearer {twin_key}",
    )
    assert posted.status_code in (200, 201), posted.content
    pulled_key = api_key_create(workspace=workspace, name="p").plaintext

    for path in ("/api/insights", "/api/insights/top_messages"):
        query = {"start": "2026-11-19", "end": "2026-11-22", "unit": "day", "offset": "60"}
        answers = [
            client.get(path, query, HTTP_AUTHORIZATION=f"Bearer {key}").json()
            for key in (pulled_key, twin_key)
        ]
        assert answers[0] == answers[1]
    stats = answers[0]
    assert stats  # the top messages of 25 conversations are not empty


def test_a_second_run_reads_no_messages_and_changes_nothing(connection, fake, workspace):
    fake.populate(20)
    pull(connection, full_refresh=True)
    calls = message_calls(fake)

    run = pull(connection, full_refresh=True)

    assert (run.created, run.updated, run.unchanged) == (0, 0, 20)
    assert message_calls(fake) == calls


def test_an_incremental_run_reads_exactly_the_conversations_that_changed(
    connection, fake, workspace
):
    fake.populate(20)
    pull(connection)
    fake.add_message("user00003", "user", "Is there a free trial?")
    calls = message_calls(fake)

    run = pull(connection)

    assert (run.created, run.updated) == (0, 1)
    assert message_calls(fake) == calls + 1
    assert stored(workspace) == upstream(fake)


def test_a_conversation_that_gains_a_message_during_the_run_loses_nothing(
    connection, fake, workspace
):
    """150 conversations make two list pages; a conversation read on page 1 gains a message
    before page 2 is listed, leaves the window and shifts page 2 by one place."""
    fake.populate(150)
    newest_first = sorted(
        fake.conversations,
        key=lambda c: fake.conversations[c]["last_message"]["timestamp"],
        reverse=True,
    )
    moved = newest_first[10].split("/c/")[1]

    def gain_a_message_once(query: dict) -> None:
        if query.get("skip") == "100" and fake.on_list is not None:
            fake.on_list = None
            fake.add_message(moved, "user", "One more thing", at=datetime.now(UTC))

    fake.on_list = gain_a_message_once

    first = pull(connection, full_refresh=True)

    assert first.status == SyncRun.Status.SUCCEEDED, first.errors
    missing = set(upstream(fake)) - set(stored(workspace))
    assert len(missing) == 1  # only the message written after the run started
    second = pull(connection)
    assert stored(workspace) == upstream(fake)
    assert second.updated == 1


def test_with_a_fifth_of_requests_failing_the_runs_converge_without_duplicates(
    connection, fake, workspace, settings
):
    settings.SYNC_HTTP_RETRIES = 5
    fake.populate(60)
    fake.fault_rate = 0.2
    fake.fault_kinds = ("503", "429", "429-bare", "timeout")
    fake.retry_after = 0
    fake.slow_seconds = 0.7

    runs = []
    while not runs or runs[-1].status != SyncRun.Status.SUCCEEDED:
        assert len(runs) < 4, [run.errors for run in runs]
        runs.append(pull(connection, full_refresh=True))

    assert len(fake.faults_served) > 10
    assert stored(workspace) == upstream(fake)
    assert ChatMessage.objects.for_workspace(workspace).count() == len(fake.all_messages())


def test_message_lists_are_read_pool_size_at_a_time(workspace, fake):
    conn = connection_create(
        workspace=workspace,
        provider=Connection.Provider.CHATBOT_PLATFORM,
        name="Flow XO",
        base_url=fake.url,
        api_key=fake.api_key,
        options={"requests_per_second": 1000, "burst": 1000, "pool_size": 3},
    )
    fake.populate(12)
    fake.delay = 0.1  # long enough for every thread of the pool to be answered at once

    run = pull(conn, full_refresh=True)

    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert fake.max_in_flight == 3
    assert stored(workspace) == upstream(fake)
    assert run.upstream_calls == 1 + 1 + 12  # workflows, one list page, 12 message lists


def test_a_list_page_that_fails_keeps_the_pages_read_before_it(connection, fake, workspace):
    fake.populate(150)  # two list pages
    list_conversations = fake.list_conversations

    def page_two_gone(query: dict):
        if query.get("skip") == "100":
            return 404, {"message": "not found"}
        return list_conversations(query)

    fake.list_conversations = page_two_gone

    run = pull(connection, full_refresh=True)

    assert run.status == SyncRun.Status.FAILED
    assert run.created == 100
    page_one = sorted(
        fake.conversations.values(),
        key=lambda c: (c["last_message"]["timestamp"], c["id"]),
        reverse=True,
    )[:100]
    assert set(stored(workspace)) == {m["id"] for c in page_one for m in fake.messages[c["id"]]}


def test_a_message_list_that_ignores_paging_is_read_once(connection, fake, workspace):
    for n in range(MESSAGES_LIMIT + 5):
        fake.add_message("chatty", "user", f"line {n}", at=datetime.now(UTC) - timedelta(hours=1))
    fake.ignore_message_paging = True

    run = pull(connection, full_refresh=True)

    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert message_calls(fake) == 1
    assert ChatMessage.objects.for_workspace(workspace).count() == MESSAGES_LIMIT + 5


def test_a_malformed_conversation_is_recorded_and_the_others_are_stored(
    connection, fake, workspace
):
    fake.populate(5)
    broken = next(iter(fake.conversations.values()))
    del broken["user_id"]

    run = pull(connection, full_refresh=True)

    assert run.status == SyncRun.Status.PARTIAL
    assert (run.created, run.failed) == (4, 1)
    assert "user_id" in run.errors[0]["message"]


@pytest.mark.parametrize(
    ("spoil", "field"),
    [
        (lambda m: m.pop("timestamp"), "timestamp"),
        (lambda m: m.update(timestamp="yesterday at noon"), "timestamp"),
        (lambda m: m.update(role=None), "role"),
        (lambda m: m.update(role=""), "role"),
        (lambda m: m.update(type=None), "type"),
        (lambda m: m.update(id="m" * 256), "id"),
    ],
)
def test_a_malformed_message_is_recorded_by_id_and_field_and_the_others_are_stored(
    connection, fake, workspace, spoil, field
):
    fake.populate(3)
    broken = fake.messages[next(iter(fake.messages))][0]
    spoil(broken)

    run = pull(connection, full_refresh=True)

    assert run.status == SyncRun.Status.PARTIAL
    assert run.failed == 1
    assert run.errors[0]["upstreamId"] == broken["id"]
    assert run.errors[0]["message"].startswith(f"invalid record: {field}: ")
    every_id = {message["id"] for message in fake.all_messages()}
    assert set(stored(workspace)) == every_id - {broken["id"]}


@pytest.mark.parametrize(
    ("spoil", "field"),
    [
        (lambda c: c.pop("id_url_encoded"), "id_url_encoded"),
        (lambda c: c.update(user_id=None), "user_id"),
        (lambda c: c.update(user_name="v" * 256), "user_name"),
        (lambda c: c["last_message"].update(id=""), "last_message.id"),
    ],
)
def test_a_malformed_conversation_names_its_id_and_the_field(
    connection, fake, workspace, spoil, field
):
    fake.populate(3)
    broken = next(iter(fake.conversations.values()))
    spoil(broken)

    run = pull(connection, full_refresh=True)

    assert (run.created, run.failed) == (2, 1)
    assert run.errors[0]["upstreamId"] == broken["id"]
    assert run.errors[0]["message"].startswith(f"invalid record: {field}: ")


def test_a_timestamp_without_a_zone_is_read_as_utc(connection, fake, workspace):
    fake.populate(1)
    message = fake.all_messages()[0]
    message["timestamp"] = "2026-11-20T09:15:00"

    run = pull(connection, full_refresh=True)

    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    sent_at = ChatMessage.objects.for_workspace(workspace).get(client_id=message["id"]).sent_at
    assert sent_at == datetime(2026, 11, 20, 9, 15, tzinfo=UTC)


def test_refused_credentials_mark_the_connection_for_reauthentication(connection, fake):
    fake.api_key = "rotated"

    run = pull(connection)

    assert run.status == SyncRun.Status.FAILED
    connection.refresh_from_db()
    assert connection.status == Connection.Status.NEEDS_REAUTH


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_killed_mid_run_leaves_nothing_duplicated(short_lock_worker, fake):
    worker = short_lock_worker
    workspace = WorkspaceFactory()
    connection_ = connection_create(
        workspace=workspace,
        provider=Connection.Provider.CHATBOT_PLATFORM,
        name="Flow XO",
        base_url=fake.url,
        api_key=fake.api_key,
        options={"requests_per_second": 1000, "burst": 1000},
    )
    fake.populate(150)  # two list pages
    fake.delay = 0.02  # slow enough for the kill to land while page 2 is read

    run_stream.delay(connection_.pk, "conversations", SyncRun.Trigger.MANUAL, False)
    killed = wait_until(
        lambda: SyncRun.objects.filter(connection=connection_, created__gte=100).first(),
        timeout=120,
        interval=0.05,
    )
    os.kill(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)
    wait_until(lambda: not redis_client().exists(f"sync:lock:run:{connection_.pk}:conversations"))
    fake.delay = 0.0

    run = pull(connection_)

    assert run.status == SyncRun.Status.SUCCEEDED, run.errors
    assert run.created + run.unchanged == 150
    assert run.created < 50 + 1  # the killed run's first page was kept
    assert stored(workspace) == upstream(fake)
    assert ChatMessage.objects.for_workspace(workspace).count() == len(fake.all_messages())
    killed.refresh_from_db()
    assert killed.status == SyncRun.Status.FAILED


def test_a_chatbot_connection_is_set_up_and_tested_from_the_admin(client, staff, fake):
    """Issue 16 item 3: the connection type in the admin, its key encrypted at rest, a refused
    key marks it for re-authentication, the right one tests OK, its schedule is stored."""
    client.force_login(staff.owner.user)
    form = {
        "workspace": staff.workspace.pk,
        "provider": "chatbot_platform",
        "name": "Our Flow XO",
        "base_url": fake.url,
        "api_key": "a-mistyped-key",
        "enabled": "on",
        "options": "{}",
        "schedule_conversations_every": "30",
        "schedule_conversations_on": "on",
    }

    refused = client.post("/admin/syncing/connection/add/", form, follow=True)

    connection_ = Connection.objects.get(name="Our Flow XO")
    assert "refused the credentials" in refused.content.decode()
    assert connection_.status == Connection.Status.NEEDS_REAUTH
    stored_secret = Connection.objects.values_list("credentials_encrypted", flat=True).get(
        pk=connection_.pk
    )
    assert stored_secret
    assert "a-mistyped-key" not in stored_secret
    assert connection_.credentials["api_key"] == "a-mistyped-key"
    assert [schedule_every_minutes(task) for task in connection_schedules(connection_)] == [30]

    admin_edit_connection(client, connection_, api_key=fake.api_key)
    tested = client.post(f"/admin/syncing/connection/{connection_.pk}/test/", follow=True)

    connection_.refresh_from_db()
    assert connection_.status == Connection.Status.OK
    assert f"{len(fake.workflows)} workflows readable" in tested.content.decode()
