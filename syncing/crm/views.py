"""POST /webhooks/crm/<provider>/<connection_id>: no API key (the provider signs it)."""

from __future__ import annotations

from django.http import HttpRequest, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from config.errors import json_error_response
from syncing.crm.types import WebhookRejected
from syncing.crm.webhooks import webhook_receive, webhook_verifier
from syncing.models import Connection


@csrf_exempt
def crm_webhook(request: HttpRequest, provider: str, connection_id: int) -> JsonResponse:
    if request.method != "POST":
        return json_error_response(405, "method_not_allowed", "Webhooks are POSTed.")
    verify = webhook_verifier(provider)
    connection = Connection.objects.filter(pk=connection_id, provider=provider).first()
    if verify is None or connection is None:
        return json_error_response(404, "not_found", "No such webhook.")
    try:
        notice = verify(connection, request)
    except WebhookRejected as error:
        return json_error_response(401, "authentication_failed", str(error))
    receipt = webhook_receive(connection=connection, notice=notice)
    return JsonResponse({"received": receipt.received, "duplicates": receipt.duplicates})
