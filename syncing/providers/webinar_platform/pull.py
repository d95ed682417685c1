"""The ``webinars`` stream: the webinar platform's operators, sessions (with their events and
operators), registrants, surveys, chat logs and survey responses, mirrored into the events app.

One stream, in the order the rows depend on each other: operators (events name their creator,
sessions their operators, operator chat its sender), then the sessions of every period, then
per session its registrants (chat lines and survey responses name them), surveys and compiled
report. Every write is set-based (``writes``): a constant number of queries per page of
registrants, per session's report and for the whole session list. Pulled rows are written
here, not through ``events.services``, so they never enqueue an outbox push back upstream.

The platform has no change timestamps to filter by, so an incremental run (not a full refresh)
decides by comparing:
- a session's event info is read when the session is new or its record on the session list
  differs from the stored one;
- a session's registrants are read when the list's analytics (registrants, attendees) differ
  from the stored counts, while the session is live (``current``: attendance changes), and
  while its report is read; a change that keeps both counts (a renamed registrant) waits for
  the next full refresh;
- a past session's surveys and compiled report are read until a read that stored every line
  happened ``REPORT_SETTLE`` after the session's end (``Session.report_pulled_at``); the
  surveys of live and upcoming sessions are read on every run (one call each: the platform
  says nothing about surveys on the session list).

A record that cannot be stored is a recorded failure (the run ends ``partial``); a call about
one session that fails (a 404, or a transient error after the client's retries) is recorded
too and the next session goes on. Rows missing upstream are kept: they may be local creations
on their way upstream.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import transaction
from django.db.models import Count, Q
from django.db.models.functions import Lower
from django.utils import timezone

from events.models import (
    ChatMessage,
    Event,
    Operator,
    Registrant,
    Session,
    SessionOperator,
    Survey,
    SurveyResponse,
)
from syncing.errors import AuthError, RecordError, UpstreamError
from syncing.providers.webinar_platform import mapping, schemas
from syncing.providers.webinar_platform.client import PERIODS, WebinarPlatformClient
from syncing.providers.webinar_platform.writes import (
    differs,
    registrant_contacts_link,
    upsert_plan,
)
from syncing.validation import validate_record, validate_records
from workspaces.models import Workspace

if TYPE_CHECKING:
    from syncing.runs import RunRecorder

PAGE_SIZE = 500
# Reports still change for a while after the scheduled end (overruns, late survey answers).
REPORT_SETTLE = dt.timedelta(hours=2)


@dataclass
class Listed:
    """A session as the session list answered it, and the period it was listed in."""

    period: str
    raw: dict


@dataclass
class Pull:
    """One run's context: its recorder, client, workspace, and whether it reads everything."""

    run: RunRecorder
    client: WebinarPlatformClient
    workspace: Workspace
    full: bool
    page_size: int

    def failed(self, error: RecordError | UpstreamError) -> None:
        self.run.record_failure(error)

    def valid(self, results: Iterable[dict | RecordError]) -> Iterable[dict]:
        for result in results:
            if isinstance(result, RecordError):
                self.failed(result)
            else:
                yield result

    def valid_page(self, serializer_class, page: list, *, id_field: str) -> Iterable[dict]:
        """A page validated at once: DRF copies a serializer's fields for every instance, so
        one instance per page instead of per record is several times faster. A page with a
        bad record is validated again record by record, so each failure names its record."""
        serializer = serializer_class(data=page, many=True)
        if serializer.is_valid():
            return serializer.validated_data
        return self.valid(validate_records(serializer_class, page, id_field=id_field))


def webinars_pull(run: RunRecorder, *, page_size: int = PAGE_SIZE) -> None:
    connection = run.connection
    pull = Pull(run, run.client(), connection.workspace, run.run.full_refresh, page_size)
    operators = operators_pull(pull)
    listed = sessions_list(pull)
    sessions = sessions_pull(pull, listed, operators)
    run.checkpoint()
    counts = _registrant_counts(sessions.values())
    for token, session in sessions.items():
        try:
            session_details_pull(pull, session, listed[token], counts.get(session.pk))
        except AuthError:
            raise
        except UpstreamError as error:
            pull.failed(error)
        run.checkpoint()


# --- operators --------------------------------------------------------------------------------


