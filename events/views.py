"""The page a personal login link opens (outside the API: a plain HTML page)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from events.login_links import LoginLinkExpired, LoginLinkInvalid, login_token_registrant
from events.timing import AccessStatus, access_status

ACCESS_STATES = {
    AccessStatus.TOO_EARLY: "Not open yet",
    AccessStatus.OPEN: "Open now",
    AccessStatus.CLOSED: "Ended",
}


def _error(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    context = {"title": title, "message": message}
    return render(request, "events/join_error.html", context, status=status)


@require_GET
def join(request: HttpRequest, token: str) -> HttpResponse:
    try:
        registrant = login_token_registrant(token)
    except LoginLinkExpired:
        return _error(
            request,
            410,
            "This link has expired",
            "Register again with the same email address to receive a new link.",
        )
    except LoginLinkInvalid:
        return _error(
            request,
            400,
            "This link is not valid",
            "The link is incomplete or was changed. Use the link you received when you registered.",
        )
    session = registrant.session
    if not session.published:
        return _error(
            request, 404, "This session is not available", "The organizer unpublished it."
        )
    status = access_status(opens_at=session.opens_at, ends_at=session.ends_at, now=timezone.now())
    context = {
        "registrant": registrant,
        "session": session,
        "event": session.event,
        "access_status": int(status),
        "access_state": ACCESS_STATES[status],
        "replay": status is AccessStatus.CLOSED and session.on_demand_replays,
    }
    return render(request, "events/join.html", context)
