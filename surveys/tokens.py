"""The token in an emailed survey link: "<survey id>.<random>" signed with a
timestamp (django.core.signing), so a forged or altered link fails before
any query and an old one fails by its age. Only the token's SHA-256 is
stored (Survey.token_digest); the row's status makes it single use."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.core import signing

SALT = "surveys.token"


class TokenError(Exception):
    """``code``: "invalid" (forged, altered, malformed) or "expired"."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class TokenClaim:
    survey_id: int
    digest: str


def token_digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def token_make(survey_id: int) -> str:
    return signing.TimestampSigner(salt=SALT).sign(f"{survey_id}.{secrets.token_urlsafe(18)}")


def token_read(token: str, *, max_age: timedelta) -> TokenClaim:
    """The survey a token names, if its signature holds and it is younger
    than ``max_age``; raises TokenError. The caller still checks the digest
    against the survey row (a token answers its own survey only)."""
    if not token or len(token) > 200:
        raise TokenError("invalid", "This survey link is not valid.")
    try:
        value = signing.TimestampSigner(salt=SALT).unsign(token, max_age=max_age)
    except signing.SignatureExpired:
        raise TokenError("expired", "This survey link has expired.") from None
    except signing.BadSignature:
        raise TokenError("invalid", "This survey link is not valid.") from None
    survey_id, _, _ = value.partition(".")
    if not survey_id.isdigit():
        raise TokenError("invalid", "This survey link is not valid.")
    return TokenClaim(int(survey_id), token_digest(token))
