from django.urls import path

from insights.api import views

# The workspace id is matched as any segment and checked by insights.api.access, so that a
# malformed id answers 403 in the API's error shape like any workspace the caller may not use.
urlpatterns = [
    path("insights", views.InsightsView.as_view(), name="insights"),
    path("insights/top_messages", views.TopMessagesView.as_view(), name="insights-top-messages"),
    path("insights/top_flows", views.TopFlowsView.as_view(), name="insights-top-flows"),
    path("insights/events", views.ChatEventsIngestView.as_view(), name="insights-events"),
    path(
        "workspaces/<str:workspace_id>/analytics",
        views.WorkspaceAnalyticsView.as_view(),
        name="workspace-analytics",
    ),
    path(
        "workspaces/<str:workspace_id>/activity",
        views.WorkspaceActivityIngestView.as_view(),
        name="workspace-activity",
    ),
]