def operators_pull(pull: Pull) -> dict[str, int]:
    """Upsert the operator list; returns upstream id -> local id of every operator known.
    A local operator with the same email and no upstream id (created here) is adopted."""
    incoming: dict[str, dict] = {}
    emails: set[str] = set()
    for record in pull.valid(validate_records(schemas.Operator, pull.client.operators())):
        try:
            row = mapping.operator_row(record)
        except RecordError as error:
            pull.failed(error)
            continue
        if row["email"].lower() in emails:
            pull.failed(RecordError("email listed twice", upstream_id=row["upstream_id"]))
            continue
        emails.add(row["email"].lower())
        incoming[row["upstream_id"]] = row
    local = list(
        Operator.objects.for_workspace(pull.workspace).annotate(email_lower=Lower("email"))
    )
    by_id = {operator.upstream_id: operator for operator in local if operator.upstream_id}
    by_email = {operator.email_lower: operator for operator in local}
    stored = {}
    for upstream_id, row in list(incoming.items()):
        match = by_id.get(upstream_id) or by_email.get(row["email"].lower())
        if match is not None and match.upstream_id not in ("", upstream_id):
            message = f"email belongs to the operator with upstream id {match.upstream_id}"
            pull.failed(RecordError(message, upstream_id=upstream_id))
            del incoming[upstream_id]
        elif match is not None:
            stored[upstream_id] = match
    plan = upsert_plan(
        Operator,
        stored=stored,
        incoming=incoming,
        new=lambda key, row: Operator(workspace=pull.workspace, **row),
    )
    with transaction.atomic():
        plan.write()
    pull.run.count(**plan.counts())
    return {upstream_id: operator.pk for upstream_id, operator in by_id.items()} | {
        upstream_id: operator.pk for upstream_id, operator in plan.rows.items()
    }


# --- sessions ---------------------------------------------------------------------------------


def sessions_list(pull: Pull) -> dict[str, Listed]:
    listed: dict[str, Listed] = {}
    for period in PERIODS:
        for raw in pull.client.sessions(period=period):
            token = raw.get("token") if isinstance(raw, dict) else None
            if not isinstance(token, str) or not token:
                pull.failed(RecordError(f"a {period} session without a token"))
                continue
            listed[token] = Listed(period, raw)
    return listed


def _stored_sessions(workspace: Workspace, tokens: Iterable[str]) -> dict[str, Session]:
    sessions = (
        Session.objects.for_workspace(workspace)
        .filter(upstream_id__in=list(tokens))
        .select_related("event")
        .prefetch_related("session_operators")
    )
    return {session.upstream_id: session for session in sessions}


def _assignments(session: Session) -> dict[int, dict]:
    return {
        assignment.operator_id: {
            "role": assignment.role,
            "mic_enabled": assignment.mic_enabled,
            "cam_enabled": assignment.cam_enabled,
            "screen_sharing_enabled": assignment.screen_sharing_enabled,
        }
        for assignment in session.session_operators.all()
    }


def _same(record: mapping.SessionRecord, session: Session | None) -> bool:
    return (
        session is not None
        and not differs(session.event, record.event)
        and not differs(session, record.session)
        and _assignments(session) == record.operators
    )


def _listed_record(listed: Listed, operators: dict[str, int]) -> mapping.SessionRecord | None:
    """The list's record as ours, or None when it does not map (its event info decides)."""
    try:
        data = validate_record(schemas.Session, listed.raw, id_field="token")
        return mapping.session_record(data, operators=operators)
    except RecordError:
        return None


def sessions_pull(
    pull: Pull, listed: dict[str, Listed], operators: dict[str, int]
) -> dict[str, Session]:
    """Upsert the listed sessions with their events and operators; returns the stored
    sessions by token."""
    stored = _stored_sessions(pull.workspace, listed)
    found: dict[str, mapping.SessionRecord] = {}
    for token, item in listed.items():
        record = None if pull.full else _listed_record(item, operators)
        if record is None or not _same(record, stored.get(token)):
            try:
                info = pull.client.session_info(token)
                record = mapping.session_record(info, operators=operators)
            except AuthError:
                raise
            except (RecordError, UpstreamError) as error:
                pull.failed(error)
                continue
        found[token] = record
    with transaction.atomic():
        return _sessions_write(pull, found, stored)


