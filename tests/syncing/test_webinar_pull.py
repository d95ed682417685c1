"""The webinars pull stream against the fake webinar platform over a real socket."""

from __future__ import annotations

import pytest
from django.db import connection as db_connection
from django.test.utils import CaptureQueriesContext

from events.models import Operator, Registrant, Session
from syncing.models import Connection, OutboxMessage, SyncRun
from syncing.services import connection_create
from syncing.streams import stream_run
from tests.factories import WorkspaceFactory
from tests.syncing import webinar_state
from tests.syncing.fakes.webinar_platform import FakeWebinarPlatform

pytestmark = pytest.mark.django_db

PAST, CURRENT, FUTURE = "tok-past", "tok-live", "tok-next"


def session_fields(fake, **fields) -> dict:
    """A session record with every field the event info object has."""
    return {
        "title": "Quarterly launch",
        "description": "What ships next quarter.",
        "date": "2026-06-01",
        "time": "15:00:00",
        "timezone": "Europe/Paris",
        "published": True,
        "duration": 1.5,
        "earlyAccessPeriod": 10,
        "createDate": "2026-05-01T09:30:00.125Z",
        "creator": dict(fake.operators[0]),
        "operators": [],
        "refSources": ["newsletter"],
        "videoRecord": True,
        "onDemandReplays": False,
        "privatizeChat": 1,
        "emailMessage": "Bring questions.",
        "hasQnA": True,
        "useAdvancedQna": False,
        "qnaPublicByDefault": True,
        "redirectUrl": "https://acme.example/thanks",
        "reminderOne": 24,
        "reminderTwo": 2,
        "hasRecording": False,
        "questions": ["Company", "Role"],
        **fields,
    }


@pytest.fixture
def platform(webinar_fake):
    """Three sessions (past, live, upcoming) with operators, registrants, surveys, answers and
    chat, in every shape the CSV report has to carry."""
    fake = webinar_fake
    host = fake.operators[0]
    presenter = fake.add_operator(email="Pia.Presenter@flow.example", firstName="Pia")
    fake.add_session(
        period="past",
        **session_fields(
            fake,
            token=PAST,
            operators=[
                fake.session_operator(host, role=10, screen=True),
                fake.session_operator(presenter, role=5, cam=False),
            ],
        ),
    )
    fake.add_session(
        period="current",
        **session_fields(
            fake,
            token=CURRENT,
            title="Live demo",
            date="2026-11-26",
            time="09:00:00",
            timezone="America/New_York",
            duration=2,
            creator=dict(presenter),
            questions=[],
            redirectUrl="",
            emailMessage="",
        ),
    )
    fake.add_session(
        period="future",
        **session_fields(fake, token=FUTURE, eventToken=f"ev-{PAST}", date="2026-12-14"),
    )
    ana = fake.add_registrant(
        PAST,
        email="Ana@Example.com",
        firstName="Ana",
        lastName="Lima",
        answers={"Company": "Acme", "Role": "CTO"},
        registeredAt="2026-05-20T08:00:00.001Z",
        attended=True,
        joinedAt="2026-06-01T12:58:00.000Z",
        leftAt="2026-06-01T14:20:00.500Z",
        minutesWatched=82,
    )
    ben = fake.add_registrant(PAST, email="ben@example.com", firstName="Ben", lastName="")
    for n in range(3):
        fake.add_registrant(CURRENT, email=f"live{n}@example.com", attended=n == 0)
    fake.add_registrant(FUTURE, email="early@example.com", answers={"Company": "=Acme"})
    nps = fake.add_survey(PAST, title="NPS", questions=["Score", "=Why?"])
    fake.add_survey_response(
        nps,
        ana,
        answers={"Score": "9", "=Why?": 'Fast, "clear"\nand fun'},
        submittedAt="2026-06-01T14:10:00.000Z",
    )
    fake.add_survey_response(
        nps, ben, answers={"Score": "-3", "=Why?": ""}, submittedAt="2026-06-01T14:11:00.000Z"
    )
    fake.add_survey(FUTURE, title="Pre-event poll", questions=["Topic"])
    at = "2026-06-01T13:05:00.000Z"
    fake.add_chat(PAST, sender=host, kind="operator", message="Welcome!", sentAt=at)
    fake.add_chat(PAST, sender=ana, message="=SUM(A1:A9)", sentAt=at)
    fake.add_chat(PAST, sender=ana, message="+1", sentAt=at)
    fake.add_chat(PAST, sender=ana, message="+1", sentAt=at)  # the same line twice
    fake.add_chat(PAST, sender=ben, message='a, b\n"c"', private=True)
    return fake


def run(connection, *, full_refresh: bool = False) -> SyncRun:
    return stream_run(connection=connection, stream="webinars", full_refresh=full_refresh)


