from django.contrib import admin
from django.urls import include, path, re_path
from django.views.decorators.csrf import csrf_exempt
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from config.errors import json_error_response
from config.health import healthz


@csrf_exempt  # an unknown path answers the JSON 404 for every method, never a CSRF page
def api_not_found(request, *args, **kwargs):
    return json_error_response(404, "not_found", "No API endpoint at this path.")


urlpatterns = [
    path("healthz", healthz, name="healthz"),
    # The admin (and its dashboard) is the site's front page; "View site" in the admin leads here.
    path("", RedirectView.as_view(pattern_name="admin:index"), name="home"),
    path("admin/", admin.site.urls),
    path("api/schema", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("workspaces.api.urls")),
    path("api/", include("rooms.api.urls")),
    path("api/", include("rooms.api.activity_urls")),
    path("api/", include("insights.api.urls")),
    path("api/", include("events.api.urls")),
    path("api/", include("syncing.api.urls")),
    path("api/", include("console.api.urls")),
    path("", include("events.urls")),
    path("", include("syncing.crm.urls")),
    path("", include("syncing.providers.video_platform.urls")),
    re_path(r"^api(/.*)?$", api_not_found),
]
