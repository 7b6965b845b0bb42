"""The Content-Security-Policy every response carries.

Django 5.2 has no CSP of its own (6.0 has), so one small middleware sets it.
The policy allows scripts only from files on the desk's own origin: no inline
script, no event-handler attributes, no eval. Templates keep to that (a test
scans them), and data for scripts goes through ``json_script`` blocks, which
are JSON, not script.

A view that needs more (the demo shop page loads the widget from the desk's
origin; the API docs page has an inline stylesheet) adds sources with
``csp_extend``; a response that already has a policy (attachments send a
sandbox) keeps its own. The other security headers (nosniff, Referrer-Policy,
Cross-Origin-Opener-Policy, X-Frame-Options, HSTS) come from Django's
SecurityMiddleware and XFrameOptionsMiddleware, configured in settings.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from functools import wraps
from typing import Any, TypeVar

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase

HEADER = "Content-Security-Policy"
# The attribute on a response holding a view's additions, {directive: [source, ...]}.
_EXTRA = "csp_extra"
Response = TypeVar("Response", bound=HttpResponseBase)


def _base_policy(request: HttpRequest) -> dict[str, list[str]]:
    # Browsers before CSP 3 do not let 'self' cover websockets: name them.
    ws = "wss" if request.is_secure() else "ws"
    return {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:", "blob:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'", f"{ws}://{request.get_host()}"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        # No page of the desk is meant to be framed; the widget is not an iframe.
        "frame-ancestors": ["'none'"],
    }


def policy_for(request: HttpRequest, extra: dict[str, list[str]] | None = None) -> str:
    """The header value for one response: the base policy plus a view's additions."""
    policy = _base_policy(request)
    for directive, sources in (extra or {}).items():
        known = policy.setdefault(directive, [])
        known.extend(source for source in sources if source not in known)
    return "; ".join(f"{directive} {' '.join(sources)}" for directive, sources in policy.items())


def csp_extend(response: Response, **directives: Iterable[str]) -> Response:
    """Add sources to this response's policy: ``csp_extend(response, script_src=["https://x"])``."""
    extra: dict[str, list[str]] = getattr(response, _EXTRA, None) or {}
    for name, sources in directives.items():
        extra.setdefault(name.replace("_", "-"), []).extend(sources)
    setattr(response, _EXTRA, extra)
    return response


def csp_extended(**directives: Iterable[str]) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """A view decorator doing ``csp_extend`` on every response of the view."""
    frozen = {name: list(sources) for name, sources in directives.items()}

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            return csp_extend(view(*args, **kwargs), **frozen)

        return wrapped

    return decorate


class ContentSecurityPolicyMiddleware:
    """Sets Content-Security-Policy on every response that has none yet."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponseBase]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        response = self.get_response(request)
        if HEADER in response:
            return response
        if settings.DEBUG and (response.status_code == 404 or response.status_code >= 500):
            # Django's technical error pages style themselves inline; they exist only in debug.
            return response
        extra = getattr(response, _EXTRA, None)
        if getattr(getattr(response, "accepted_renderer", None), "format", None) == "api":
            # DRF's browsable API page floats two buttons with style attributes.
            extra = {**(extra or {}), "style-src-attr": ["'unsafe-inline'"]}
        response[HEADER] = policy_for(request, extra)
        return response
