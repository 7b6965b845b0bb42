"""The JSON shapes of the customer API and of the shop sync answer."""

from __future__ import annotations

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from helpdesk.customers.models import Customer, Order, OrderItem, ShippingEvent, Shop
from helpdesk.customers.services import ORDER_FIELDS
from helpdesk.tickets.models import Ticket


class ShopRefSerializer(serializers.ModelSerializer):
    class Meta:
        model = Shop
        fields = ["slug", "name"]
        read_only_fields = fields


class CustomerSerializer(serializers.ModelSerializer):
    shop = ShopRefSerializer()

    class Meta:
        model = Customer
        fields = ["id", "external_id", "shop", "name", "email", "phone", "locale", "tier", "tags", "first_seen_at"]
        read_only_fields = fields


class CustomerMetricsSerializer(serializers.Serializer):
    lifetime_value = serializers.DecimalField(max_digits=14, decimal_places=2)
    order_count = serializers.IntegerField()
    average_order_value = serializers.DecimalField(max_digits=14, decimal_places=2)
    purchase_frequency = serializers.DecimalField(
        max_digits=14, decimal_places=2, help_text="Counted orders per 365 days of tenure."
    )
    tenure_days = serializers.IntegerField()
    days_since_last_order = serializers.IntegerField(allow_null=True)


class OrderItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = OrderItem
        fields = ["position", "sku", "name", "category", "quantity", "unit_price"]
        read_only_fields = fields


class ShippingEventSerializer(serializers.ModelSerializer):
    class Meta:
        model = ShippingEvent
        fields = ["occurred_at", "status", "location", "description"]
        read_only_fields = fields


class OrderSerializer(serializers.ModelSerializer):
    items = OrderItemSerializer(many=True)
    shipping_events = ShippingEventSerializer(many=True)

    class Meta:
        model = Order
        fields = ["id", "external_id", *ORDER_FIELDS, "items", "shipping_events"]
        read_only_fields = fields


class CustomerTicketSerializer(serializers.ModelSerializer):
    class Meta:
        model = Ticket
        fields = ["id", "subject", "status", "category", "created_at", "first_response_at"]
        read_only_fields = fields


class CustomerDetailSerializer(CustomerSerializer):
    """Expects the customer from selectors.customer_detail and its metrics in
    the context under "metrics"."""

    metrics = serializers.SerializerMethodField()
    orders = OrderSerializer(many=True)
    tickets = CustomerTicketSerializer(source="visible_tickets", many=True)

    class Meta(CustomerSerializer.Meta):
        fields = [*CustomerSerializer.Meta.fields, "created_at", "updated_at", "metrics", "orders", "tickets"]
        read_only_fields = fields

    @extend_schema_field(CustomerMetricsSerializer)
    def get_metrics(self, customer: Customer) -> dict[str, Any]:
        return CustomerMetricsSerializer(self.context["metrics"]).data


class SyncCountsSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    updated = serializers.IntegerField()
    unchanged = serializers.IntegerField()


class SyncResultSerializer(serializers.Serializer):
    customers = SyncCountsSerializer()
    orders = SyncCountsSerializer()
