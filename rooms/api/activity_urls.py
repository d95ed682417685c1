from django.urls import path

from config.transactions import atomic_writes
from rooms.api.activity_views import RoomActivityView, RoomAnalyticsView

urlpatterns = [
    path(
        "v2/rooms/<str:room_id>/analytics",
        atomic_writes(RoomAnalyticsView.as_view()),
        name="room-analytics",
    ),
    path("v2/rooms/<str:room_id>/activity", RoomActivityView.as_view(), name="room-activity"),
]
