"""Cross-cutting API pieces: error shape, strict input, keyset pagination."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """Turn a service's Django ValidationError into a 400 with field errors."""
    if isinstance(exc, DjangoValidationError):
        detail = exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        exc = ValidationError(detail)
    return drf_exception_handler(exc, context)


class StrictInputSerializer(serializers.Serializer):
    """Input that rejects keys it does not declare, so a misspelt or read-only
    field is an error instead of being silently ignored. Works nested too."""

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, Mapping):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise ValidationError({key: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)


class KeysetPagination(CursorPagination):
    """Cursor pagination: pages stay stable while rows are added. Subclasses
    set ``ordering``; its first field is the cursor position."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 200

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list[Any] | None:
        try:
            return super().paginate_queryset(queryset, request, view)
        except (ValueError, DjangoValidationError) as exc:
            # A hand-made cursor whose position does not parse as the ordering field.
            if request.query_params.get(self.cursor_query_param) is None:
                raise
            raise NotFound(self.invalid_cursor_message) from exc
