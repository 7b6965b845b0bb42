"""Agent API for customers, and the shop sync API authenticated by shop key.

A customer the agent may not see is a 404, never a 403.
"""

from __future__ import annotations

from typing import Any, cast

from django.contrib.auth.models import AnonymousUser
from django.db import IntegrityError
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status, viewsets
from rest_framework.authentication import BaseAuthentication, get_authorization_header
from rest_framework.exceptions import AuthenticationFailed, NotFound
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from helpdesk.api import JSONParser, KeysetPagination, StrictFilterBackend
from helpdesk.customers import selectors, services
from helpdesk.customers.filters import CustomerFilter
from helpdesk.customers.models import Customer, Shop
from helpdesk.customers.serializers import (
    CustomerDetailSerializer,
    CustomerSerializer,
    SyncResultSerializer,
)


class CustomerPagination(KeysetPagination):
    # Not by name: names repeat (many are blank), and the cursor needs a nearly unique position.
    ordering = ("id",)


class CustomerViewSet(viewsets.GenericViewSet):
    serializer_class = CustomerSerializer
    filterset_class = CustomerFilter
    filter_backends = [StrictFilterBackend]
    pagination_class = CustomerPagination
    lookup_value_regex = r"\d+"
    queryset = Customer.objects.none()  # for schema generation; requests use the selectors

    def get_queryset(self):
        return selectors.customer_list(agent=self.request.agent)

    def list(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(CustomerSerializer(page, many=True).data)

    @extend_schema(responses=CustomerDetailSerializer)
    def retrieve(self, request: Request, pk: str) -> Response:
        """The customer's profile, figures, orders newest first, and the tickets the agent may see."""
        try:
            customer = selectors.customer_detail(agent=request.agent, customer_id=int(pk))
        except Customer.DoesNotExist:
            raise NotFound() from None
        metrics = selectors.customer_metrics_get(customer=customer)
        return Response(CustomerDetailSerializer(customer, context={"metrics": metrics}).data)


# Shop sync


class ShopKeyAuthentication(BaseAuthentication):
    """A shop's API key, as "Authorization: Bearer <key>" or "X-Shop-Key: <key>".
    The request's user stays anonymous; ``request.auth`` is the Shop."""

    keyword = b"bearer"

    def authenticate(self, request: Request) -> tuple[AnonymousUser, Shop] | None:
        raw_key = self._raw_key(request)
        if raw_key is None:
            return None
        shop = selectors.shop_for_api_key(raw_key)
        if shop is None:
            raise AuthenticationFailed("Unknown shop key.")
        return AnonymousUser(), shop

    def _raw_key(self, request: Request) -> str | None:
        parts = get_authorization_header(request).split()
        if parts and parts[0].lower() == self.keyword:
            if len(parts) != 2:
                raise AuthenticationFailed('Give the key as "Authorization: Bearer <key>".')
            try:
                return parts[1].decode()
            except UnicodeDecodeError:
                raise AuthenticationFailed("Unknown shop key.") from None
        return request.headers.get("X-Shop-Key") or None

    def authenticate_header(self, request: Request) -> str:
        # Makes a missing or wrong key a 401 rather than a 403.
        return 'Bearer realm="shop"'


class HasShopKey(BasePermission):
    message = "This endpoint takes a shop key, not an agent's sign-in."

    def has_permission(self, request: Request, view: Any) -> bool:
        return isinstance(request.auth, Shop)


class ShopKeyScheme(OpenApiAuthenticationExtension):
    target_class = ShopKeyAuthentication
    name = "shopKey"

    def get_security_definition(self, auto_schema: Any) -> dict[str, str]:
        return {
            "type": "http",
            "scheme": "bearer",
            "description": 'The shop\'s API key. The header "X-Shop-Key: <key>" works too.',
        }


class ShopSyncView(APIView):
    authentication_classes = [ShopKeyAuthentication]
    permission_classes = [HasShopKey]
    parser_classes = [JSONParser]

    @extend_schema(
        request={"application/json": {"type": "object", "description": "See docs/shop-sync.md."}},
        responses={
            200: SyncResultSerializer,
            400: OpenApiResponse(
                inline_serializer(
                    "SyncRejected",
                    {
                        "errors": serializers.DictField(
                            help_text='Maps "customers" and "orders" to {record index: field errors}, '
                            'or "non_field_errors" to messages.'
                        )
                    },
                ),
                description="Nothing of the batch was stored.",
            ),
            409: OpenApiResponse(description="A concurrent sync touched the same records; send the batch again."),
        },
    )
    def post(self, request: Request) -> Response:
        """Upsert a batch of customers and orders: all of it, or nothing."""
        try:
            result = services.shop_sync(shop=cast(Shop, request.auth), payload=request.data)
        except services.SyncRejected as exc:
            return Response({"errors": exc.errors}, status=status.HTTP_400_BAD_REQUEST)
        except IntegrityError:
            return Response(
                {"detail": "Another sync created the same records at the same time; send the batch again."},
                status=status.HTTP_409_CONFLICT,
            )
        return Response(SyncResultSerializer(result).data)
