"""The public survey page (GET shows the form, only a POST records) and the
widget's JSON endpoints. Both are rate limited per client IP and per survey.

The page is reached from an emailed link; the form is CSRF protected, so a
mail system's link scanner that fetches the page records nothing. The
widget endpoints are cross-origin like chat.views: only pages from
WIDGET_ALLOWED_ORIGINS get an answer, authenticated by the visitor token.
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods

from chat.origins import widget_cors, widget_gate
from chat.selectors import visitor_for_token
from surveys import policy
from surveys.models import Survey, SurveyKind, SurveyReason
from surveys.ratelimit import client_ip, rate_allow
from surveys.selectors import survey_for_token, survey_for_widget, survey_widget_open
from surveys.services import (
    MAX_COMMENT_CHARS,
    MAX_REASON_TEXT_CHARS,
    SurveyError,
    survey_answer,
    survey_refusal,
)
from surveys.tokens import TokenError

# HTTP status of each refusal: the input is wrong (400), the survey is gone (410).
ERROR_STATUS = {
    "invalid": 400,
    "wrong_survey": 400,
    "not_open": 409,
    "answered": 410,
    "expired": 410,
    "cancelled": 410,
}
CSAT_FACES = [(1, "😠", "Very bad"), (2, "🙁", "Bad"), (3, "😐", "Okay"), (4, "🙂", "Good"), (5, "😄", "Great")]
SCORE_PATTERN = re.compile(r"^\d{1,2}$")


def _score(raw: Any) -> Any:
    """Form input to a number where it is one; anything else goes to the
    service as is and is refused there."""
    if isinstance(raw, str) and SCORE_PATTERN.fullmatch(raw.strip()):
        return int(raw.strip())
    return raw


def _limited(request: HttpRequest, survey_key: str) -> bool:
    ip = client_ip(request.META.get("REMOTE_ADDR"))
    return not (
        rate_allow("ip", ip, per_minute=settings.SURVEY_RATE_LIMIT_PER_IP)
        and rate_allow("survey", survey_key, per_minute=settings.SURVEY_RATE_LIMIT_PER_SURVEY)
    )


def _text_errors(texts: dict[str, Any]) -> dict[str, list[str]]:
    """Field errors for answer texts that are not strings, or hold a NUL that PostgreSQL cannot store."""
    errors = {key: ["Expected a string."] for key, value in texts.items() if not isinstance(value, str)}
    return errors | {key: ["Null characters are not allowed."] for key, value in texts.items() if "\x00" in str(value)}


def _gone(request: HttpRequest, message: str, status: int) -> HttpResponse:
    return render(request, "surveys/closed.html", {"message": message}, status=status)


def _form_context(survey: Survey, *, values: dict[str, Any], errors: dict[str, list[str]]) -> dict[str, Any]:
    return {
        "survey": survey,
        "shop": survey.customer.shop.name,
        "is_csat": survey.kind == SurveyKind.CSAT,
        "faces": CSAT_FACES,
        "nps_scores": list(policy.NPS_RANGE),
        "reasons": SurveyReason.choices,
        # Which scores ask for a reason; the page's script shows the reason box for them.
        "low_scores": ",".join(str(s) for s in policy.score_range(survey.kind) if policy.is_unhappy(survey.kind, s)),
        "values": values,
        "errors": errors,
        "max_comment": MAX_COMMENT_CHARS,
        "max_reason_text": MAX_REASON_TEXT_CHARS,
    }


@never_cache
@require_http_methods(["GET", "POST"])
def survey_page(request: HttpRequest, token: str) -> HttpResponse:
    if _limited(request, "t:" + hashlib.sha256(token.encode()).hexdigest()[:32]):  # no token text in the cache
        return _gone(request, "Too many attempts. Please wait a minute and try again.", 429)
    try:
        survey = survey_for_token(token=token)
    except TokenError as error:
        return _gone(request, str(error), 410 if error.code == "expired" else 404)
    refusal = survey_refusal(survey, now=timezone.now())
    if refusal is not None:
        return _gone(request, refusal.message, ERROR_STATUS[refusal.code])
    if request.method == "GET":
        # Never records anything: link scanners and previews only read.
        return render(request, "surveys/form.html", _form_context(survey, values={}, errors={}))
    values = {key: request.POST.get(key, "") for key in ("score", "comment", "reason", "reason_text", "survey")}
    if values["survey"] and values["survey"] != str(survey.pk):
        return _gone(request, "This link belongs to another survey.", 400)
    if wrong := _text_errors(values):
        context = _form_context(survey, values={key: v.replace("\x00", "") for key, v in values.items()}, errors=wrong)
        return render(request, "surveys/form.html", context, status=400)
    try:
        answered = survey_answer(
            survey=survey,
            token=token,
            score=_score(values["score"]) if values["score"] else None,
            comment=values["comment"],
            reason=values["reason"],
            reason_text=values["reason_text"],
            ip=client_ip(request.META.get("REMOTE_ADDR")),
        )
    except SurveyError as error:
        if error.code == "invalid":
            context = _form_context(survey, values=values, errors=error.fields)
            return render(request, "surveys/form.html", context, status=400)
        return _gone(request, error.message, ERROR_STATUS[error.code])
    return render(
        request,
        "surveys/thanks.html",
        {"thanks": answered.thanks, "follow_up": answered.follow_up is not None, "shop": survey.customer.shop.name},
    )


# The widget's endpoints


def _json_body(request: HttpRequest) -> dict[str, Any] | None:
    try:
        body = json.loads(request.body or b"null")
    except (ValueError, RecursionError):  # RecursionError: nested deeper than the parser goes
        return None
    return body if isinstance(body, dict) else None


@csrf_exempt
@require_http_methods(["POST", "OPTIONS"])
def widget_surveys(request: HttpRequest) -> HttpResponse:
    """``{"visitor_token"}`` -> the visitor's open surveys, newest first."""
    if (refused := widget_gate(request)) is not None:
        return refused
    body = _json_body(request)
    token = body.get("visitor_token") if body else None
    if _limited(request, "v:" + hashlib.sha256(str(token).encode()).hexdigest()[:32]):
        return widget_cors(request, JsonResponse({"detail": "Too many requests; try again in a minute."}, status=429))
    visitor = visitor_for_token(token=token) if isinstance(token, str) else None
    if visitor is None:
        return widget_cors(request, JsonResponse({"visitor_token": ["Start a chat session first."]}, status=403))
    return widget_cors(request, JsonResponse({"surveys": survey_widget_open(customer_id=visitor.customer_id)}))