def test_a_full_sync_mirrors_the_platform_field_by_field(platform, webinar_connection, workspace):
    expected = webinar_state.expected(platform)

    result = run(webinar_connection, full_refresh=True)

    assert result.status == SyncRun.Status.SUCCEEDED, result.errors
    assert webinar_state.local(workspace) == expected
    total = webinar_state.row_count(expected)
    assert (result.created, result.updated, result.unchanged, result.failed) == (total, 0, 0, 0)
    # Registrants point at the workspace's contacts, named after them.
    contacts = {
        r.email: (r.contact.email, r.contact.name)
        for r in Registrant.objects.for_workspace(workspace).select_related("contact")
    }
    assert contacts["Ana@Example.com"] == ("ana@example.com", "Ana Lima")
    assert contacts["ben@example.com"] == ("ben@example.com", "Ben")
    # Pulled rows are not pushed back upstream.
    assert OutboxMessage.objects.count() == 0


def test_a_second_full_run_changes_nothing(platform, webinar_connection, workspace):
    run(webinar_connection, full_refresh=True)
    before = webinar_state.local(workspace)
    ids = sorted(Registrant.objects.values_list("pk", "session_id", "contact_id"))

    with CaptureQueriesContext(db_connection) as queries:
        second = run(webinar_connection, full_refresh=True)

    total = webinar_state.row_count(webinar_state.expected(platform))
    assert (second.created, second.updated, second.unchanged, second.failed) == (0, 0, total, 0)
    writes = [
        q["sql"]
        for q in queries.captured_queries
        if q["sql"].startswith(("INSERT", "UPDATE", "DELETE")) and "syncing_" not in q["sql"]
    ]
    # Only the note of when the past session's report was read; no pulled row is rewritten.
    assert [sql.split(" WHERE ")[0].split(" = ")[0] for sql in writes] == [
        'UPDATE "events_session" SET "report_pulled_at"'
    ]
    assert webinar_state.local(workspace) == before
    assert sorted(Registrant.objects.values_list("pk", "session_id", "contact_id")) == ids


def test_an_incremental_run_reads_only_what_may_have_changed(platform, webinar_connection):
    run(webinar_connection)
    platform.requests.clear()

    second = run(webinar_connection)

    # The operator list, the three period lists, the live session's registrants and the
    # surveys of the live and the upcoming session. The past session's report was read after
    # it settled; the upcoming session's registrant counts are those stored.
    assert platform.requests == [
        ("GET", "/api/v1/operators"),
        ("GET", "/api/v1/events/sessions"),
        ("GET", "/api/v1/events/sessions"),
        ("GET", "/api/v1/events/sessions"),
        ("GET", f"/api/v1/reports/events/sessions/registrants/{CURRENT}"),
        ("GET", f"/api/v1/reports/events/sessions/surveys/{CURRENT}"),
        ("GET", f"/api/v1/reports/events/sessions/surveys/{FUTURE}"),
    ]
    assert (second.created, second.updated, second.failed) == (0, 0, 0)
    assert second.upstream_calls == 7


def test_an_incremental_run_picks_up_changes(platform, webinar_connection, workspace):
    run(webinar_connection)
    for token in (PAST, FUTURE):  # the two sessions of one event
        platform.sessions[token]["title"] = "Renamed launch"
    platform.sessions[FUTURE]["operators"] = [platform.session_operator(platform.operators[1])]
    del platform.sessions[PAST]["operators"][1]
    platform.add_registrant(FUTURE, email="late@example.com")
    platform.add_survey(FUTURE, title="Second poll", questions=["Why"])

    second = run(webinar_connection)

    assert webinar_state.local(workspace) == webinar_state.expected(platform)
    # The event was renamed, one session got an operator and one lost one; one registrant
    # and one survey are new.
    assert (second.created, second.updated, second.failed) == (2, 3, 0)


def test_a_registrant_change_that_keeps_the_counts_waits_for_a_full_refresh(
    platform, webinar_connection, workspace
):
    run(webinar_connection)
    platform.registrants[FUTURE][0]["firstName"] = "Eve"

    def names():
        return list(Registrant.objects.filter(email="early@example.com").values_list("first_name"))

    run(webinar_connection)
    assert names() == [("Guest",)]

    refreshed = run(webinar_connection, full_refresh=True)
    assert names() == [("Eve",)]
    assert refreshed.updated == 1


def test_a_local_operator_with_the_same_email_is_adopted(platform, webinar_connection, workspace):
    local = Operator.objects.create(
        workspace=workspace, email="HOST@flow.example", first_name="Old", permission=0
    )

    run(webinar_connection, full_refresh=True)

    local.refresh_from_db()
    assert (local.upstream_id, local.email, local.first_name) == ("1", "host@flow.example", "Hana")
    assert Operator.objects.for_workspace(workspace).count() == len(platform.operators)


def test_a_report_whose_lines_failed_is_read_again(platform, webinar_connection, workspace):
    stranger = {"email": "who@example.com", "firstName": "Who", "lastName": ""}
    platform.add_chat(PAST, sender=stranger, message="hi", sentAt="2026-06-01T13:06:00.000Z")

    first = run(webinar_connection)
    assert first.status == SyncRun.Status.PARTIAL
    assert Session.objects.get(upstream_id=PAST).report_pulled_at is None

    platform.chats[PAST].pop()
    second = run(webinar_connection)

    assert second.status == SyncRun.Status.SUCCEEDED
    assert Session.objects.get(upstream_id=PAST).report_pulled_at is not None
    assert webinar_state.local(workspace) == webinar_state.expected(platform)


