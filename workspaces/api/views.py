from drf_spectacular.utils import extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from config.openapi import ERROR_RESPONSES
from workspaces.api.serializers import WhoAmISerializer


class WhoAmIView(APIView):
    @extend_schema(
        summary="The workspace the caller acts for",
        responses={200: WhoAmISerializer, **ERROR_RESPONSES},
        tags=["workspaces"],
    )
    def get(self, request):
        return Response(WhoAmISerializer({"workspace": request.workspace}).data)
