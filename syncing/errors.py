"""Typed errors of every upstream call.

Permanent errors will fail the same way next time (retrying is pointless); transient ones may
succeed later (a later attempt, run or schedule retries them).
"""

from __future__ import annotations


class UpstreamError(Exception):
    """An upstream call failed. ``status`` is the HTTP status when there was a response;
    ``correlation_id`` the upstream's request id, for support tickets."""

    permanent = False

    def __init__(
        self, message: str, *, status: int | None = None, correlation_id: str | None = None
    ):
        super().__init__(message)
        self.message = message
        self.status = status
        self.correlation_id = correlation_id


class TransientError(UpstreamError):
    """Timeouts, connection errors, 5xx, 429 after the call's own retries."""


class RateLimitedError(TransientError):
    """429 still answered after the call's retries; ``retry_after`` is the upstream's wait."""

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs):
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class PermanentError(UpstreamError):
    permanent = True


class AuthError(PermanentError):
    """401/403: the credentials are wrong or revoked; the connection needs re-authentication."""


class NotFoundError(PermanentError):
    """404."""


class ValidationError(PermanentError):
    """400/422: the upstream rejected what we sent."""


class MalformedResponseError(TransientError):
    """The upstream answered a body that is not JSON (a truncated body, a proxy's HTML error
    page): usually gone on the next try. A JSON record of the wrong shape is a RecordError."""


class RecordError(Exception):
    """One upstream record failed validation at the edge; the run records it and goes on."""

    def __init__(self, message: str, *, upstream_id: str | None = None, errors=None):
        super().__init__(message)
        self.message = message
        self.upstream_id = upstream_id
        self.errors = errors or {}
