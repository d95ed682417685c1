"""SSRF: staff-typed upstream URLs cannot reach loopback, private or reserved addresses, not
by redirect nor by DNS changing between the check and the connection, and nothing an
internal service answers is shown or stored."""

from __future__ import annotations

import socket
import threading

import pytest
from django.core.exceptions import ValidationError

from syncing import errors
from syncing.models import Connection
from syncing.services import connection_client, connection_create, connection_test
from tests.syncing.conftest import ADMIN_API_KEY
from tests.syncing.fakes.server import FakeUpstream

pytestmark = pytest.mark.django_db

REFUSED_URLS = [
    "http://127.0.0.1:8000",
    "http://localhost",
    "http://[::1]/api",
    "http://0.0.0.0",
    "http://169.254.169.254/latest/meta-data",
    "http://10.1.2.3",
    "http://192.168.0.10:8080",
    "http://100.64.0.1",
    "http://224.0.0.1",
    "http://[::ffff:127.0.0.1]",
    "http://[fe80::1]",
    "http://[fc00::1]",
    "http://[2002:7f00:1::]",
    "http://[64:ff9b::a00:1]",
    "http://2130706433",
    "ftp://files.example.com",
    "file:///etc/passwd",
]


@pytest.fixture
def no_private_upstreams(settings):
    settings.SYNC_UPSTREAM_ALLOWED_NETWORKS = []


class RecordingUpstream(FakeUpstream):
    """Answers ``replies[path]`` and records the headers of every request."""

    auth_header = "x-flowla-api-key"

    def __init__(self, replies: dict):
        super().__init__(api_key=ADMIN_API_KEY)
        self.replies = replies
        self.seen_keys: list[str | None] = []

    def authorized(self, method, path, headers) -> bool:
        self.seen_keys.append(headers.get(self.auth_header))
        return True

    def route(self, method, path, query, body):
        return self.replies.get(path, (404, {"message": "no such path"}))


@pytest.fixture
def upstreams():
    started: list[RecordingUpstream] = []

    def start(replies: dict) -> RecordingUpstream:
        fake = RecordingUpstream(replies).start()
        started.append(fake)
        return fake

    yield start
    for fake in started:
        fake.stop()


def rooms_connection_at(workspace, base_url: str) -> Connection:
    return connection_create(
        workspace=workspace,
        provider=Connection.Provider.ROOMS_PLATFORM,
        name="Internal",
        base_url=base_url,
        api_key=ADMIN_API_KEY,
        options={"requests_per_second": 100, "burst": 100},
    )


@pytest.mark.usefixtures("no_private_upstreams")
@pytest.mark.parametrize("url", REFUSED_URLS)
def test_a_connection_to_a_private_address_or_another_scheme_is_refused(workspace, url):
    with pytest.raises(ValidationError) as caught:
        rooms_connection_at(workspace, url)

    assert "base_url" in caught.value.message_dict
    assert not Connection.objects.exists()


@pytest.mark.usefixtures("no_private_upstreams")
def test_the_admin_form_refuses_a_loopback_base_url(client, staff):
    client.force_login(staff.owner.user)
    response = client.post(
        "/admin/syncing/connection/add/",
        {
            "workspace": staff.workspace.pk,
            "provider": "rooms_platform",
            "name": "Sneaky",
            "base_url": "http://127.0.0.1:6379",
            "api_key": "k",
            "options": "{}",
        },
    )

    assert response.status_code == 200
    assert "loopback, private, link-local or reserved" in response.content.decode()
    assert not Connection.objects.filter(name="Sneaky").exists()


def test_allowed_networks_let_an_on_premise_upstream_in(workspace, settings):
    settings.SYNC_UPSTREAM_ALLOWED_NETWORKS = ["10.20.0.0/16"]

    assert rooms_connection_at(workspace, "http://10.20.3.4:8080").base_url
    with pytest.raises(ValidationError):
        rooms_connection_at(workspace, "http://10.21.0.1")


def test_a_stored_private_url_is_refused_when_connecting(
    workspace, rooms_fake, no_private_upstreams, settings
):
    settings.SYNC_UPSTREAM_ALLOWED_NETWORKS = ["127.0.0.1/32"]
    connection = rooms_connection_at(workspace, rooms_fake.url)
    settings.SYNC_UPSTREAM_ALLOWED_NETWORKS = []

    result = connection_test(connection=connection)

    assert not result.ok
    assert "loopback, private or reserved" in result.detail
    assert rooms_fake.requests == []


