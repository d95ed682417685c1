"""The one HTTP layer every provider client builds on.

Per client: a requests Session with connect/read timeouts; urllib3 Retry for connection
errors, read timeouts of reads, and 429/502/503/504 with exponential backoff and jitter
(Retry-After honoured as seconds or an HTTP date); a shared request budget taken before every
attempt, retries included; and typed errors (syncing.errors) for what is left.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextvars import ContextVar
from typing import Any, ClassVar
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.exceptions import InvalidHeader, ReadTimeoutError
from urllib3.util.retry import Retry

from syncing import conf
from syncing.coordination import TokenBucket
from syncing.errors import (
    AuthError,
    MalformedResponseError,
    NotFoundError,
    PermanentError,
    RateLimitedError,
    TransientError,
    UpstreamError,
    ValidationError,
)

RETRY_STATUSES = frozenset({429, 502, 503, 504})
# Not retried inside a call after a read error or a 5xx: the upstream may have applied them.
# The outbox retries them after looking the object up. A 429 means "not applied": retried.
WRITE_METHODS = frozenset({"POST", "PATCH"})

# (records of one page, total number of records when the upstream says so)
PageExtractor = Callable[[requests.Response, Any], tuple[list, int | None]]


# True while a request that is safe to repeat goes out although its method is POST (a search
# or a batch read): UpstreamRetry then retries it like a GET. Set by ``request(repeatable=)``.
_REPEATABLE: ContextVar[bool] = ContextVar("upstream_request_repeatable", default=False)


class UpstreamRetry(Retry):
    """urllib3 Retry that also retries a 429 of a write and every failure of a repeatable
    POST, and calls ``before_retry`` before every retry (so each attempt counts and takes
    from the request budget)."""

    def __init__(self, *args, before_retry: Callable[[], None] | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.before_retry = before_retry

    def new(self, **kwargs) -> UpstreamRetry:
        kwargs.setdefault("before_retry", self.before_retry)
        return super().new(**kwargs)

    def _is_method_retryable(self, method: str) -> bool:
        return _REPEATABLE.get() or super()._is_method_retryable(method)

    def is_retry(self, method: str, status_code: int, has_retry_after: bool = False) -> bool:
        if method.upper() in WRITE_METHODS and status_code == 429:
            return bool(self.total)
        return super().is_retry(method, status_code, has_retry_after)

    def increment(self, *args, **kwargs) -> UpstreamRetry:
        retry = super().increment(*args, **kwargs)
        if self.before_retry is not None:
            self.before_retry()
        return retry


class UpstreamClient:
    """Base of every provider client. Subclasses set ``auth_header`` and add one method per
    upstream operation. The secret travels only in that header; nothing here logs headers."""

    auth_header: ClassVar[str]
    correlation_headers: ClassVar[tuple[str, ...]] = ("x-request-id", "x-correlation-id")

    def __init__(
        self,
        *,
        base_url: str,
        secret: str,
        budget: TokenBucket | None = None,
        on_auth_error: Callable[[AuthError], None] | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.calls = 0
        self._budget = budget
        self._on_auth_error = on_auth_error
        self.timeout = (conf.get("SYNC_HTTP_CONNECT_TIMEOUT"), conf.get("SYNC_HTTP_READ_TIMEOUT"))
        self.session = requests.Session()
        self.session.headers.update({self.auth_header: secret, "Accept": "application/json"})
        adapter = HTTPAdapter(max_retries=self._retry_policy())
        self.session.mount("http://", adapter)
        self.session.mount("https://", adapter)

    @classmethod
    def from_connection(
        cls,
        connection,
        *,
        budget: TokenBucket | None = None,
        on_auth_error: Callable[[AuthError], None] | None = None,
    ) -> UpstreamClient:
        """A client for a syncing.models.Connection. This default sends the stored
        ``api_key``; providers with other credentials (OAuth tokens) override it."""
        return cls(
            base_url=connection.base_url,
            secret=connection.credentials.get("api_key", ""),
            budget=budget,
            on_auth_error=on_auth_error,
        )

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.base_url}>"

    def _retry_policy(self) -> UpstreamRetry:
        retries = conf.get("SYNC_HTTP_RETRIES")
        return UpstreamRetry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            other=0,
            redirect=0,
            status_forcelist=RETRY_STATUSES,
            backoff_factor=conf.get("SYNC_HTTP_BACKOFF_FACTOR"),
            backoff_jitter=conf.get("SYNC_HTTP_BACKOFF_JITTER"),
            backoff_max=conf.get("SYNC_HTTP_BACKOFF_MAX"),
            retry_after_max=conf.get("SYNC_HTTP_RETRY_AFTER_MAX"),
            respect_retry_after_header=True,
            raise_on_status=False,
            before_retry=self._before_attempt,
        )

    def _before_attempt(self) -> None:
        if self._budget is not None:
            self._budget.take(max_wait=conf.get("SYNC_BUDGET_MAX_WAIT"))
        self.calls += 1

    def close(self) -> None:
        self.session.close()

    # --- calls ------------------------------------------------------------------------------

    def request(
        self,
        method: str,
        path: str,
        *,
        params: dict | None = None,
        json: Any = None,
        repeatable: bool = False,
    ) -> requests.Response:
        """One upstream call (with its retries). Returns a 2xx/3xx response or raises an
        UpstreamError subclass. ``repeatable``: a POST that only reads (a search, a batch
        read) is retried after timeouts and 5xx like a GET."""
        self._before_attempt()
        marker = _REPEATABLE.set(repeatable)
        try:
            response = self.session.request(
                method, self.base_url + path, params=params, json=json, timeout=self.timeout
            )
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.RetryError) as exc:
            raise TransientError(f"{method} {path}: {_transport_failure(exc)}") from exc
        finally:
            _REPEATABLE.reset(marker)
        return self._check(method, path, response)

    def post_form(self, url: str, form: dict) -> requests.Response:
        """POST a form-encoded body without the auth header (OAuth token endpoints), budgeted
        and counted like any call. Any status comes back: token endpoints answer 400/401 for
        a refused grant, which the caller judges."""
        self._before_attempt()
        try:
            return self.session.post(
                url, data=form, headers={self.auth_header: None}, timeout=self.timeout
            )
        except (requests.ConnectionError, requests.Timeout, requests.exceptions.RetryError) as exc:
            raise TransientError(f"POST {urlsplit(url).path}: {_transport_failure(exc)}") from exc

    def get_json(self, path: str, *, params: dict | None = None) -> Any:
        response = self.request("GET", path, params=params)
        return self.parse_json(response, f"GET {path}")

    def send_json(self, method: str, path: str, body: Any, *, repeatable: bool = False) -> Any:
        response = self.request(method, path, json=body, repeatable=repeatable)
        return self.parse_json(response, f"{method} {path}")

    def pages(
        self, path: str, *, extract: PageExtractor, params: dict | None = None, limit: int = 100
    ) -> Iterator[list]:
        """Pages of records from a page/limit list, until a short or empty page or the total."""
        page = 1
        while True:
            query = {**(params or {}), "page": page, "limit": limit}
            response = self.request("GET", path, params=query)
            records, total = extract(response, self.parse_json(response, f"GET {path}"))
            if records:
                yield records
            if len(records) < limit or (total is not None and page * limit >= total):
                return
            page += 1

    # --- responses --------------------------------------------------------------------------

    def correlation_id(self, response: requests.Response) -> str | None:
        for header in self.correlation_headers:
            if response.headers.get(header):
                return response.headers[header]
        return None

    def parse_json(self, response: requests.Response, what: str) -> Any:
        try:
            return response.json()
        except ValueError:
            raise MalformedResponseError(
                f"{what}: the response is not JSON",
                status=response.status_code,
                correlation_id=self.correlation_id(response),
            ) from None

    def _check(self, method: str, path: str, response: requests.Response) -> requests.Response:
        status = response.status_code
        if status < 400:
            return response
        excerpt = response.text[:300].strip()
        kwargs = {"status": status, "correlation_id": self.correlation_id(response)}
        message = f"{method} {path}: HTTP {status} {excerpt}".strip()
        error: UpstreamError
        if status in (401, 403):
            error = AuthError(message, **kwargs)
            if self._on_auth_error is not None:
                self._on_auth_error(error)
        elif status == 404:
            error = NotFoundError(message, **kwargs)
        elif status == 429:
            error = RateLimitedError(message, retry_after=_retry_after(response), **kwargs)
        elif status in (400, 422):
            error = ValidationError(message, **kwargs)
        elif status == 408 or status >= 500:
            error = TransientError(message, **kwargs)
        else:
            error = PermanentError(message, **kwargs)
        raise error


def _transport_failure(exc: requests.RequestException) -> str:
    """What went wrong, in words, without the request (and so without its headers)."""
    reason = getattr(exc.args[0], "reason", exc.args[0]) if exc.args else exc
    if isinstance(exc, requests.Timeout) or isinstance(reason, TimeoutError | ReadTimeoutError):
        return "timed out"
    return f"connection failed ({type(reason).__name__})"


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if not value:
        return None
    try:
        return Retry(retry_after_max=10**9).parse_retry_after(value)
    except InvalidHeader:
        return None
