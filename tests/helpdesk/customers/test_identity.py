"""Identity signing: the HMAC a shop's server computes for its logged-in
customer is what the desk accepts, and nothing else. The shop's side is
computed here with the standard library, as a shop would, not with our code."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from helpdesk.customers.identity import identity_hmac, identity_valid
from tests.factories import make_shop

SECRET = "shop-widget-secret-0123456789"


def shop_signs(external_id: str, secret: str = SECRET) -> str:
    return hmac.new(secret.encode("utf-8"), external_id.encode("utf-8"), hashlib.sha256).hexdigest()


@pytest.mark.parametrize("external_id", ["c-1042", "kunde-jörg", "42"])
def test_the_hmac_a_shop_computes_is_valid(external_id):
    mac = shop_signs(external_id)

    assert identity_valid(secret=SECRET, external_id=external_id, mac=mac)
    assert identity_hmac(secret=SECRET, external_id=external_id) == mac


def test_uppercase_hex_is_accepted():
    assert identity_valid(secret=SECRET, external_id="c-1042", mac=shop_signs("c-1042").upper())


@pytest.mark.parametrize(
    ("secret", "external_id", "mac"),
    [
        pytest.param(SECRET, "c-1042", shop_signs("c-1042", secret="another-shops-secret"), id="wrong secret"),
        pytest.param(SECRET, "c-1043", shop_signs("c-1042"), id="signed for another customer"),
        pytest.param(SECRET, "c-1042", shop_signs("c-1042")[:-1], id="last digit cut off"),
        pytest.param(SECRET, "c-1042", shop_signs("c-1042")[:32], id="half the digest"),
        pytest.param(SECRET, "c-1042", shop_signs("c-1042") + "0", id="a digit too many"),
        pytest.param(SECRET, "c-1042", "", id="empty mac"),
        pytest.param("", "c-1042", shop_signs("c-1042", secret=""), id="shop without a secret"),
        pytest.param(SECRET, "", shop_signs(""), id="empty customer id"),
    ],
)
def test_anything_but_the_exact_signature_is_refused(secret, external_id, mac):
    assert not identity_valid(secret=secret, external_id=external_id, mac=mac)


def test_a_mac_with_non_ascii_characters_is_refused_not_an_error():
    assert not identity_valid(secret=SECRET, external_id="c-1042", mac="é" + shop_signs("c-1042")[1:])


def test_each_shop_signs_with_its_own_secret(db):
    acme, _ = make_shop("acme")
    globex, _ = make_shop("globex")

    mac = shop_signs("c-1", secret=acme.widget_secret)

    assert len(acme.widget_secret) >= 32 and acme.widget_secret != globex.widget_secret
    assert identity_valid(secret=acme.widget_secret, external_id="c-1", mac=mac)
    assert not identity_valid(secret=globex.widget_secret, external_id="c-1", mac=mac)
