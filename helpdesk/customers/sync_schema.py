"""The shape of a shop sync batch, shared by the HTTP API and `import_shop`.

Documented in docs/shop-sync.md. Each record is a full replacement: an optional
field left out is stored as its default.
"""

from __future__ import annotations

from rest_framework import serializers

from helpdesk.customers.models import CustomerTier, OrderStatus, ShippingStatus


class SyncCustomerSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=100)
    email = serializers.EmailField(max_length=254)  # as Customer.email stores
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    phone = serializers.CharField(max_length=40, required=False, allow_blank=True, default="")
    locale = serializers.CharField(max_length=16, required=False, allow_blank=True, default="")
    tier = serializers.ChoiceField(choices=CustomerTier.choices, required=False, default=CustomerTier.STANDARD)
    tags = serializers.ListField(
        child=serializers.CharField(max_length=50), required=False, default=list, max_length=50
    )
    first_seen_at = serializers.DateTimeField(required=False, allow_null=True, default=None)


class SyncItemSerializer(serializers.Serializer):
    sku = serializers.CharField(max_length=64)
    name = serializers.CharField(max_length=200)
    category = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    quantity = serializers.IntegerField(min_value=1, max_value=100_000)
    unit_price = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)


class SyncShippingEventSerializer(serializers.Serializer):
    occurred_at = serializers.DateTimeField()
    status = serializers.ChoiceField(choices=ShippingStatus.choices)
    location = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    description = serializers.CharField(max_length=500, required=False, allow_blank=True, default="")


class SyncOrderSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=100)
    customer_id = serializers.CharField(max_length=100)
    number = serializers.CharField(max_length=50)
    status = serializers.ChoiceField(choices=OrderStatus.choices)
    placed_at = serializers.DateTimeField()
    paid_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    shipped_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    expected_delivery_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    delivered_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    total = serializers.DecimalField(max_digits=12, decimal_places=2, min_value=0)
    currency = serializers.RegexField(r"^[A-Z]{3}$", max_length=3)
    carrier = serializers.CharField(max_length=60, required=False, allow_blank=True, default="")
    tracking_number = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")
    tracking_url = serializers.URLField(max_length=500, required=False, allow_blank=True, default="")
    shipping_status = serializers.ChoiceField(
        choices=ShippingStatus.choices, required=False, default=ShippingStatus.NOT_SHIPPED
    )
    items = serializers.ListField(child=SyncItemSerializer(), required=False, default=list, max_length=500)
    shipping_events = serializers.ListField(
        child=SyncShippingEventSerializer(), required=False, default=list, max_length=500
    )

    def validate(self, attrs: dict) -> dict:
        for later, earlier in (("shipped_at", "placed_at"), ("delivered_at", "placed_at")):
            if attrs.get(later) and attrs[later] < attrs["placed_at"]:
                raise serializers.ValidationError({later: [f"{later} cannot be before {earlier}."]})
        return attrs


class SyncBatchSerializer(serializers.Serializer):
    customers = serializers.ListField(child=serializers.JSONField(), required=False, default=list)
    orders = serializers.ListField(child=serializers.JSONField(), required=False, default=list)
