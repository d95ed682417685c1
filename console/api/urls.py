from django.urls import path

from console.api import views

urlpatterns = [
    path("dashboard/rooms", views.RoomsDashboardView.as_view(), name="dashboard-rooms"),
    path("dashboard/webinars", views.WebinarsDashboardView.as_view(), name="dashboard-webinars"),
]
