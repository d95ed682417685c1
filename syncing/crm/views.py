"""POST /webhooks/crm/<provider>/<connection_id>: no API key (the provider signs it)."""

from __future__ import annotations

import logging

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from config.errors import json_error_response
from syncing.crm.types import WebhookRejected
from syncing.crm.webhooks import webhook_receive, webhook_verifier
from syncing.models import Connection

logger = logging.getLogger(__name__)


@csrf_exempt
def crm_webhook(request: HttpRequest, provider: str, connection_id: int) -> JsonResponse:
    if request.method != "POST":
        return json_error_response(405, "method_not_allowed", "Webhooks are POSTed.")
    verify = webhook_verifier(provider)
    connection = Connection.objects.filter(pk=connection_id, provider=provider).first()
    # An unknown webhook answers like a bad signature, so the answers do not tell which
    # connection ids exist; the reason is logged for the operator.
    if verify is None or connection is None:
        logger.info("webhook %s/%s: no such connection", provider, connection_id)
        return not_signed_response()
    try:
        notice = verify(connection, request)
    except WebhookRejected as error:
        logger.info("webhook %s/%s refused: %s", provider, connection_id, error)
        return not_signed_response()
    receipt = webhook_receive(connection=connection, notice=notice)
    return JsonResponse({"received": receipt.received, "duplicates": receipt.duplicates})


def not_signed_response() -> JsonResponse:
    return json_error_response(
        401, "authentication_failed", "The delivery is not signed for this webhook."
    )