@csrf_exempt
@require_http_methods(["POST", "OPTIONS"])
def widget_survey_answer(request: HttpRequest, survey_id: int) -> HttpResponse:
    """``{"visitor_token", "score", "comment"?, "reason"?, "reason_text"?}``:
    answer one of the visitor's surveys. 200 ``{"answered": true, "thanks"}``;
    400 with field errors; 403 without a valid visitor; 404 for a survey
    that is not theirs; 409/410 for one that is not open."""
    if (refused := widget_gate(request)) is not None:
        return refused
    if _limited(request, f"s:{survey_id}"):
        return widget_cors(request, JsonResponse({"detail": "Too many requests; try again in a minute."}, status=429))
    body = _json_body(request)
    if body is None:
        return widget_cors(request, JsonResponse({"detail": "Send a JSON object."}, status=400))
    unknown = sorted(set(body) - {"visitor_token", "score", "comment", "reason", "reason_text"})
    if unknown:
        return widget_cors(request, JsonResponse({key: ["Unknown field."] for key in unknown}, status=400))
    token = body.get("visitor_token")
    visitor = visitor_for_token(token=token) if isinstance(token, str) else None
    if visitor is None:
        return widget_cors(request, JsonResponse({"visitor_token": ["Start a chat session first."]}, status=403))
    survey = survey_for_widget(customer=visitor.customer, survey_id=survey_id)
    if survey is None:
        return widget_cors(request, JsonResponse({"detail": "No such survey."}, status=404))
    texts = {key: body.get(key, "") for key in ("comment", "reason", "reason_text")}
    if wrong := _text_errors(texts):
        return widget_cors(request, JsonResponse(wrong, status=400))
    try:
        answered = survey_answer(
            survey=survey, score=body.get("score"), ip=client_ip(request.META.get("REMOTE_ADDR")), **texts
        )
    except SurveyError as error:
        payload: dict[str, Any] = {"code": error.code, "detail": error.message, **error.fields}
        return widget_cors(request, JsonResponse(payload, status=ERROR_STATUS[error.code]))
    return widget_cors(request, JsonResponse({"answered": True, "thanks": answered.thanks}))
