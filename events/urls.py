from django.urls import path

from events.views import join

app_name = "events"

urlpatterns = [path("join/<str:token>", join, name="join")]
