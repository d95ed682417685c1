"""The machinery every fake upstream shares: a real HTTP server on 127.0.0.1 in a thread, an
auth header check, a request log, and faults that can be switched on per request.

``delay`` makes every answer (faults and refusals included) take that long, as a real
upstream's round trip does; ``in_flight`` and ``max_in_flight`` count the requests being
answered now and the most at once (how many a client overlaps).

Faults (``inject`` for the next matching requests, ``fault_rate`` for random ones):
    "429"            429 with ``Retry-After: <retry_after seconds>``
    "429-date"       429 with ``Retry-After: <HTTP date retry_after seconds ahead>``
    "429-bare"       429 without Retry-After
    "500", "503"     that status, nothing applied
    "timeout"        answers only after ``slow_seconds`` (longer than the client's read timeout)
    "malformed"      200 with a body that is not JSON
    "lost"           applies the request, then closes the connection without answering

A subclass sets ``auth_header`` (or overrides ``authorized``) and implements
``route(method, path, query, body)`` returning ``(status, body)`` or ``(status, body, headers)``;
``body`` is parsed JSON, or a dict for a form-encoded body.
"""

from __future__ import annotations

import json
import random
import socket
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Self
from urllib.parse import parse_qs, urlsplit

FORM = "application/x-www-form-urlencoded"


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@dataclass
class Fault:
    kind: str
    method: str | None = None
    path: str | None = None
    times: int = 1
    # Only that path, not the paths it begins (a list, not its items' details).
    exact: bool = False

    def matches(self, method: str, path: str) -> bool:
        if self.method not in (None, method):
            return False
        if self.path is None:
            return True
        return path == self.path if self.exact else path.startswith(self.path)


class FakeUpstream:
    auth_header: str

    def __init__(self, *, api_key: str, seed: int = 7):
        self.api_key = api_key
        self.requests: list[tuple[str, str]] = []
        self.faults: deque[Fault] = deque()
        self.fault_rate = 0.0
        self.fault_kinds: tuple[str, ...] = ("503",)
        self.fault_methods: tuple[str, ...] = ("GET", "POST", "PATCH")
        self.retry_after = 1
        self.slow_seconds = 1.5
        self.delay = 0.0
        self.in_flight = 0
        self.max_in_flight = 0
        self.faults_served: list[str] = []
        self._rng = random.Random(seed)
        self._lock = threading.RLock()
        self._request_counter = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.server.daemon_threads = True
        # A short poll interval: stop() waits for the loop to notice, once per test.
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def inject(
        self,
        kind: str,
        *,
        times: int = 1,
        method: str | None = None,
        path=None,
        exact: bool = False,
    ) -> None:
        with self._lock:
            self.faults.append(Fault(kind=kind, method=method, path=path, times=times, exact=exact))

    def count(self, method: str, path_prefix: str = "") -> int:
        return sum(1 for m, p in self.requests if m == method and p.startswith(path_prefix))

    def take_fault(self, method: str, path: str) -> str | None:
        with self._lock:
            for fault in self.faults:
                if fault.matches(method, path):
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
                    self.faults_served.append(fault.kind)
                    return fault.kind
            if method in self.fault_methods and self._rng.random() < self.fault_rate:
                kind = self._rng.choice(self.fault_kinds)
                self.faults_served.append(kind)
                return kind
        return None

    def authorized(self, method: str, path: str, headers) -> bool:
        """Whether the request carries the credentials; fakes with token endpoints override."""
        return headers.get(self.auth_header) == self.api_key

    def next_request_id(self) -> str:
        with self._lock:
            self._request_counter += 1
            return f"req-{self._request_counter}"


def _handler_for(fake: FakeUpstream) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def setup(self):
            super().setup()
            # Headers and body go out in separate writes; without this, delayed ACKs add
            # 40 ms to every response.
            self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

        def log_message(self, format, *args):
            pass

        def do_GET(self):
            self._serve("GET")

        def do_POST(self):
            self._serve("POST")

        def do_PATCH(self):
            self._serve("PATCH")

        def do_DELETE(self):
            self._serve("DELETE")

        def _send(self, status: int, body: bytes, headers: dict | None = None) -> None:
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("x-request-id", fake.next_request_id())
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True

        def _json(self, status: int, body, headers: dict | None = None) -> None:
            self._send(status, json.dumps(body).encode(), headers)

        def _fault_reply(self, fault: str) -> bool:
            """Answer for the fault if it replaces the answer; True when answered."""
            if fault.startswith("429"):
                headers = {}
                if fault == "429":
                    headers["Retry-After"] = str(fake.retry_after)
                elif fault == "429-date":
                    moment = datetime.now(UTC) + timedelta(seconds=fake.retry_after)
                    headers["Retry-After"] = format_datetime(moment, usegmt=True)
                self._json(429, {"message": "Too many requests"}, headers)
                return True
            if fault in ("500", "503"):
                self._json(int(fault), {"message": "Upstream trouble"})
                return True
            if fault == "timeout":
                threading.Event().wait(fake.slow_seconds)
            if fault == "malformed":
                self._send(200, b'{"results": [ {"id": "trunc')
                return True
            return False

        def _serve(self, method: str) -> None:
            with fake._lock:
                fake.in_flight += 1
                fake.max_in_flight = max(fake.max_in_flight, fake.in_flight)
            try:
                if fake.delay:
                    time.sleep(fake.delay)
                self._answer(method)
            finally:
                with fake._lock:
                    fake.in_flight -= 1

        def _answer(self, method: str) -> None:
            split = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            with fake._lock:
                fake.requests.append((method, split.path))
            if not fake.authorized(method, split.path, self.headers):
                self._json(401, {"message": "Invalid API key"})
                return
            fault = fake.take_fault(method, split.path)
            if fault and self._fault_reply(fault):
                return
            try:
                if self.headers.get("Content-Type", "").startswith(FORM):
                    body = {k: v[-1] for k, v in parse_qs(raw.decode()).items()}
                else:
                    body = json.loads(raw) if raw else None
            except ValueError:
                self._json(400, {"message": "body is not JSON"})
                return
            query = {key: values[-1] for key, values in parse_qs(split.query).items()}
            status, payload, *headers = fake.route(method, split.path, query, body)
            if fault == "lost":
                self.close_connection = True
                return
            self._json(status, payload, headers[0] if headers else None)

    return Handler
