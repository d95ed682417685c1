from django.urls import path

from syncing.api import views

urlpatterns = [
    path("sync/connections", views.ConnectionsView.as_view(), name="sync-connections"),
    path(
        "sync/connections/<str:connection_id>/runs",
        views.ConnectionRunsView.as_view(),
        name="sync-connection-runs",
    ),
    path("sync/runs", views.RunsView.as_view(), name="sync-runs"),
    path("sync/runs/<str:run_id>", views.RunView.as_view(), name="sync-run"),
]
