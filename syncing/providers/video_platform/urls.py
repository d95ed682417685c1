from django.urls import path

from syncing.providers.video_platform.views import video_webhook

urlpatterns = [
    path("webhooks/video_platform/<int:connection_id>", video_webhook, name="video-webhook"),
]
