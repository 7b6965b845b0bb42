from __future__ import annotations

import json
from io import StringIO

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from helpdesk.customers.models import Customer, Order, Shop, api_key_digest
from tests.factories import sync_batch, sync_customer, sync_order


def run(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command(*args, stdout=out, stderr=err)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def shop_file(tmp_path):
    def write(payload) -> str:
        path = tmp_path / "shop.json"
        path.write_text(json.dumps(payload), encoding="utf-8")
        return str(path)

    return write


# -- import_shop ----------------------------------------------------------------------


def test_import_shop_loads_a_file_in_batches_and_prints_counts(shop, shop_file, settings):
    settings.SHOP_SYNC_MAX_RECORDS = 2
    path = shop_file(
        sync_batch([sync_customer(f"c{n}") for n in range(3)], [sync_order(f"o{n}", "c0") for n in range(3)])
    )

    out, _ = run("import_shop", path, "--shop", shop.slug)

    assert Customer.objects.filter(shop=shop).count() == 3
    assert Order.objects.filter(shop=shop).count() == 3
    assert "customers: 3 created, 0 updated, 0 unchanged" in out
    assert "orders: 3 created, 0 updated, 0 unchanged" in out


def test_importing_the_same_file_again_changes_nothing(shop, shop_file):
    path = shop_file(sync_batch([sync_customer("c1")], [sync_order("o1", "c1")]))
    run("import_shop", path, "--shop", shop.slug)

    out, _ = run("import_shop", path, "--shop", shop.slug)

    assert "customers: 0 created, 0 updated, 1 unchanged" in out
    assert "orders: 0 created, 0 updated, 1 unchanged" in out


def test_a_file_with_one_bad_record_stores_nothing(shop, shop_file, settings):
    settings.SHOP_SYNC_MAX_RECORDS = 2
    orders = [sync_order(f"o{n}", "c0") for n in range(4)]
    orders[3]["items"] = [{"sku": "X", "name": "X", "quantity": 0, "unit_price": "1.00"}]
    path = shop_file(sync_batch([sync_customer("c0"), sync_customer("c1"), sync_customer("c2")], orders))

    err = StringIO()
    with pytest.raises(CommandError, match="nothing was imported"):
        call_command("import_shop", path, "--shop", shop.slug, stdout=StringIO(), stderr=err)

    assert "orders[3].items[0].quantity:" in err.getvalue()
    assert not Customer.objects.exists()
    assert not Order.objects.exists()


def test_an_unknown_shop_is_an_error(db, shop_file):
    path = shop_file(sync_batch([sync_customer("c1")]))

    with pytest.raises(CommandError, match="No shop with slug 'nope'"):
        run("import_shop", path, "--shop", "nope")
    assert not Customer.objects.exists()


def test_the_shop_option_is_required(shop, shop_file):
    with pytest.raises(CommandError):
        run("import_shop", shop_file(sync_batch()))


def test_a_file_that_is_not_json_is_an_error(shop, tmp_path):
    path = tmp_path / "shop.json"
    path.write_text("{customers: [", encoding="utf-8")

    with pytest.raises(CommandError, match="not UTF-8 JSON"):
        run("import_shop", str(path), "--shop", shop.slug)


def test_a_missing_file_is_an_error(shop, tmp_path):
    with pytest.raises(CommandError, match="Cannot read"):
        run("import_shop", str(tmp_path / "missing.json"), "--shop", shop.slug)


# -- shop_create ----------------------------------------------------------------------


def test_shop_create_prints_the_key_once_and_stores_its_digest(db):
    out, _ = run("shop_create", "acme", "Acme Outdoor", "--currency", "usd")

    shop = Shop.objects.get(slug="acme")
    lines = out.strip().splitlines()
    raw_key = lines[lines.index("API key, shown only now; store it in the shop's settings:") + 1]
    assert (shop.name, shop.currency) == ("Acme Outdoor", "USD")
    assert shop.api_key_digest == api_key_digest(raw_key)
    assert raw_key not in {shop.api_key_digest, shop.api_key_prefix}
    assert lines[-1] == shop.widget_secret  # for signing logged-in customers in the chat


@pytest.mark.parametrize(
    ("args", "problem"),
    [
        (("acme", "Again"), "already exists"),
        (("not a slug", "Name"), "slug"),
        (("fresh", "Name", "--currency", "EURO"), "currency"),
    ],
)
def test_shop_create_refuses_bad_input(shop, args, problem):
    with pytest.raises(CommandError, match=problem):
        run("shop_create", *args)
    assert Shop.objects.count() == 1
