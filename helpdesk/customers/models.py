"""The shop's side of the desk: shops, their customers, orders and shipping.

Rows here are written by the shop sync service only; the desk never edits a
shop's orders, it mirrors them.
"""

from __future__ import annotations

import hashlib

from django.db import models
from django.utils import timezone

from helpdesk.customers.identity import widget_secret_new


def api_key_digest(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode()).hexdigest()


class Shop(models.Model):
    """One storefront that syncs its customers and orders into the desk."""

    slug = models.SlugField(unique=True)
    name = models.CharField(max_length=200)
    currency = models.CharField(max_length=3, default="EUR")
    # Only the SHA-256 of the API key is kept; the key is shown once when made.
    api_key_digest = models.CharField(max_length=64, unique=True)
    api_key_prefix = models.CharField(max_length=12, help_text="First characters of the key, to tell keys apart.")
    # Signs logged-in customers for the chat widget (helpdesk.customers.identity);
    # kept in clear because the desk must compute the same HMAC.
    widget_secret = models.CharField(max_length=64, default=widget_secret_new)
    created_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return self.name


class CustomerTier(models.TextChoices):
    STANDARD = "standard", "Standard"
    SILVER = "silver", "Silver"
    GOLD = "gold", "Gold"
    VIP = "vip", "VIP"


class Customer(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="customers")
    external_id = models.CharField(max_length=100, help_text="The shop's own customer id.")
    email = models.EmailField()
    name = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=40, blank=True)
    locale = models.CharField(max_length=16, blank=True, help_text="BCP 47 tag, e.g. en, he, fa-IR.")
    tier = models.CharField(max_length=16, choices=CustomerTier.choices, default=CustomerTier.STANDARD)
    tags = models.JSONField(default=list, blank=True)
    first_seen_at = models.DateTimeField(default=timezone.now)
    # False for an anonymous chat visitor: name and email are what they typed,
    # unconfirmed, and the row is never merged into a shop customer.
    verified = models.BooleanField(default=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "external_id"], name="customer_unique_external_id"),
        ]
        indexes = [models.Index(fields=["email"]), models.Index(fields=["name"])]

    def __str__(self) -> str:
        return self.name or self.email


class OrderStatus(models.TextChoices):
    PENDING = "pending", "Pending payment"
    PAID = "paid", "Paid"
    SHIPPED = "shipped", "Shipped"
    DELIVERED = "delivered", "Delivered"
    CANCELLED = "cancelled", "Cancelled"
    RETURNED = "returned", "Returned"
    REFUNDED = "refunded", "Refunded"


class ShippingStatus(models.TextChoices):
    NOT_SHIPPED = "not_shipped", "Not shipped"
    LABEL_CREATED = "label_created", "Label created"
    IN_TRANSIT = "in_transit", "In transit"
    OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
    DELIVERED = "delivered", "Delivered"
    DELAYED = "delayed", "Delayed"
    EXCEPTION = "exception", "Delivery exception"
    RETURNED = "returned", "Returned to sender"


class Order(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="orders")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="orders")
    external_id = models.CharField(max_length=100, help_text="The shop's own order id.")
    number = models.CharField(max_length=50, help_text="The order number the customer sees.")
    status = models.CharField(max_length=16, choices=OrderStatus.choices)
    placed_at = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    shipped_at = models.DateTimeField(null=True, blank=True)
    expected_delivery_at = models.DateTimeField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    total = models.DecimalField(max_digits=12, decimal_places=2)
    currency = models.CharField(max_length=3)
    carrier = models.CharField(max_length=60, blank=True)
    tracking_number = models.CharField(max_length=100, blank=True)
    tracking_url = models.URLField(max_length=500, blank=True)
    shipping_status = models.CharField(
        max_length=20, choices=ShippingStatus.choices, default=ShippingStatus.NOT_SHIPPED
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["shop", "external_id"], name="order_unique_external_id"),
        ]
        indexes = [models.Index(fields=["customer", "-placed_at"]), models.Index(fields=["number"])]

    def __str__(self) -> str:
        return f"#{self.number}"


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    position = models.PositiveIntegerField()
    sku = models.CharField(max_length=64)
    name = models.CharField(max_length=200)
    category = models.CharField(max_length=100, blank=True)
    quantity = models.PositiveIntegerField()
    unit_price = models.DecimalField(max_digits=12, decimal_places=2)

    class Meta:
        ordering = ["order", "position"]
        constraints = [
            models.UniqueConstraint(fields=["order", "position"], name="orderitem_unique_position"),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.name}"


class ShippingEvent(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipping_events")
    occurred_at = models.DateTimeField()
    status = models.CharField(max_length=20, choices=ShippingStatus.choices)
    location = models.CharField(max_length=200, blank=True)
    description = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["order", "occurred_at", "id"]

    def __str__(self) -> str:
        return f"{self.occurred_at:%Y-%m-%d %H:%M} {self.status}"
