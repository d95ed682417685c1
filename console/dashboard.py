"""The console's home dashboard (unfold's DASHBOARD_CALLBACK): the staff member's workspace
(chosen with ``?workspace=<slug>`` when they belong to several), the period (``?days=`` or
``?start=&end=``, see console.periods) and every figure, each from the same function as the
API that serves it."""

from __future__ import annotations

from datetime import UTC, timedelta

from django.contrib import messages
from django.utils import timezone

from console.charts import line_chart
from console.periods import DEFAULT_DAYS, PRESET_DAYS, PeriodQuerySerializer, period_from
from events.dashboard import webinars_dashboard
from insights.chat_analytics import insights_metrics, insights_top_flows
from insights.periods import TimeRange, series_build
from insights.workspace_analytics import workspace_analytics
from rooms.dashboard import Period, rooms_dashboard
from syncing.alerts import ALERTING_STATUSES
from syncing.health import sync_health
from workspaces.models import Workspace

TOP_FLOWS = 5


def dashboard_workspaces(user) -> list[Workspace]:
    """The workspaces the dashboard can show: the user's (every one for a superuser)."""
    workspaces = Workspace.objects.order_by("name", "pk")
    if not user.is_superuser:
        workspaces = workspaces.filter(memberships__user=user)
    return list(workspaces)


def _chosen(workspaces: list[Workspace], slug: str | None) -> Workspace | None:
    return next((w for w in workspaces if w.slug == slug), workspaces[0] if workspaces else None)


def _period(request) -> tuple[Period, int | None]:
    """The asked period and its preset (None for a custom one); the default when invalid."""
    serializer = PeriodQuerySerializer(data=request.GET)
    params = serializer.validated_data if serializer.is_valid() else {}
    if serializer.errors:
        messages.error(request, "That period is not valid; showing the last 30 days instead.")
    preset = None if "start" in params else params.get("days", DEFAULT_DAYS)
    return period_from(params, today=timezone.now().date()), preset


def _charts(rooms: dict, webinars: dict, chat: dict) -> dict[str, str]:
    days = [point["date"] for point in rooms["timeline"]]
    return {
        "room_engagement": line_chart(
            days,
            {
                "Views": [point["views"] for point in rooms["timeline"]],
                "Engagements": [point["engagements"] for point in rooms["timeline"]],
            },
        ),
        "registrations": line_chart(
            days,
            {"Registrations": [p["registrations"] for p in webinars["registrations_timeline"]]},
        ),
        "chat": line_chart(
            [point["label"] for point in chat["metrics"]],
            {
                "Messages received": [p["received_messages"] for p in chat["metrics"]],
                "Active users": [p["active_users"] for p in chat["metrics"]],
            },
        ),
    }


def dashboard_context(request) -> dict:
    workspaces = dashboard_workspaces(request.user)
    workspace = _chosen(workspaces, request.GET.get("workspace"))
    period, preset = _period(request)
    context = {
        "workspaces": workspaces,
        "workspace": workspace,
        "period": period,
        "period_last_day": period.end - timedelta(days=1),
        "preset_days": PRESET_DAYS,
        "chosen_days": preset,
    }
    if workspace is None:
        return context
    now = timezone.now()
    start, end = period.bounds
    time_range = TimeRange(start=start, end=end)
    rooms = rooms_dashboard(workspace=workspace, period=period, today=now.date())
    sync = sync_health(workspace=workspace, now=now)
    webinars = webinars_dashboard(workspace=workspace, period=period, now=now)
    chat = insights_metrics(
        workspace=workspace, series=series_build(time_range=time_range, tz=UTC, unit="day")
    )
    return {
        **context,
        "rooms": rooms,
        "webinars": webinars,
        "chat": chat,
        "top_flows": insights_top_flows(
            workspace=workspace, time_range=time_range, limit=TOP_FLOWS
        ),
        "workspace_analytics": workspace_analytics(workspace=workspace, today=now.date()),
        "sync": sync,
        "sync_alerts": [row for row in sync["connections"] if row["status"] in ALERTING_STATUSES],
        "charts": _charts(rooms, webinars, chat),
    }


def dashboard_callback(request, context: dict) -> dict:
    # "Dashboard", not Django's "Site administration", in the header and the window title.
    return {**context, "title": "Dashboard", **dashboard_context(request)}
