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
