"""django-celery-beat's pages in the console: drawn with unfold's widgets and sidebar, still
editing schedules as beat's admin does, and still closed to staff without beat's permissions."""

from __future__ import annotations

import re

import pytest
from django_celery_beat.models import IntervalSchedule, PeriodicTask

from tests.factories import UserFactory

BEAT_PAGES = [
    "/admin/django_celery_beat/periodictask/",
    "/admin/django_celery_beat/intervalschedule/",
    "/admin/django_celery_beat/crontabschedule/",
    "/admin/django_celery_beat/clockedschedule/",
    "/admin/django_celery_beat/solarschedule/",
]


@pytest.fixture
def superuser_client(db, client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_the_task_form_uses_unfolds_widgets(superuser_client):
    page = superuser_client.get("/admin/django_celery_beat/periodictask/add/").content.decode()

    # Beat's own form declares these two fields; the stock admin draws them without a class.
    [regtask] = re.findall(r'<select[^>]*name="regtask"[^>]*>', page)
    [task] = re.findall(r'<input[^>]*name="task"[^>]*>', page)
    assert "appearance-none" in regtask
    assert "rounded-default" in task


def test_a_schedule_and_a_task_are_created_through_the_pages(superuser_client):
    response = superuser_client.post(
        "/admin/django_celery_beat/intervalschedule/add/",
        {
            "every": "5",
            "period": "minutes",
            "periodictask_set-TOTAL_FORMS": "0",
            "periodictask_set-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    interval = IntervalSchedule.objects.get(every=5, period="minutes")

    response = superuser_client.post(
        "/admin/django_celery_beat/periodictask/add/",
        {
            "name": "nightly check",
            "regtask": "",
            "task": "workspaces.worker_heartbeat",
            "enabled": "on",
            "interval": str(interval.pk),
            "args": "[]",
            "kwargs": "{}",
            "headers": "{}",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    task = PeriodicTask.objects.get(name="nightly check")
    assert task.interval == interval

    page = superuser_client.get(
        f"/admin/django_celery_beat/intervalschedule/{interval.pk}/change/"
    ).content.decode()
    assert "nightly check" in page


@pytest.mark.parametrize("url", BEAT_PAGES)
def test_every_beat_page_is_in_the_sync_group_of_the_sidebar(superuser_client, url):
    page = superuser_client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    sync, access = (
        re.search(rf"<h2[^>]*>\s*{group}\s", html).start() for group in ("Sync", "Access")
    )
    assert sync < html.index(f'href="{url}"') < access


def test_staff_without_beats_permissions_neither_see_nor_open_the_pages(cast):
    cast.owner.user.is_staff = True
    cast.owner.user.save()
    client = cast.owner.session_client()

    html = client.get("/admin/").content.decode()
    for url in BEAT_PAGES:
        assert url not in html
        assert client.get(url).status_code == 403