def test_malformed_records_are_failures_with_their_ids_and_the_rest_is_stored(
    platform, webinar_connection, workspace
):
    platform.add_operator(id=77, email="not-an-email")
    platform.add_session(**session_fields(platform, token="tok-nodate"))
    del platform.sessions["tok-nodate"]["date"]
    platform.add_session(**session_fields(platform, token="tok-ghost", creator={"id": 999}))
    platform.add_registrant(FUTURE, email="nope")
    cy = platform.add_registrant(PAST, email="cy@example.com")
    nps = platform.surveys[PAST][0]
    platform.add_survey_response(nps, cy, submittedAt="yesterday")
    stranger = {"email": "who@example.com", "firstName": "Who", "lastName": ""}
    platform.add_chat(PAST, sender=stranger, message="hi")

    result = run(webinar_connection, full_refresh=True)

    assert result.status == SyncRun.Status.PARTIAL
    assert result.failed == result.error_count == 6
    # CSV rows are named <session>:<body>:<row number, the header being 1>.
    assert sorted(error["upstreamId"] for error in result.errors) == sorted(
        [
            "77",
            "tok-nodate",
            "tok-ghost",
            "nope",
            f"{PAST}:surveys:{nps['id']}:4",
            f"{PAST}:attendeeChat:6",
        ]
    )
    state = webinar_state.local(workspace)
    assert sorted(state["sessions"]) == sorted([PAST, CURRENT, FUTURE])
    assert (PAST, "cy@example.com") in state["registrants"]
    assert (FUTURE, "nope") not in state["registrants"]
    assert len(state["chat"]) == 5
    assert len(state["responses"]) == 2


def test_with_a_fifth_of_requests_failing_the_runs_converge_and_lose_nothing(
    platform, webinar_connection, workspace
):
    platform.fault_rate = 0.2
    platform.fault_kinds = ("503", "500", "429", "malformed")
    platform.retry_after = 0

    statuses = []
    while SyncRun.Status.SUCCEEDED not in statuses and len(statuses) < 20:
        statuses.append(run(webinar_connection).status)
    platform.fault_rate = 0.0

    assert statuses[-1] == SyncRun.Status.SUCCEEDED, statuses
    assert len(platform.faults_served) > 0
    assert webinar_state.local(workspace) == webinar_state.expected(platform)
    # Nothing is read twice into two rows: a full refresh finds every row unchanged.
    check = run(webinar_connection, full_refresh=True)
    assert (check.created, check.updated, check.failed) == (0, 0, 0)


@pytest.mark.parametrize("registrants", [12, 10])
def test_a_registrant_list_that_ignores_paging_is_read_once(db, registrants):
    """Spec 004 documents the list as a plain array: a page longer than asked for, or the same
    page again, is the whole list (an endless loop used to starve the account's budget)."""
    fake = FakeWebinarPlatform().start()
    try:
        fake.ignores_paging = True
        session = fake.add_session(period="future")
        for n in range(registrants):
            fake.add_registrant(session["token"], email=f"p{n}@example.com")
        connection = _connection(fake)

        result = stream_run(
            connection=connection, stream="webinars", full_refresh=True, page_size=10
        )

        assert result.status == SyncRun.Status.SUCCEEDED, result.errors
        stored = Registrant.objects.filter(session__upstream_id=session["token"])
        assert stored.count() == registrants
        # Longer than asked for: one call; exactly a page: the repeat ends it.
        calls = fake.count("GET", "/api/v1/reports/events/sessions/registrants/")
        assert calls == (1 if registrants > 10 else 2)
    finally:
        fake.stop()


def _connection(fake) -> Connection:
    return connection_create(
        workspace=WorkspaceFactory(),
        provider=Connection.Provider.WEBINAR_PLATFORM,
        name="FLOW",
        base_url=fake.url,
        api_key=fake.api_key,
        options={"requests_per_second": 1000, "burst": 1000},
    )


def _sync_queries(registrants: int, page_size: int) -> int:
    """Queries of a full sync of one upcoming session, in a workspace of its own."""
    fake = FakeWebinarPlatform().start()
    try:
        session = fake.add_session(period="future")
        for n in range(registrants):
            fake.add_registrant(session["token"], email=f"p{n}@example.com")
        connection = _connection(fake)
        with CaptureQueriesContext(db_connection) as queries:
            result = stream_run(
                connection=connection, stream="webinars", full_refresh=True, page_size=page_size
            )
        assert result.created == 3 + registrants  # operator, event, session, registrants
        return len(queries)
    finally:
        fake.stop()


def test_registrants_are_written_with_a_constant_number_of_queries_per_page(db):
    one_page = _sync_queries(10, page_size=10)

    assert _sync_queries(1, page_size=10) == one_page
    three_pages = _sync_queries(30, page_size=10)
    assert _sync_queries(12, page_size=4) == three_pages
    per_page = (three_pages - one_page) / 2
    assert per_page <= 10
