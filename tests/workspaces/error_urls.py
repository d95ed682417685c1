"""Views that exist only to make the API fail in the ways no real endpoint fails on purpose."""

from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView


class EchoView(APIView):
    def post(self, request):
        return Response(request.data)


class BrokenView(APIView):
    def get(self, request):
        raise RuntimeError("boom")


urlpatterns = [
    path("api/test/echo", EchoView.as_view()),
    path("api/test/broken", BrokenView.as_view()),
    path("", include("config.urls")),
]
