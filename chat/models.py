"""Widget sessions. A Visitor is one browser's chat identity: the token it
keeps in localStorage, bound to one Customer (a verified shop customer, or an
anonymous contact made for this visitor)."""

from __future__ import annotations

import hashlib

from django.db import models
from django.utils import timezone

from helpdesk.customers.models import Customer, Shop


def visitor_token_digest(raw_token: str) -> str:
    return hashlib.sha256(raw_token.encode()).hexdigest()


class Visitor(models.Model):
    shop = models.ForeignKey(Shop, on_delete=models.CASCADE, related_name="visitors")
    customer = models.ForeignKey(Customer, on_delete=models.CASCADE, related_name="visitors")
    # Only the SHA-256 of the browser's token is kept.
    token_digest = models.CharField(max_length=64, unique=True)
    # What an anonymous visitor typed in the pre-chat form; never trusted.
    claimed_order_number = models.CharField(max_length=50, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    last_seen_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"visitor {self.pk} of {self.customer}"
