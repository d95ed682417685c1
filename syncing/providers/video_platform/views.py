"""POST /webhooks/video_platform/<connection_id>: no API key (the platform signs it); the
algorithm is in ``webhooks.py``."""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from config.errors import ApplicationError, error_body, json_error_response
from syncing.crm.types import WebhookRejected
from syncing.crm.views import not_signed_response
from syncing.models import Connection
from syncing.providers.video_platform import webhooks

logger = logging.getLogger(__name__)


@csrf_exempt
def video_webhook(request: HttpRequest, connection_id: int) -> JsonResponse:
    if request.method != "POST":
        return json_error_response(405, "method_not_allowed", "Webhooks are POSTed.")
    # A disabled connection takes nothing in, as it pulls nothing; it answers as an unknown
    # one, like a bad signature, so the answers do not tell which connection ids exist.
    connection = (
        Connection.objects.filter(
            pk=connection_id, provider=Connection.Provider.VIDEO_PLATFORM, enabled=True
        )
        .select_related("workspace")
        .first()
    )
    try:
        delivery = webhooks.verify(connection, request.body, request.headers)
        receipt = webhooks.delivery_store(connection=connection, delivery=delivery)
    except WebhookRejected as error:
        logger.info("video webhook %s refused: %s", connection_id, error)
        return not_signed_response()
    except ApplicationError as error:
        body = error_body(error.status_code, error.code, error.message, error.fields)
        return JsonResponse(body, status=error.status_code)
    return JsonResponse({"received": receipt.received, "duplicates": receipt.duplicates})
