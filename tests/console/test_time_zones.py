"""The console shows every time in the staff member's zone (their own, else their workspace's
default, else UTC) with the zone beside it; staff set their zone on their profile page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone

from syncing.models import Connection, SyncRun
from tests.events.factories import RegistrantFactory, SessionFactory
from tests.rooms.factories import RoomFactory
from workspaces.models import WorkerHeartbeat, Workspace

pytestmark = pytest.mark.django_db

# 23:30 UTC on 5 December is 08:30 on 6 December in Tokyo and 18:30 on the 5th in New York.
LATE_EVENING = dt.datetime(2026, 12, 5, 23, 30, tzinfo=dt.UTC)
IN_UTC = "5 Dec 2026, 23:30 UTC"
IN_TOKYO = "6 Dec 2026, 08:30 JST"
IN_NEW_YORK = "5 Dec 2026, 18:30 EST"


@pytest.fixture
def run(cast):
    connection = Connection.objects.create(
        workspace=cast.workspace,
        provider=Connection.Provider.ROOMS_PLATFORM,
        name="Rooms",
        base_url="http://127.0.0.1:9/",
    )
    return SyncRun.objects.create(
        workspace=cast.workspace,
        connection=connection,
        stream="rooms",
        trigger=SyncRun.Trigger.MANUAL,
        status=SyncRun.Status.SUCCEEDED,
        started_at=LATE_EVENING,
        finished_at=LATE_EVENING,
    )


def staff_client(client, user, time_zone=""):
    user.is_staff = True
    user.time_zone = time_zone
    user.save()
    client.force_login(user)
    return client


def page(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_late_evening_run_shows_the_next_day_in_tokyo(client, cast, run):
    staff = staff_client(client, cast.owner.user, "Asia/Tokyo")

    runs_list = page(staff, reverse("admin:syncing_syncrun_changelist"))
    run_page = page(staff, reverse("admin:syncing_syncrun_change", args=[run.pk]))
    dashboard = page(staff, reverse("admin:index"))

    assert IN_TOKYO in runs_list
    assert IN_UTC not in runs_list
    # The read-only fields and the progress panel ("ended ...") of the run page.
    assert run_page.count("6 Dec 2026, 08:30") >= 3
    assert "ended 6 Dec 2026, 08:30:00 JST" in run_page
    assert f"rooms of {run.connection_id} at {IN_TOKYO}" in run_page  # its title
    # The dashboard's sync health: the connection's last run.
    assert IN_TOKYO in dashboard


def test_without_a_zone_times_show_in_utc_with_the_zone_written(client, cast, run):
    staff = staff_client(client, cast.owner.user)
    assert IN_UTC in page(staff, reverse("admin:syncing_syncrun_changelist"))


def test_the_workspace_default_applies_when_the_staff_member_sets_none(client, cast, run):
    cast.workspace.default_time_zone = "America/New_York"
    cast.workspace.save()
    staff = staff_client(client, cast.owner.user)
    assert IN_NEW_YORK in page(staff, reverse("admin:syncing_syncrun_changelist"))


def test_the_staff_members_own_zone_wins_over_the_workspace_default(client, cast, run):
    cast.workspace.default_time_zone = "America/New_York"
    cast.workspace.save()
    staff = staff_client(client, cast.owner.user, "Asia/Tokyo")
    assert IN_TOKYO in page(staff, reverse("admin:syncing_syncrun_changelist"))


def test_another_workspaces_default_is_never_used(client, cast, run):
    cast.other_workspace.default_time_zone = "Asia/Tokyo"
    cast.other_workspace.save()
    staff = staff_client(client, cast.owner.user)
    assert IN_UTC in page(staff, reverse("admin:syncing_syncrun_changelist"))


def test_a_superuser_in_no_workspace_gets_utc_whatever_the_workspaces_say(client, cast, run):
    cast.workspace.default_time_zone = "Asia/Tokyo"
    cast.workspace.save()
    superuser = cast.owner.user.__class__.objects.create_superuser("root@x.example", "pw")
    client.force_login(superuser)
    assert IN_UTC in page(client, reverse("admin:syncing_syncrun_changelist"))


@pytest.mark.parametrize("stored", ["Nowhere/Zone", "../etc/passwd"])
def test_a_stored_zone_the_machine_does_not_know_shows_utc(client, cast, run, stored):
    staff = staff_client(client, cast.owner.user)
    type(cast.owner.user).objects.filter(pk=cast.owner.user.pk).update(time_zone=stored)
    assert IN_UTC in page(staff, reverse("admin:syncing_syncrun_changelist"))


def test_the_api_keeps_utc_for_a_staff_member_with_a_zone(client, cast, run):
    staff = staff_client(client, cast.owner.user, "Asia/Tokyo")
    response = staff.get(f"/api/sync/runs/{run.pk}")
    assert response.status_code == 200, response.content
    assert response.json()["startedAt"].startswith("2026-12-05T23:30:00")


def test_sessions_show_the_organizers_zone_and_the_staff_members(client, cast):
    session = SessionFactory(
        workspace=cast.workspace,
        date=dt.date(2026, 5, 5),
        time=dt.time(16),
        timezone="Europe/Berlin",
    )
    staff = staff_client(client, cast.owner.user, "Asia/Tokyo")

    sessions_list = page(staff, reverse("admin:events_session_changelist"))
    session_page = page(staff, reverse("admin:events_session_change", args=[session.pk]))

    assert "2026-05-05 16:00 Europe/Berlin (5 May 2026, 23:00 JST)" in sessions_list
    assert "2026-05-05 16:00 Europe/Berlin (5 May 2026, 23:00 JST)" in session_page


def test_worker_liveness_on_the_dashboard_is_in_the_staff_members_zone(client, cast):
    WorkerHeartbeat.objects.create(hostname="w1", seen_at=LATE_EVENING)
    staff = staff_client(client, cast.owner.user, "Asia/Tokyo")
    assert f"last heartbeat {IN_TOKYO}" in page(staff, reverse("admin:index"))


def test_the_user_menu_links_to_the_profile_where_staff_set_their_zone(client, cast):
    user = cast.member.user
    staff = staff_client(client, user)
    profile = reverse("admin:workspaces_user_change", args=[user.pk])
    assert f'href="{profile}"' in page(staff, reverse("admin:index"))
    form = page(staff, profile)
    # The field suggests the IANA names as one types.
    assert 'list="id_time_zone-choices"' in form
    assert '<datalist id="id_time_zone-choices">' in form
    assert '<option value="Asia/Tokyo">' in form

    response = staff.post(
        profile, {"full_name": "Mia Member", "job_title": "AE", "time_zone": "Asia/Tokyo"}
    )

    assert response.status_code == 302
    assert response["Location"] == profile  # back to the profile, not the users list
    user.refresh_from_db()
    assert (user.full_name, user.time_zone) == ("Mia Member", "Asia/Tokyo")


@pytest.mark.parametrize("bad", ["Mars/Olympus", "localtime", "+09:00", "asia/tokyo"])
def test_an_unknown_zone_is_refused_with_a_form_error(client, cast, bad):
    user = cast.member.user
    staff = staff_client(client, user)
    profile = reverse("admin:workspaces_user_change", args=[user.pk])

    response = staff.post(profile, {"full_name": "", "job_title": "", "time_zone": bad})

    assert response.status_code == 200
    assert f"“{bad}” is not a time zone" in response.content.decode()
    user.refresh_from_db()
    assert user.time_zone == ""


def test_staff_change_only_their_own_profile_and_not_a_password_there(client, cast):
    staff = staff_client(client, cast.member.user)
    other = cast.owner.user

    response = staff.post(
        reverse("admin:workspaces_user_change", args=[other.pk]),
        {"full_name": "Hacked", "job_title": "", "time_zone": "UTC"},
    )
    password = staff.post(
        reverse("admin:auth_user_password_change", args=[cast.member.user.pk]),
        {"password1": "new-password-123", "password2": "new-password-123"},
    )

    assert response.status_code == 403
    other.refresh_from_db()
    assert other.full_name != "Hacked"
    assert password.status_code == 403


def test_staff_cannot_grant_themselves_access_from_their_profile(client, cast):
    user = cast.member.user
    staff = staff_client(client, user)
    staff.post(
        reverse("admin:workspaces_user_change", args=[user.pk]),
        {"full_name": "", "job_title": "", "time_zone": "UTC", "is_superuser": "on"},
    )
    user.refresh_from_db()
    assert user.time_zone == "UTC"
    assert user.is_superuser is False


def test_owners_set_the_workspace_default_on_the_workspace_page(client, cast):
    staff = staff_client(client, cast.owner.user)
    html = page(staff, reverse("admin:workspaces_workspace_change", args=[cast.workspace.pk]))
    assert 'name="default_time_zone"' in html
    assert '<datalist id="id_default_time_zone-choices">' in html


def test_a_workspace_default_zone_is_validated():
    with pytest.raises(ValidationError, match="is not a time zone"):
        Workspace(name="W", slug="w", default_time_zone="Europe/Atlantis").full_clean()
    Workspace(name="W", slug="w", default_time_zone="Europe/Paris").full_clean()


def test_day_charts_stay_utc_days_and_say_so(client, cast):
    room = RoomFactory(workspace=cast.workspace)
    session = SessionFactory(workspace=cast.workspace)
    RegistrantFactory(session=session)
    staff = staff_client(client, cast.owner.user, "Asia/Tokyo")

    assert "(UTC days)" in page(staff, reverse("admin:index"))
    assert "per UTC day" in page(staff, reverse("admin:rooms_room_change", args=[room.pk]))
    session_page = page(staff, reverse("admin:events_session_change", args=[session.pk]))
    assert "(UTC days)" in session_page
    assert timezone.get_current_timezone_name() == "UTC"
