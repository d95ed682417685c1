"""The webinar platform's state as the pull must mirror it, computed from the fake's own
records (not from the pull's code), and the same view of the local database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from zoneinfo import ZoneInfo

from events.models import ChatMessage, Operator, Registrant, Session, Survey, SurveyResponse
from tests.syncing.fakes.webinar_platform import FakeWebinarPlatform

SESSION_FIELDS = (
    "published",
    "videoRecord",
    "onDemandReplays",
    "privatizeChat",
    "emailMessage",
    "hasQnA",
    "useAdvancedQna",
    "qnaPublicByDefault",
    "redirectUrl",
    "reminderOne",
    "reminderTwo",
    "hasRecording",
    "refSources",
    "questions",
)
LOCAL_SESSION_FIELDS = (
    "published",
    "video_record",
    "on_demand_replays",
    "privatize_chat",
    "email_message",
    "has_qna",
    "use_advanced_qna",
    "qna_public_by_default",
    "redirect_url",
    "reminder_one",
    "reminder_two",
    "has_recording",
    "ref_sources",
    "questions",
)


def moment(value: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if value else None


def _window(session: dict) -> tuple:
    local = dt.datetime.fromisoformat(f"{session['date']}T{session['time']}")
    starts = local.replace(tzinfo=ZoneInfo(session["timezone"])).astimezone(dt.UTC)
    opens = starts - dt.timedelta(minutes=session["earlyAccessPeriod"])
    return starts, opens, starts + dt.timedelta(hours=session["duration"])


def expected(fake: FakeWebinarPlatform) -> dict:
    """Every row the fake's state stands for; sessions must carry every field."""
    operators = {o["id"]: o for o in fake.operators}
    state: dict = {
        "operators": {
            str(o["id"]): (o["email"], o["firstName"], o["lastName"], o["permission"])
            for o in fake.operators
        },
        "events": {},
        "sessions": {},
        "registrants": {},
        "surveys": {},
        "responses": {},
        "chat": [],
    }
    for token, s in fake.sessions.items():
        state["events"][s["eventToken"]] = (
            s["title"],
            s["description"],
            operators[s["creator"]["id"]]["email"],
            moment(s["createDate"]),
        )
        state["sessions"][token] = (
            s["eventToken"],
            dt.date.fromisoformat(s["date"]),
            dt.time.fromisoformat(s["time"]),
            s["timezone"],
            Decimal(str(s["duration"])),
            s["earlyAccessPeriod"],
            *(s[name] for name in SESSION_FIELDS),
            *_window(s),
            sorted(
                (
                    operators[o["id"]]["email"],
                    o["role"],
                    o["micEnabled"],
                    o["camEnabled"],
                    o["screenSharingEnabled"],
                )
                for o in s["operators"]
            ),
        )
        for r in fake.registrants[token]:
            state["registrants"][(token, r["email"].lower())] = (
                r["email"],
                r["firstName"],
                r["lastName"],
                r["answers"],
                moment(r["registeredAt"]),
                r["attended"],
                moment(r["joinedAt"]),
                moment(r["leftAt"]),
                r["minutesWatched"],
            )
        for survey in fake.surveys[token]:
            state["surveys"][(token, str(survey["id"]))] = (
                survey["title"],
                survey["questions"],
                moment(survey["createdAt"]),
            )
            for response in fake.survey_responses[str(survey["id"])]:
                answered = {q: a for q, a in response["answers"].items() if a != ""}
                key = (token, str(survey["id"]), response["email"].lower())
                state["responses"][key] = (answered, moment(response["submittedAt"]))
        state["chat"] += [
            (
                token,
                line["kind"],
                line["senderEmail"].lower(),
                moment(line["sentAt"]),
                line["message"],
                line["private"],
            )
            for line in fake.chats[token]
        ]
    state["chat"].sort()
    return state


def local(workspace) -> dict:
    state: dict = {
        "operators": {
            o.upstream_id: (o.email, o.first_name, o.last_name, o.permission)
            for o in Operator.objects.for_workspace(workspace)
        },
        "events": {},
        "sessions": {},
    }
    sessions = Session.objects.for_workspace(workspace).select_related("event__creator")
    for s in sessions.prefetch_related("session_operators__operator"):
        event = s.event
        state["events"][event.upstream_id] = (
            event.title,
            event.description,
            event.creator.email,
            event.created_at,
        )
        state["sessions"][s.upstream_id] = (
            event.upstream_id,
            s.date,
            s.time,
            s.timezone,
            s.duration,
            s.early_access_period,
            *(getattr(s, name) for name in LOCAL_SESSION_FIELDS),
            s.starts_at,
            s.opens_at,
            s.ends_at,
            sorted(
                (
                    so.operator.email,
                    so.role,
                    so.mic_enabled,
                    so.cam_enabled,
                    so.screen_sharing_enabled,
                )
                for so in s.session_operators.all()
            ),
        )
    state["registrants"] = {
        (r.session.upstream_id, r.email.lower()): (
            r.email,
            r.first_name,
            r.last_name,
            r.answers,
            r.registered_at,
            r.attended,
            r.joined_at,
            r.left_at,
            r.minutes_watched,
        )
        for r in Registrant.objects.for_workspace(workspace).select_related("session")
    }
    state["surveys"] = {
        (s.session.upstream_id, s.upstream_id): (s.title, s.questions, s.created_at)
        for s in Survey.objects.for_workspace(workspace).select_related("session")
    }
    responses = SurveyResponse.objects.filter(survey__session__event__workspace=workspace)
    state["responses"] = {
        (r.survey.session.upstream_id, r.survey.upstream_id, r.registrant.email.lower()): (
            r.answers,
            r.submitted_at,
        )
        for r in responses.select_related("survey__session", "registrant")
    }
    messages = ChatMessage.objects.filter(session__event__workspace=workspace)
    state["chat"] = sorted(
        (
            m.session.upstream_id,
            m.kind,
            (m.registrant or m.operator).email.lower(),
            m.sent_at,
            m.text,
            m.is_private,
        )
        for m in messages.select_related("session", "registrant", "operator")
    )
    return state


def row_count(state: dict) -> int:
    return sum(len(rows) for rows in state.values())
