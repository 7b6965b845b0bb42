"""Routing arithmetic: language by script, categories from words in English,
Hebrew and Persian and from the order's state, and rule conditions, each with
the reason an agent reads in the ticket's history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from helpdesk.tickets.routing import (
    Conditions,
    Facts,
    OrderFacts,
    Rule,
    categorize,
    conditions_check,
    keyword_hits,
    normalize,
    rule_first_match,
    text_language,
)

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Where is my parcel?", "en"),
        ("¿Dónde está mi pedido?", "en"),  # Latin script: routing cannot tell the languages apart
        ("החבילה שלי לא הגיעה", "he"),
        ("بسته من هنوز نرسیده است", "fa"),
        ("أين طلبي؟", "ar"),
        ("order #1042 החבילה לא הגיעה עדיין", "he"),  # most letters decide
        ("🙂 123 !!!", ""),
    ],
)
def test_language_is_the_script_most_letters_are_in(text, language):
    assert text_language(text) == language


def test_normalize_folds_case_points_and_arabic_letter_forms():
    assert normalize("PARCEL") == "parcel"
    assert normalize("שָׁלוֹם") == "שלום"
    assert normalize("كتاب علي") == "کتاب علی"
    assert normalize("می\u200cخواهم") == "می خواهم"  # noqa: RUF001


@pytest.mark.parametrize(
    ("text", "category"),
    [
        ("Hi, where is my parcel? It has not arrived yet", "delivery"),
        ("The vase arrived broken, half of it is cracked", "damaged"),
        ("I would like a refund please", "return"),
        ("You charged my card twice", "payment"),
        ("Does this jacket come in a larger size?", "product"),
        ("I cannot log in, password reset does not work", "account"),
        ("Hello!", "other"),
        # Hebrew, with prefixes glued to the words
        ("החבילה שלי עדיין לא הגיעה, מה עם המשלוח?", "delivery"),
        ("הכוס הגיעה שבורה", "damaged"),
        ("אני רוצה להחזיר את המעיל ולקבל זיכוי", "return"),
        ("חויב לי כרטיס האשראי פעמיים", "payment"),
        ("שכחתי את הסיסמה לחשבון", "account"),
        # Persian, with a zero-width non-joiner inside a verb
        ("بسته من هنوز نرسیده، کد رهگیری کار نمی\u200cکند", "delivery"),
        ("گلدان شکسته به دستم رسید", "damaged"),
        ("می\u200cخواهم سفارش را مرجوع کنم و بازپرداخت بگیرم", "return"),  # noqa: RUF001
        ("پرداخت انجام شد ولی سفارش ثبت نشد و کارت من دوبار کسر شد", "payment"),
    ],
)
def test_words_point_to_a_category_in_three_languages(text, category):
    assert categorize(text, now=NOW).category == category


def test_short_keywords_match_whole_words_only():
    assert keyword_hits("I am so upset", ["ups"]) == []
    assert keyword_hits("sent with UPS yesterday", ["ups"]) == ["ups"]
    assert keyword_hits("I will order later", ["late"]) == []
    assert keyword_hits("it was delivered", ["deliver"]) == ["delivered"]


def test_a_phrase_needs_its_words_in_order():
    assert keyword_hits("they sent the wrong item again", ["wrong item"]) == ["wrong item"]
    assert keyword_hits("the item was wrong", ["wrong item"]) == []


def test_an_overdue_order_points_to_delivery_even_without_words():
    order = OrderFacts(number="A-77", status="shipped", expected_delivery_at=NOW - timedelta(days=2))

    decided = categorize("Any news?", now=NOW, order=order)

    assert decided.category == "delivery"
    assert "order #A-77 was expected by 2026-11-21 and is not delivered" in decided.reason


def test_an_order_not_yet_due_adds_nothing():
    order = OrderFacts(number="A-77", status="shipped", expected_delivery_at=NOW + timedelta(days=2))

    assert categorize("Any news?", now=NOW, order=order).category == "other"


def test_a_delivered_order_with_damage_words_is_a_damage_case_before_a_return():
    order = OrderFacts(number="A-77", status="delivered", delivered_at=NOW - timedelta(days=1))

    decided = categorize("It is broken, I want to return it and get a refund", now=NOW, order=order)

    assert decided.category == "damaged"
    assert "“broken”" in decided.reason and "order #A-77 was delivered" in decided.reason


def test_ties_follow_the_precedence_and_the_reason_quotes_the_words():
    decided = categorize("refund for the broken lamp", now=NOW)

    assert decided.category == "damaged"
    assert decided.reason == "words “broken”"


def test_custom_keyword_sets_replace_the_defaults():
    keywords = {"payment": {"de": ("rechnung",)}}

    assert categorize("Wo ist meine Rechnung?", now=NOW, keywords=keywords).category == "payment"
    assert categorize("parcel late", now=NOW, keywords=keywords).category == "other"


FACTS = Facts(
    category="delivery",
    text="my parcel is late and I am angry",
    channel="chat",
    language="en",
    sentiment="negative",
    tier="vip",
    lifetime_value=Decimal("1200.00"),
    order_status="shipped",
    in_business_hours=True,
)


def test_an_empty_rule_matches_everything():
    assert conditions_check(Conditions(), FACTS) == (True, "matches every ticket")


def test_every_condition_must_hold_and_the_reason_names_what_matched():
    conditions = Conditions(
        categories=frozenset({"delivery", "damaged"}),
        sentiments=frozenset({"negative"}),
        min_lifetime_value=Decimal("1000"),
        keywords=("angry", "furious"),
        business_hours=True,
    )

    matched, reason = conditions_check(conditions, FACTS)

    assert matched
    assert reason == (
        "category delivery, sentiment negative, words “angry”, lifetime value 1200.00 ≥ 1000, within business hours"
    )


@pytest.mark.parametrize(
    "conditions",
    [
        Conditions(categories=frozenset({"payment"})),
        Conditions(channels=frozenset({"email"})),
        Conditions(sentiments=frozenset({"positive"})),
        Conditions(tiers=frozenset({"standard"})),
        Conditions(min_lifetime_value=Decimal("5000")),
        Conditions(order_statuses=frozenset({"delivered"})),
        Conditions(languages=frozenset({"he"})),
        Conditions(business_hours=False),
        Conditions(keywords=("refund",)),
    ],
)
def test_one_failing_condition_fails_the_rule(conditions):
    assert conditions_check(conditions, FACTS) == (False, "")


def test_the_first_matching_rule_wins():
    rules = [
        Rule(1, "Payments", Conditions(categories=frozenset({"payment"}))),
        Rule(2, "Angry VIPs", Conditions(tiers=frozenset({"vip"}), sentiments=frozenset({"negative"}))),
        Rule(3, "Logistics", Conditions(categories=frozenset({"delivery"}))),
        Rule(4, "Default"),
    ]

    match = rule_first_match(rules, FACTS)
    assert match is not None
    rule, reason = match

    assert rule.name == "Angry VIPs"
    assert reason == "sentiment negative, tier vip"
    assert rule_first_match(rules[:1], FACTS) is None
