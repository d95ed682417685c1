from django.urls import path

from insights.api import views

urlpatterns = [
    path("insights", views.InsightsView.as_view(), name="insights"),
    path("insights/top_messages", views.TopMessagesView.as_view(), name="insights-top-messages"),
    path("insights/top_flows", views.TopFlowsView.as_view(), name="insights-top-flows"),
    path("insights/events", views.ChatEventsIngestView.as_view(), name="insights-events"),
]
