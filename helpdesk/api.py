"""Cross-cutting API pieces: error shape, strict input and query strings,
keyset pagination, a JSON parser that refuses what it cannot read."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from django.core.exceptions import ValidationError as DjangoValidationError
from django_filters.rest_framework import DjangoFilterBackend
from rest_framework import parsers, serializers
from rest_framework.exceptions import NotFound, ParseError, ValidationError
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


class JSONParser(parsers.JSONParser):
    """DRF's, but JSON nested deeper than Python's parser recurses is a 400, not a 500."""

    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None


# Parameters of every list besides its filters: KeysetPagination's and DRF's format override.
PAGING_PARAMETERS = frozenset({"cursor", "page_size", "format"})


def unknown_parameters(query: Iterable[str], *, known: Iterable[str]) -> dict[str, list[str]]:
    """Errors for the query parameters a list does not take: an ordering it
    does not offer, a misspelt or made-up filter would otherwise be ignored
    and answer the whole list as if it had been applied."""
    return {key: ["Unknown parameter."] for key in sorted(set(query) - set(known) - PAGING_PARAMETERS)}


class StrictFilterBackend(DjangoFilterBackend):
    """DjangoFilterBackend that answers 400 for a parameter its filter set does not declare."""

    def filter_queryset(self, request: Any, queryset: Any, view: Any) -> Any:
        filterset_class = self.get_filterset_class(view, queryset)
        known = filterset_class.base_filters if filterset_class is not None else ()
        if errors := unknown_parameters(request.query_params, known=known):
            raise ValidationError(errors)
        return super().filter_queryset(request, queryset, view)


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
