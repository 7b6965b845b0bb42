from __future__ import annotations

import pytest

from helpdesk.tickets.placeholders import PLACEHOLDERS, PlaceholderValues, placeholders_render

FULL = PlaceholderValues(
    customer_name="Noa Levi",
    order_number="1042",
    order_tracking_url="https://track.example.com/1042",
    order_carrier="DHL",
    agent_first_name="Lena",
)


@pytest.mark.parametrize(
    ("token", "expected"),
    [
        ("{customer.first_name}", "Noa"),
        ("{customer.name}", "Noa Levi"),
        ("{order.number}", "1042"),
        ("{order.tracking_url}", "https://track.example.com/1042"),
        ("{order.carrier}", "DHL"),
        ("{agent.first_name}", "Lena"),
    ],
)
def test_each_placeholder_is_filled(token, expected):
    rendered = placeholders_render(f"<{token}>", FULL)

    assert rendered.text == f"<{expected}>"
    assert rendered.missing == []


def test_the_known_placeholders():
    assert set(PLACEHOLDERS) == set(PlaceholderValues().as_tokens())
    assert placeholders_render(" ".join(PLACEHOLDERS), PlaceholderValues()).missing == list(PLACEHOLDERS)


def test_a_reply_with_several_and_repeated_placeholders():
    text = "Hi {customer.first_name}, order {order.number} ({order.number}) goes by {order.carrier}. {agent.first_name}"

    rendered = placeholders_render(text, FULL)

    assert rendered.text == "Hi Noa, order 1042 (1042) goes by DHL. Lena"


def test_text_without_placeholders_is_unchanged():
    text = "Thanks for waiting! {} {{}} { customer.name } {Customer.Name}"

    assert placeholders_render(text, FULL) == placeholders_render(text, PlaceholderValues())
    assert placeholders_render(text, FULL).text == text
    assert placeholders_render(text, FULL).missing == []


@pytest.mark.parametrize(
    "text",
    [
        "{order.total}",
        "{customer.email}",
        "{customer.first_name.__class__}",
        "{customer.__init__.__globals__}",
        "{0}",
        "{agent}",
        "{order.number!r}",
        "{order.number:>10}",
        "{{order.number}}x",
    ],
)
def test_unknown_or_malformed_placeholders_stay_as_typed(text):
    rendered = placeholders_render(text, FULL)

    expected = text.replace("{order.number}", "1042")  # only the exact known token inside "{{...}}"
    assert rendered.text == expected
    assert rendered.missing == []


def test_missing_values_render_empty_and_are_reported_once_in_order_of_use():
    text = "Order {order.number} via {order.carrier}: {order.tracking_url}. Again {order.number}. {agent.first_name}"

    rendered = placeholders_render(text, PlaceholderValues(customer_name="Noa", agent_first_name="Lena"))

    assert rendered.text == "Order  via : . Again . Lena"
    assert rendered.missing == ["{order.number}", "{order.carrier}", "{order.tracking_url}"]


def test_only_used_placeholders_are_reported_missing():
    rendered = placeholders_render("Hi {customer.first_name}", PlaceholderValues(customer_name="Noa"))

    assert rendered.missing == []


@pytest.mark.parametrize("name", ["", "   "])
def test_a_customer_without_a_name_leaves_both_name_placeholders_missing(name):
    rendered = placeholders_render("Hi {customer.first_name} / {customer.name}", PlaceholderValues(customer_name=name))

    assert rendered.text == "Hi  / "
    assert rendered.missing == ["{customer.first_name}", "{customer.name}"]


@pytest.mark.parametrize(
    ("name", "first"),
    [
        ("Noa", "Noa"),
        ("  Noa   Levi ", "Noa"),
        ("Carol Méndez", "Carol"),
        ("נועה לוי", "נועה"),
        ("Jean-Luc X", "Jean-Luc"),
    ],
)
def test_the_first_name_is_the_first_word_of_the_name(name, first):
    assert placeholders_render("{customer.first_name}", PlaceholderValues(customer_name=name)).text == first


def test_values_that_look_like_placeholders_or_format_fields_are_not_expanded_again():
    values = PlaceholderValues(
        customer_name="{order.number} {agent.first_name}",
        order_number="{customer.__class__}",
        agent_first_name="{0}",
    )

    rendered = placeholders_render("{customer.name}|{order.number}|{agent.first_name}", values)

    assert rendered.text == "{order.number} {agent.first_name}|{customer.__class__}|{0}"
    assert rendered.missing == []


def test_braces_and_percent_signs_in_the_text_are_kept():
    text = "50% off {order.number} {not closed, %s %(x)s $name ${x}"

    assert placeholders_render(text, FULL).text == "50% off 1042 {not closed, %s %(x)s $name ${x}"


def test_an_empty_text():
    rendered = placeholders_render("", PlaceholderValues())

    assert rendered.text == ""
    assert rendered.missing == []


def test_whitespace_only_values_count_as_missing():
    rendered = placeholders_render("{order.carrier}", PlaceholderValues(order_carrier="  "))

    assert rendered.text == ""
    assert rendered.missing == ["{order.carrier}"]
