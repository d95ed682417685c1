from django.conf import settings
from django.core.exceptions import RequestDataTooBig

from config.errors import json_error_response


class ApiTrailingSlashMiddleware:
    """Serve /api/ paths with or without a trailing slash (the specs write them without).

    Stripping the slash before URL resolution means every API route is declared once."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith("/api/") and len(path) > len("/api/") and path.endswith("/"):
            request.path_info = path.rstrip("/")
        return self.get_response(request)


class RequestLimitsMiddleware:
    """Hostile requests answered in the API's error shape before any view reads them:

    - a body declared larger than DATA_UPLOAD_MAX_MEMORY_SIZE (2.5 MB): 413, on every path
      (API, webhooks, public pages); multipart uploads keep Django's own file limits;
    - a NUL character in the path or the query string: 400 (PostgreSQL cannot compare text
      with one, so it could only end as a 500).

    A body that grows past the limit while being read (no Content-Length) raises
    RequestDataTooBig, answered 413 by ``process_exception`` and the API's exception handler.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if _declared_length(request) > settings.DATA_UPLOAD_MAX_MEMORY_SIZE and not (
            request.content_type.startswith("multipart/")
        ):
            return too_large_response()
        if "\x00" in request.path_info or "%00" in request.META.get("QUERY_STRING", ""):
            return json_error_response(400, "invalid", "The URL contains a NUL character.")
        return self.get_response(request)

    def process_exception(self, request, exception):
        if isinstance(exception, RequestDataTooBig):
            return too_large_response()
        return None


def _declared_length(request) -> int:
    try:
        return int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        return 0


def too_large_response():
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return json_error_response(
        413, "too_large", f"The request body is larger than {limit:,} bytes."
    )
