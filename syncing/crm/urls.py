from django.urls import path

from syncing.crm.views import crm_webhook

urlpatterns = [
    path(
        "webhooks/crm/<str:provider>/<int:connection_id>",
        crm_webhook,
        name="crm-webhook",
    ),
]
