"""Routing arithmetic, pure: the language a message is written in, the category
its words and its order point to, and whether a routing rule's conditions hold,
each with the reason. The routing service gathers the facts from the database
and applies the first matching rule; nothing here touches the database.

Keywords are stems matched at the start of a word ("deliver" matches
"delivered"), so one entry covers inflections; short ones (up to 4 Latin or 3
other letters) match whole words only, so "ups" does not match "upset". A
Hebrew word may carry up to two one-letter prefixes ("והחבילה" matches
"חבילה"). An entry with spaces is a phrase: its words must follow each other.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

# Categories are helpdesk.tickets.models.TicketCategory values; kept as plain
# strings so this module imports nothing from the ORM.
DELIVERY, DAMAGED, RETURN, PAYMENT, PRODUCT, ACCOUNT, OTHER = (
    "delivery",
    "damaged",
    "return",
    "payment",
    "product",
    "account",
    "other",
)
# When two categories have as many keyword hits, the first of these wins: a
# broken item that should go back is a damage case before it is a return.
PRECEDENCE = (DAMAGED, RETURN, PAYMENT, DELIVERY, ACCOUNT, PRODUCT)

DEFAULT_KEYWORDS: Mapping[str, Mapping[str, tuple[str, ...]]] = {
    DELIVERY: {
        "en": ("deliver", "parcel", "package", "shipping", "shipment", "shipped", "tracking", "courier", "arriv",
               "late", "delay", "lost", "where is my", "dhl", "ups", "fedex", "postman", "not received"),
        "he": ("משלוח", "חבילה", "שליח", "הגיע", "מעקב", "דואר", "איחור", "מתעכב", "נמסר", "איפה ההזמנה"),
        "fa": ("ارسال", "بسته", "مرسوله", "پست", "پیک", "رهگیری", "نرسیده", "تحویل", "دیر", "کجاست"),
    },
    DAMAGED: {
        "en": ("broken", "broke", "damag", "crack", "shatter", "defect", "scratch", "torn", "dent", "faulty",
               "wrong item", "wrong size", "wrong colour", "wrong color", "missing part", "not working"),
        "he": ("שבור", "נשבר", "פגום", "פגם", "סדוק", "קרוע", "לא עובד", "פריט לא נכון", "לא מה שהזמנתי"),
        "fa": ("شکسته", "خراب", "معیوب", "آسیب", "ترک خورده", "کار نمی کند", "اشتباه"),
    },
    RETURN: {
        "en": ("return", "refund", "money back", "exchange", "send it back", "cancel"),
        "he": ("החזר", "החזרה", "להחזיר", "זיכוי", "ביטול", "לבטל", "החלפה", "להחליף"),
        "fa": ("مرجوع", "بازگشت", "عودت", "بازپرداخت", "برگرداند", "لغو", "تعویض"),
    },
    PAYMENT: {
        "en": ("payment", "pay", "paid", "charge", "card", "invoice", "billing", "paypal", "receipt", "vat"),
        "he": ("תשלום", "שילמתי", "חיוב", "חויב", "כרטיס", "אשראי", "חשבונית", "קבלה"),
        "fa": ("پرداخت", "کارت", "فاکتور", "صورتحساب", "کسر شد", "شارژ", "رسید"),
    },
    PRODUCT: {
        "en": ("size", "fit", "material", "stock", "available", "compatible", "spec", "colour", "color",
               "warranty", "manual", "how do i", "does it"),
        "he": ("מידה", "גודל", "חומר", "מלאי", "זמין", "אחריות", "צבע", "מתאים"),
        "fa": ("سایز", "اندازه", "جنس", "موجود", "گارانتی", "رنگ", "مناسب"),
    },
    ACCOUNT: {
        "en": ("account", "password", "login", "log in", "sign in", "newsletter", "unsubscribe", "my email"),
        "he": ("חשבון", "סיסמה", "התחברות", "להתחבר", "משתמש", "ניוזלטר"),
        "fa": ("حساب", "رمز", "ورود", "کاربری", "خبرنامه"),
    },
}  # fmt: skip

HEBREW_PREFIXES = frozenset("והבלמשכ")
PERSIAN_LETTERS = frozenset("پچژگ")
_MARKS = re.compile("[\u0591-\u05c7\u064b-\u065f\u0670\u0640]")  # Hebrew points, Arabic diacritics, tatweel
_FOLD = str.maketrans({"ي": "ی", "ى": "ی", "ك": "ک", "\u200c": " ", "\u200f": "", "\u200e": ""})
_WORD = re.compile(r"\w+")


def normalize(text: str) -> str:
    """Case-folded, compatibility-normalized text without vowel points, with
    Arabic letter forms folded to the Persian ones and zero-width joiners as spaces."""
    return _MARKS.sub("", unicodedata.normalize("NFKC", text).casefold()).translate(_FOLD)


def words(text: str) -> list[str]:
    return _WORD.findall(normalize(text))


def text_language(text: str) -> str:
    """ "he", "fa", "ar" or "en" by the script most letters are in ("en" stands
    for any Latin-script text); "" when there are no letters."""
    counts = {"he": 0, "arabic": 0, "latin": 0}
    persian = False
    for char in text:
        if not char.isalpha():
            continue
        if "\u0590" <= char <= "\u05ff":
            counts["he"] += 1
        elif "\u0600" <= char <= "\u06ff" or "\ufb50" <= char <= "\ufeff":
            counts["arabic"] += 1
            persian = persian or char in PERSIAN_LETTERS or char in "کی"
        elif char.isascii() or "\u00c0" <= char <= "\u024f":
            counts["latin"] += 1
    script, count = max(counts.items(), key=lambda item: item[1])
    if not count:
        return ""
    if script == "arabic":
        return "fa" if persian else "ar"
    return "he" if script == "he" else "en"


def _stem_match(word: str, stem: str) -> bool:
    # Short stems would match too much as prefixes ("ups" in "upset"): whole words only.
    whole = len(stem) <= (4 if stem.isascii() else 3)

    def fits(rest: str) -> bool:
        return rest == stem if whole else rest.startswith(stem)

    if fits(word):
        return True
    # Hebrew glues one-letter words (and, the, in, to, from, that) to the next.
    return any(
        len(word) > cut + 1 and all(c in HEBREW_PREFIXES for c in word[:cut]) and fits(word[cut:]) for cut in (1, 2)
    )


def keyword_match(tokens: Sequence[str], keyword: str) -> str | None:
    """The words of ``tokens`` the keyword (a stem, or a phrase of stems) matches, or None."""
    parts = words(keyword)
    if not parts:
        return None
    for start in range(len(tokens) - len(parts) + 1):
        if all(_stem_match(tokens[start + i], part) for i, part in enumerate(parts)):
            return " ".join(tokens[start : start + len(parts)])
    return None


def keyword_hits(text: str, keywords: Iterable[str]) -> list[str]:
    """The words of ``text`` that any of ``keywords`` matches, each once, in keyword order."""
    tokens = words(text)
    found = (keyword_match(tokens, keyword) for keyword in keywords)
    return list(dict.fromkeys(match for match in found if match))


@dataclass(frozen=True)
class OrderFacts:
    """What routing needs of the order a ticket is about."""

    number: str
    status: str  # helpdesk.customers.models.OrderStatus value
    expected_delivery_at: datetime | None = None
    delivered_at: datetime | None = None

    @property
    def delivered(self) -> bool:
        return self.delivered_at is not None or self.status == "delivered"

    def overdue(self, now: datetime) -> bool:
        """Paid or shipped, not delivered, and past the date the shop promised."""
        return (
            self.status in ("paid", "shipped")
            and not self.delivered
            and self.expected_delivery_at is not None
            and self.expected_delivery_at < now
        )


@dataclass(frozen=True)
class Categorized:
    category: str
    reason: str


def categorize(
    text: str,
    *,
    now: datetime,
    order: OrderFacts | None = None,
    keywords: Mapping[str, Mapping[str, Sequence[str]]] = DEFAULT_KEYWORDS,
) -> Categorized:
    """The category the customer's words and their order point to.

    Each category scores its keyword hits in every language. The order adds
    weight: one overdue for delivery points to delivery; one delivered and
    described with damage words is a damage case. With no signal: other."""
    hits: dict[str, list[str]] = {}
    for category, by_language in keywords.items():
        found = keyword_hits(text, (k for kws in by_language.values() for k in kws))
        if found:
            hits[category] = found
    scores = {category: float(len(found)) for category, found in hits.items()}
    notes: list[str] = []
    if order is not None and order.overdue(now):
        scores[DELIVERY] = scores.get(DELIVERY, 0) + 1.5
        expected = order.expected_delivery_at.date().isoformat() if order.expected_delivery_at else "?"
        notes.append(f"order #{order.number} was expected by {expected} and is not delivered")
    if order is not None and order.delivered and DAMAGED in hits:
        scores[DAMAGED] += 1.5
        notes.append(f"order #{order.number} was delivered")
    if not scores:
        return Categorized(OTHER, "no keyword or order state points to a category")
    best = max(scores.values())
    category = next(c for c in (*PRECEDENCE, *scores) if scores.get(c) == best)
    parts = []
    if category in hits:
        quoted = ", ".join(f"“{k}”" for k in hits[category][:3])
        parts.append(f"words {quoted}")
    parts.extend(notes if category in (DELIVERY, DAMAGED) else [])
    return Categorized(category, " and ".join(parts) or "order state")


@dataclass(frozen=True)
class Facts:
    """What routing rules look at, gathered once per ticket by the service."""

    category: str
    text: str
    channel: str
    language: str
    sentiment: str = ""  # negative / neutral / positive, "" while untagged
    tier: str = ""
    lifetime_value: Decimal = Decimal(0)
    order_status: str = ""
    in_business_hours: bool = True


@dataclass(frozen=True)
class Conditions:
    """A rule's conditions; an empty one matches anything. Within one condition
    any listed value matches; all non-empty conditions must hold."""

    categories: frozenset[str] = frozenset()
    keywords: tuple[str, ...] = ()
    channels: frozenset[str] = frozenset()
    sentiments: frozenset[str] = frozenset()
    tiers: frozenset[str] = frozenset()
    min_lifetime_value: Decimal | None = None
    order_statuses: frozenset[str] = frozenset()
    languages: frozenset[str] = frozenset()
    business_hours: bool | None = None  # True: only within them, False: only outside

    @property
    def empty(self) -> bool:
        return self == Conditions()


def conditions_check(conditions: Conditions, facts: Facts) -> tuple[bool, str]:
    """Whether ``facts`` meet every condition, and what they matched on."""
    reasons: list[str] = []

    def among(values: frozenset[str], value: str, label: str) -> bool:
        if not values:
            return True
        if value in values:
            reasons.append(f"{label} {value or 'none'}")
            return True
        return False

    if not (
        among(conditions.categories, facts.category, "category")
        and among(conditions.channels, facts.channel, "channel")
        and among(conditions.sentiments, facts.sentiment, "sentiment")
        and among(conditions.tiers, facts.tier, "tier")
        and among(conditions.order_statuses, facts.order_status, "order")
        and among(conditions.languages, facts.language, "language")
    ):
        return False, ""
    if conditions.keywords:
        found = keyword_hits(facts.text, conditions.keywords)
        if not found:
            return False, ""
        reasons.append("words " + ", ".join(f"“{k}”" for k in found[:3]))
    if conditions.min_lifetime_value is not None:
        if facts.lifetime_value < conditions.min_lifetime_value:
            return False, ""
        reasons.append(f"lifetime value {facts.lifetime_value} ≥ {conditions.min_lifetime_value}")
    if conditions.business_hours is not None:
        if facts.in_business_hours != conditions.business_hours:
            return False, ""
        reasons.append("within business hours" if facts.in_business_hours else "outside business hours")
    return True, ", ".join(reasons) or "matches every ticket"


@dataclass(frozen=True)
class Rule:
    id: int
    name: str
    conditions: Conditions = field(default_factory=Conditions)


def rule_first_match(rules: Sequence[Rule], facts: Facts) -> tuple[Rule, str] | None:
    """The first rule, in order, whose conditions hold, with why; None if none does."""
    for rule in rules:
        matched, reason = conditions_check(rule.conditions, facts)
        if matched:
            return rule, reason
    return None
