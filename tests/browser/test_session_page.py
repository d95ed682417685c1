"""The webinar session page in a browser: its registrants CSV downloads."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from tests.browser.conftest import log_in
from tests.events.factories import RegistrantFactory, SessionFactory


def test_download_the_registrants_csv_from_the_session_page(page, live_server, cast):
    session = SessionFactory(workspace=cast.workspace, date=dt.date(2026, 5, 5))
    RegistrantFactory(session=session, email="grace@navy.example")
    log_in(page, live_server, cast.owner.user)
    page.goto(f"{live_server.url}/admin/events/session/{session.pk}/change/")

    with page.expect_download() as download_info:
        page.click("#session-reports >> text=Registrants")
    download = download_info.value

    assert download.suggested_filename == f"{session.token}-registrants.csv"
    assert "grace@navy.example" in Path(download.path()).read_text(encoding="utf-8")