def _sessions_write(
    pull: Pull, found: dict[str, mapping.SessionRecord], stored: dict[str, Session]
) -> dict[str, Session]:
    event_rows = {record.event_token: record.event for record in found.values()}
    events = upsert_plan(
        Event,
        stored={
            event.upstream_id: event
            for event in Event.objects.for_workspace(pull.workspace).filter(
                upstream_id__in=list(event_rows)
            )
        },
        incoming=event_rows,
        new=lambda key, row: Event(workspace=pull.workspace, **row),
    )
    events.write()
    session_rows = {
        token: {**record.session, "event_id": events.rows[record.event_token].pk}
        for token, record in found.items()
    }
    sessions = upsert_plan(Session, stored=stored, incoming=session_rows)
    sessions.write()
    assignments = {
        (sessions.rows[token].pk, operator_id): {
            "session_id": sessions.rows[token].pk,
            "operator_id": operator_id,
            **fields,
        }
        for token, record in found.items()
        for operator_id, fields in record.operators.items()
    }
    stored_assignments = {
        (assignment.session_id, assignment.operator_id): assignment
        for session in stored.values()
        if session.upstream_id in found
        for assignment in session.session_operators.all()
    }
    operators = upsert_plan(SessionOperator, stored=stored_assignments, incoming=assignments)
    operators.write()
    gone = [key for key in stored_assignments if key not in assignments]
    SessionOperator.objects.filter(pk__in=[stored_assignments[key].pk for key in gone]).delete()
    # A session whose operators changed is an updated session.
    touched = {key[0] for key in gone} | {
        assignment.session_id for assignment in operators.created + operators.changed
    }
    written = {session.pk for session in sessions.created + sessions.changed}
    moved = len(touched - written)
    pull.run.count(**events.counts())
    pull.run.count(
        created=len(sessions.created),
        updated=len(sessions.changed) + moved,
        unchanged=sessions.unchanged - moved,
    )
    return sessions.rows


# --- per session: registrants, surveys, report ------------------------------------------------


def _registrant_counts(sessions: Iterable[Session]) -> dict[int, tuple[int, int]]:
    rows = (
        Registrant.objects.filter(session__in=[session.pk for session in sessions])
        .values("session_id")
        .annotate(registrants=Count("id"), attendees=Count("id", filter=Q(attended=True)))
    )
    return {row["session_id"]: (row["registrants"], row["attendees"]) for row in rows}


def _listed_counts(listed: Listed) -> tuple[int, int] | None:
    try:
        analytics = validate_record(schemas.SessionAnalytics, listed.raw.get("analytics"))
    except RecordError:
        return None
    return analytics["registrants"], analytics["attendees"]


def session_details_pull(
    pull: Pull,
    session: Session,
    listed: Listed,
    stored_counts: tuple[int, int] | None,
) -> None:
    report_due = listed.period == "past" and (
        pull.full
        or session.report_pulled_at is None
        or session.report_pulled_at < session.ends_at + REPORT_SETTLE
    )
    if (
        pull.full
        or report_due
        or listed.period == "current"
        or _listed_counts(listed) != (stored_counts or (0, 0))
    ):
        registrants_pull(pull, session)
    if pull.full or report_due or listed.period != "past":
        surveys = surveys_pull(pull, session)
        if report_due:
            report_pull(pull, session, surveys)


def registrants_pull(pull: Pull, session: Session) -> None:
    pages = pull.client.registrant_pages(session.upstream_id, limit=pull.page_size)
    for page in pages:
        incoming: dict[str, dict] = {}
        for record in pull.valid_page(mapping.PulledRegistrant, page, id_field="email"):
            key = record["email"].lower()
            if key in incoming:
                pull.failed(RecordError("listed twice", upstream_id=record["email"]))
                continue
            incoming[key] = mapping.registrant_row(record)
        with transaction.atomic():
            stored = (
                Registrant.objects.filter(session=session)
                .annotate(email_lower=Lower("email"))
                .filter(email_lower__in=list(incoming))
            )
            plan = upsert_plan(
                Registrant,
                stored={registrant.email_lower: registrant for registrant in stored},
                incoming=incoming,
                new=lambda key, row: Registrant(session=session, **row),
            )
            registrant_contacts_link(workspace=pull.workspace, registrants=plan.created)
            plan.write()
        pull.run.count(**plan.counts())
        pull.run.checkpoint()


def surveys_pull(pull: Pull, session: Session) -> dict[str, Survey]:
    """Upsert the session's surveys; returns them by upstream id."""
    incoming: dict[str, dict] = {}
    raw = pull.client.surveys(session.upstream_id)
    for record in pull.valid(validate_records(mapping.PulledSurvey, raw)):
        try:
            row = mapping.survey_row(record)
        except RecordError as error:
            pull.failed(error)
            continue
        incoming[row["upstream_id"]] = row
    stored = Survey.objects.filter(session=session, upstream_id__in=list(incoming))
    plan = upsert_plan(
        Survey,
        stored={survey.upstream_id: survey for survey in stored},
        incoming=incoming,
        new=lambda key, row: Survey(session=session, **row),
    )
    with transaction.atomic():
        plan.write()
    pull.run.count(**plan.counts())
    return plan.rows


