from django.urls import path

from events.api import views

app_name = "events-api"

REPORTS = "v1/reports/events/sessions"

urlpatterns = [
    path("v1/events", views.EventCreateView.as_view(), name="event-create"),
    path("v1/events/sessions", views.SessionListView.as_view(), name="session-list"),
    path(
        "v1/events/sessions/public/<str:sessionToken>",
        views.SessionPublicView.as_view(),
        name="session-public",
    ),
    path("v1/registrants", views.RegistrationView.as_view(), name="registration"),
    path("v1/operators", views.OperatorListView.as_view(), name="operators"),
    path(
        f"{REPORTS}/registrants/<str:sessionToken>",
        views.RegistrantListView.as_view(),
        name="registrant-list",
    ),
    path(
        f"{REPORTS}/registrants/<str:sessionToken>/csv",
        views.RegistrantsCsvView.as_view(),
        name="registrants-csv",
    ),
    path(
        f"{REPORTS}/attendee-chat/<str:sessionToken>/csv",
        views.AttendeeChatCsvView.as_view(),
        name="attendee-chat-csv",
    ),
    path(
        f"{REPORTS}/operator-chat/<str:sessionToken>/csv",
        views.OperatorChatCsvView.as_view(),
        name="operator-chat-csv",
    ),
    path(
        f"{REPORTS}/surveys/<str:sessionToken>", views.SurveyListView.as_view(), name="survey-list"
    ),
    path(
        f"{REPORTS}/surveys/<str:sessionToken>/<int:surveyId>/csv",
        views.SurveyCsvView.as_view(),
        name="survey-csv",
    ),
    path(
        f"{REPORTS}/compiled/<str:sessionToken>",
        views.CompiledReportView.as_view(),
        name="compiled-report",
    ),
]