def test_the_connection_goes_to_the_address_that_was_checked(
    workspace, rooms_fake, monkeypatch, settings
):
    """DNS rebinding: the name resolves to the allowed fake once, then elsewhere. The call
    must reach the fake, i.e. connect to the checked address without a second lookup."""
    rooms_fake.api_key = ADMIN_API_KEY
    port = int(rooms_fake.url.rsplit(":", 1)[1])
    connection = rooms_connection_at(workspace, f"http://upstream.example:{port}")
    real_getaddrinfo = socket.getaddrinfo
    answers = iter(["127.0.0.1"])

    def rebinding_dns(host, *args, **kwargs):
        if host == "upstream.example":
            # After the first answer, a TEST-NET address nothing listens on.
            return real_getaddrinfo(next(answers, "192.0.2.1"), *args, **kwargs)
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", rebinding_dns)
    settings.SYNC_HTTP_RETRIES = 0

    client = connection_client(connection)
    assert client.statuses() is not None
    assert rooms_fake.count("GET", "/api/v2/statuses") == 1


def test_a_name_with_one_refused_address_is_refused(workspace, monkeypatch, settings):
    connection = rooms_connection_at(workspace, "http://mixed.example")
    real_getaddrinfo = socket.getaddrinfo

    def two_answers(host, *args, **kwargs):
        if host == "mixed.example":
            return real_getaddrinfo("93.184.216.34", *args, **kwargs) + real_getaddrinfo(
                "127.0.0.1", *args, **kwargs
            )
        return real_getaddrinfo(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", two_answers)
    settings.SYNC_UPSTREAM_ALLOWED_NETWORKS = []

    with pytest.raises(errors.PermanentError, match="loopback, private or reserved"):
        connection_client(connection).statuses()


def test_a_redirect_to_another_origin_is_not_followed_and_gets_no_key(workspace, upstreams):
    elsewhere = upstreams({"/steal": (200, [])})
    upstream = upstreams({"/api/v2/statuses": (302, {}, {"Location": f"{elsewhere.url}/steal"})})
    connection = rooms_connection_at(workspace, upstream.url)

    with pytest.raises(errors.PermanentError, match="HTTP 302"):
        connection_client(connection).statuses()

    assert elsewhere.requests == []


def test_a_redirect_within_the_origin_is_followed(workspace, upstreams):
    upstream = upstreams(
        {
            "/api/v2/statuses": (301, {}, {"Location": "/api/v3/statuses"}),
            "/api/v3/statuses": (200, [{"id": "open", "title": "Open"}]),
        }
    )
    connection = rooms_connection_at(workspace, upstream.url)

    assert connection_client(connection).statuses()
    assert upstream.seen_keys == [ADMIN_API_KEY, ADMIN_API_KEY]


def test_an_upstream_body_is_neither_shown_nor_stored(workspace, upstreams):
    page = "<html>internal admin console: db password hunter2</html>"
    upstream = upstreams({"/api/v2/statuses": (500, page)})
    connection = rooms_connection_at(workspace, upstream.url)

    result = connection_test(connection=connection)

    connection.refresh_from_db()
    assert not result.ok
    assert "HTTP 500" in result.detail
    assert "hunter2" not in result.detail
    assert "hunter2" not in connection.status_detail


def test_an_upstream_error_code_is_kept(workspace, upstreams):
    upstream = upstreams({"/api/v2/statuses": (400, {"error": "invalid_grant", "x": "secret"})})
    connection = rooms_connection_at(workspace, upstream.url)

    result = connection_test(connection=connection)

    assert result.detail.endswith("HTTP 400 invalid_grant")


def test_closed_and_open_ports_fail_alike(workspace, settings):
    settings.SYNC_HTTP_RETRIES = 0
    settings.SYNC_HTTP_READ_TIMEOUT = 0.2
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    closed_port = closed.getsockname()[1]
    closed.close()
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen()

    def accept_and_hang_up():
        peer, _ = listener.accept()
        peer.recv(1024)
        peer.close()

    threading.Thread(target=accept_and_hang_up, daemon=True).start()
    open_port = listener.getsockname()[1]
    details = []
    for port in (closed_port, open_port):
        connection = rooms_connection_at(workspace, f"http://127.0.0.1:{port}")
        details.append(connection_test(connection=connection).detail)
        connection.delete()
    listener.close()

    assert details[0] == details[1]