def report_pull(pull: Pull, session: Session, surveys: dict[str, Survey]) -> None:
    """Chat lines and survey responses of the compiled report (its registrants CSV is not
    read: the registrant list has the same rows with their JSON types)."""
    read_at = timezone.now()
    try:
        report = pull.client.compiled_report(session.upstream_id)
    except RecordError as error:
        pull.failed(error)
        return
    failed_before = pull.run.run.failed
    with transaction.atomic():
        registrants = dict(
            Registrant.objects.filter(session=session)
            .annotate(email_lower=Lower("email"))
            .values_list("email_lower", "pk")
        )
        chat = upsert_plan(
            ChatMessage,
            stored=_stored_chat(session),
            incoming=_chat_rows(pull, session, report, registrants),
        )
        answers = upsert_plan(
            SurveyResponse,
            stored={
                (response.survey_id, response.registrant_id): response
                for response in SurveyResponse.objects.filter(survey__session=session)
            },
            incoming=_survey_response_rows(pull, session, report, surveys, registrants),
        )
        chat.write()
        answers.write()
        if pull.run.run.failed == failed_before:
            Session.objects.filter(pk=session.pk).update(report_pulled_at=read_at)
    pull.run.count(**chat.counts())
    pull.run.count(**answers.counts())


def _chat_key(kind: str, sender: int, sent_at, text: str, seen: Counter) -> tuple:
    """Chat lines have no upstream id. Their natural key is who sent what when; the same
    line twice (same sender, millisecond and text) is told apart by its occurrence."""
    base = (kind, sender, sent_at, text)
    seen[base] += 1
    return (*base, seen[base])


def _stored_chat(session: Session) -> dict[tuple, ChatMessage]:
    seen: Counter = Counter()
    return {
        _chat_key(
            message.kind,
            message.registrant_id or message.operator_id,
            message.sent_at,
            message.text,
            seen,
        ): message
        for message in ChatMessage.objects.filter(session=session).order_by("id")
    }


def _chat_rows(
    pull: Pull, session: Session, report: dict, registrants: dict[str, int]
) -> dict[tuple, dict]:
    operators = dict(
        Operator.objects.for_workspace(pull.workspace)
        .annotate(email_lower=Lower("email"))
        .values_list("email_lower", "pk")
    )
    rows: dict[tuple, dict] = {}
    seen: Counter = Counter()
    logs = (
        (ChatMessage.Kind.OPERATOR, "operatorChat", operators, "operator_id"),
        (ChatMessage.Kind.ATTENDEE, "attendeeChat", registrants, "registrant_id"),
    )
    for kind, name, senders, sender_field in logs:
        where = f"{session.upstream_id}:{name}"
        for row in pull.valid(mapping.csv_rows(report[name], where=where)):
            try:
                line = mapping.chat_line(row)
            except RecordError as error:
                pull.failed(error)
                continue
            sender = senders.get(line.sender_email)
            if sender is None:
                message = f"sender {line.sender_email} is not a known {kind} of the session"
                pull.failed(RecordError(message, upstream_id=row["_line"]))
                continue
            rows[_chat_key(kind, sender, line.sent_at, line.text, seen)] = {
                "session_id": session.pk,
                "kind": kind,
                sender_field: sender,
                "sent_at": line.sent_at,
                "text": line.text,
                "is_private": line.is_private,
            }
    return rows


def _survey_response_rows(
    pull: Pull,
    session: Session,
    report: dict,
    surveys: dict[str, Survey],
    registrants: dict[str, int],
) -> dict[tuple, dict]:
    rows: dict[tuple, dict] = {}
    for survey_id, body in report["surveys"].items():
        where = f"{session.upstream_id}:surveys:{survey_id}"
        survey = surveys.get(survey_id)
        if survey is None:
            message = f"survey {survey_id} is not on the session's survey list"
            pull.failed(RecordError(message, upstream_id=where))
            continue
        for row in pull.valid(mapping.csv_rows(body, where=where)):
            try:
                answer = mapping.survey_answer(row)
            except RecordError as error:
                pull.failed(error)
                continue
            registrant = registrants.get(answer.email)
            key = (survey.pk, registrant)
            if registrant is None or key in rows:
                problem = "not a registrant of the session" if registrant is None else "twice"
                pull.failed(RecordError(f"{answer.email}: {problem}", upstream_id=row["_line"]))
                continue
            rows[key] = {
                "survey_id": survey.pk,
                "registrant_id": registrant,
                "answers": answer.answers,
                "submitted_at": answer.submitted_at,
            }
    return rows
