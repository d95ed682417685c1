"""Browser tests: Playwright for Python driving the machine's Chromium (headless, no browser
download) against pytest-django's live server on the test database. Every test's final page
is saved as a screenshot under artifacts/screenshots/ (git-ignored) for reviewers."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

from tests.conftest import ROOT

CHROMIUM = os.environ.get("FLOWSYNC_CHROMIUM", "/usr/bin/chromium")
SCREENSHOTS = ROOT / "artifacts" / "screenshots"
LAPTOP = {"width": 1366, "height": 768}
PASSWORD = "browser-test-password"

# Playwright's sync API runs an event loop in this thread; Django refuses ORM calls from a
# thread with a running loop unless told that this (test-only) use is safe.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Browser:
    if not Path(CHROMIUM).exists():
        pytest.fail(f"Chromium not found at {CHROMIUM} (apt-get install chromium).")
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser: Browser, request) -> Page:
    context = browser.new_context(viewport=LAPTOP, accept_downloads=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^\w.-]+", "_", request.node.nodeid.split("::", 1)[-1])
    page.screenshot(path=SCREENSHOTS / f"{name}.png", full_page=True)
    context.close()


def log_in(page: Page, live_server, user) -> None:
    """Log in through the admin's login form, as a staff member would."""
    user.set_password(PASSWORD)
    user.is_staff = True
    user.save()
    page.goto(f"{live_server.url}/admin/login/?next=/admin/")
    page.fill("input[name=username]", user.email)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit], input[type=submit]")
    page.wait_for_url(f"{live_server.url}/admin/")
