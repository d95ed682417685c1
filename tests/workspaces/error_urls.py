"""Views that exist only to make the API fail in the ways no real endpoint fails on purpose."""

from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView


class EchoView(APIView):
    def post(self, request):
        return Response(request.data)


class WriteThenFailView(APIView):
    """Writes a row, then raises a domain error: the row must not survive."""

    def post(self, request):
        from config.errors import invalid_field
        from workspaces.services import workspace_get_or_create

        workspace_get_or_create(slug="half-written")
        raise invalid_field("name", "rejected after a write")


class BrokenView(APIView):
    def get(self, request):
        raise RuntimeError("boom")


urlpatterns = [
    path("api/test/echo", EchoView.as_view()),
    path("api/test/broken", BrokenView.as_view()),
    path("api/test/write-then-fail", WriteThenFailView.as_view()),
    path("", include("config.urls")),
]
