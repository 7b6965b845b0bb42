"""Admin screens for the shop's side. Customers and orders are mirrored from
the shop by sync; the admin is for looking things up and for managing shops
and their API keys."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db import models
from django.db.models import Q, QuerySet
from django.forms import ModelForm
from django.http import HttpRequest

from helpdesk.admin_scope import AgentScopedAdmin, AgentViewMixin
from helpdesk.customers.models import Customer, Order, OrderItem, ShippingEvent, Shop
from helpdesk.customers.selectors import customer_visibility, order_visibility
from helpdesk.customers.services import shop_create, shop_rotate_key
from helpdesk.tickets.models import Agent


def _show_key_once(request: HttpRequest, shop: Shop, raw_key: str) -> None:
    messages.warning(
        request,
        f"API key for {shop.name}: {raw_key} — copy it now; it is stored hashed and will not be shown again.",
    )


@admin.register(Shop)
class ShopAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "currency", "api_key_prefix", "created_at")
    search_fields = ("slug", "name")
    readonly_fields = ("api_key_prefix", "widget_secret", "created_at")
    actions = ("rotate_api_key",)

    def get_fields(self, request: HttpRequest, obj: Shop | None = None) -> tuple[str, ...]:
        # The digest never appears; a new shop gets its key when saved.
        if obj is None:
            return ("slug", "name", "currency")
        return ("slug", "name", "currency", "api_key_prefix", "widget_secret", "created_at")

    def save_model(self, request: HttpRequest, obj: Shop, form: ModelForm, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        shop, raw_key = shop_create(slug=obj.slug, name=obj.name, currency=obj.currency)
        # The admin goes on with the form's instance (log entry, redirect): make it the stored row.
        obj.pk, obj.api_key_digest, obj.api_key_prefix, obj.created_at = (
            shop.pk,
            shop.api_key_digest,
            shop.api_key_prefix,
            shop.created_at,
        )
        obj._state.adding, obj._state.db = False, shop._state.db
        _show_key_once(request, shop, raw_key)

    @admin.action(description="Rotate API key (the old key stops working)", permissions=["change"])
    def rotate_api_key(self, request: HttpRequest, queryset: QuerySet[Shop]) -> None:
        for shop in queryset:
            _show_key_once(request, shop, shop_rotate_key(shop=shop))


class OrderSummaryInline(AgentViewMixin, admin.TabularInline):
    model = Order
    fields = ("number", "status", "shipping_status", "placed_at", "total", "currency", "carrier")
    readonly_fields = fields
    ordering = ("-placed_at",)
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


@admin.register(Customer)
class CustomerAdmin(AgentScopedAdmin, admin.ModelAdmin):
    list_display = ("name", "email", "external_id", "shop", "tier", "locale", "first_seen_at")
    list_filter = ("tier", "shop")
    search_fields = ("name", "email", "external_id")
    list_select_related = ("shop",)
    autocomplete_fields = ("shop",)
    readonly_fields = ("created_at", "updated_at")
    ordering = ("name", "id")
    inlines = (OrderSummaryInline,)

    def visible_to(self, agent: Agent) -> Q:
        return customer_visibility(agent)


class OrderItemInline(AgentViewMixin, admin.TabularInline):
    model = OrderItem
    fields = ("position", "sku", "name", "category", "quantity", "unit_price")
    extra = 0


class ShippingEventInline(AgentViewMixin, admin.TabularInline):
    model = ShippingEvent
    fields = ("occurred_at", "status", "location", "description")
    extra = 0


@admin.register(Order)
class OrderAdmin(AgentScopedAdmin, admin.ModelAdmin):
    list_display = (
        "number",
        "customer",
        "shop",
        "status",
        "shipping_status",
        "placed_at",
        "expected_delivery_at",
        "total",
        "currency",
        "carrier",
    )
    list_filter = ("status", "shipping_status", "carrier", "shop")
    search_fields = ("number", "external_id", "tracking_number", "customer__email", "customer__name")
    list_select_related = ("customer", "shop")
    autocomplete_fields = ("shop", "customer")
    readonly_fields = ("created_at", "updated_at")
    date_hierarchy = "placed_at"
    ordering = ("-placed_at", "-id")
    inlines = (OrderItemInline, ShippingEventInline)

    def visible_to(self, agent: Agent) -> Q:
        return order_visibility(agent)

    formfield_overrides = {models.URLField: {"assume_scheme": "https"}}
