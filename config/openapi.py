"""Shared OpenAPI pieces: the error body and the error responses every endpoint can answer."""

from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

ErrorSerializer = inline_serializer(
    name="Error",
    fields={
        "error": inline_serializer(
            name="ErrorDetail",
            fields={
                "status": serializers.IntegerField(),
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "fields": serializers.DictField(
                    child=serializers.ListField(child=serializers.CharField())
                ),
            },
        )
    },
)


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(ErrorSerializer, description=description)


# What any authenticated endpoint can answer besides its success response.
ERROR_RESPONSES = {
    401: error("Missing, malformed, unknown or revoked API key."),
    403: error("The caller may not use this workspace."),
    429: error("Too many requests; see Retry-After."),
}
# Add to endpoints that take input or path ids.
INPUT_ERRORS = {400: error("Invalid input; `fields` names each bad field.")}
NOT_FOUND = {404: error("No such object in the caller's workspace.")}
