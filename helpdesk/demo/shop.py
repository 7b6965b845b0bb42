"""The demo shop's customers and orders, built as a shop sync payload so they
load through the same path a real shop uses.

Everything comes from one seeded Random and times are offsets from ``now``,
so the same call gives the same shop.
"""

from __future__ import annotations

import random
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

CUSTOMER_COUNT = 300
ORDER_COUNT = 900
HISTORY_DAYS = 730
SHIPPING_FEE = Decimal("4.90")
FREE_SHIPPING_FROM = Decimal("80.00")
WAREHOUSE = "Leipzig, DE"
# Customers who stopped buying (the churn the retention report counts): of those
# who came more than LAPSE_AFTER_DAYS ago, this share placed their last order
# 10 to 17 months (LAPSE_DAYS_AGO) before now, so some drop out of the
# report's one-year window in any month.
LAPSE_SHARE = 0.6
LAPSE_AFTER_DAYS = 330
LAPSE_DAYS_AGO = (300, 520)

# (sku, name, category, unit price); sized goods get a size appended.
CATALOG: tuple[tuple[str, str, str, str], ...] = (
    ("TNT-ALP-2P", "Alpine 2P tent", "tents", "349.00"),
    ("TNT-TRK-3P", "Trekker 3P tent", "tents", "429.00"),
    ("TNT-ULT-1P", "Ultralight 1P tent", "tents", "289.00"),
    ("BPK-TRL-45", "Trail 45 L backpack", "backpacks", "139.00"),
    ("BPK-EXP-65", "Expedition 65 L backpack", "backpacks", "219.00"),
    ("BPK-DAY-22", "Daypack 22 L", "backpacks", "69.00"),
    ("FTW-RDG-MID", "Ridge Mid GTX hiking boots", "footwear", "179.00"),
    ("FTW-SCR-TRL", "Scree trail running shoes", "footwear", "129.00"),
    ("FTW-RVR-SND", "River sandals", "footwear", "59.00"),
    ("JKT-STM-3L", "Storm 3L hardshell jacket", "jackets", "299.00"),
    ("JKT-SMT-DWN", "Summit down jacket", "jackets", "249.00"),
    ("JKT-BSC-FLC", "Basecamp fleece", "jackets", "79.00"),
    ("STV-MINI", "Mini canister stove", "stoves", "49.00"),
    ("STV-SYS-1L", "1 L stove system", "stoves", "139.00"),
    ("STV-GAS-230", "Gas canister 230 g", "stoves", "6.90"),
    ("SLB-DWN-M5", "Down sleeping bag -5 °C", "sleeping bags", "279.00"),
    ("SLB-SYN-P5", "Synthetic sleeping bag +5 °C", "sleeping bags", "119.00"),
    ("MAT-INS-R4", "Insulated sleeping mat R4", "sleeping mats", "119.00"),
    ("LGT-HL-400", "Headlamp 400 lm", "lighting", "39.00"),
    ("POL-CRB", "Carbon trekking poles (pair)", "trekking poles", "99.00"),
    ("WTR-FLT-SQZ", "Squeeze water filter", "water", "44.00"),
    ("WTR-BTL-1L", "Insulated bottle 1 L", "water", "29.00"),
)
SIZES = {"footwear": ["EU 38", "EU 40", "EU 41", "EU 42", "EU 43", "EU 44", "EU 45"], "jackets": ["S", "M", "L", "XL"]}


def _names(native: str, latin: str | None = None) -> list[tuple[str, str]]:
    """Names as written, each with the Latin spelling used for e-mail addresses."""
    return list(zip(native.split(), (latin or native).split(), strict=True))


# language: (first names, last names)
NAMES: dict[str, tuple[list[tuple[str, str]], list[tuple[str, str]]]] = {
    "he": (
        _names(
            "נועה יונתן מאיה איתי תמר אורי שירה דניאל רוני עומר אביגיל ליה",
            "noa yonatan maya itai tamar uri shira daniel roni omer avigail lia",
        ),
        _names(
            "לוי כהן מזרחי פרץ ביטון אברהם פרידמן שפירא גולן אזולאי",
            "levi cohen mizrahi peretz biton avraham friedman shapira golan azulay",
        ),
    ),
    "fa": (
        _names(
            "سارا علی مریم رضا نگار امیر زهرا محمد پریسا کاوه شیرین آرش",
            "sara ali maryam reza negar amir zahra mohammad parisa kaveh shirin arash",
        ),
        _names(
            "احمدی حسینی رضایی کریمی موسوی تهرانی جعفری صادقی نوری رحیمی",
            "ahmadi hosseini rezaei karimi mousavi tehrani jafari sadeghi nouri rahimi",
        ),
    ),
    "de": (
        _names("Lukas Anna Felix Lea Jonas Marie Paul Sophie Leon Hannah Max Emilia"),
        _names("Müller Schmidt Schneider Fischer Weber Meyer Wagner Becker Hoffmann Schäfer Koch Richter"),
    ),
    "es": (
        _names("Lucía Hugo Martina Pablo Sofía Daniel Carmen Alejandro Paula Javier Elena Diego"),
        _names("García Fernández González Rodríguez López Martínez Sánchez Pérez Gómez Ruiz Díaz Moreno"),
    ),
    "en": (
        _names("Oliver Emma Jack Olivia Harry Amelia George Isla Noah Ava Charlie Mia James Grace"),
        _names("Smith Jones Taylor Brown Williams Wilson Johnson Davies Robinson Wright Thompson Evans Walker"),
    ),
}
LOCALE_WEIGHTS = {"en": 30, "de": 28, "es": 17, "he": 14, "fa": 11}
# Where customers of each language live: (country, locale tag, cities).
HOMES: dict[str, list[tuple[str, str, list[str]]]] = {
    "en": [("GB", "en-GB", ["London", "Manchester", "Bristol", "Edinburgh"]), ("IE", "en-IE", ["Dublin", "Cork"])],
    "de": [("DE", "de-DE", ["Berlin", "Hamburg", "München", "Köln", "Leipzig"]), ("AT", "de-AT", ["Wien", "Graz"])],
    "es": [("ES", "es-ES", ["Madrid", "Barcelona", "Valencia", "Sevilla", "Bilbao"])],
    "he": [("IL", "he", ["Tel Aviv", "Jerusalem", "Haifa", "Be'er Sheva"])],
    "fa": [("DE", "fa", ["Berlin", "Hamburg", "Frankfurt"]), ("SE", "fa", ["Stockholm", "Göteborg"])],
}
# (carrier, weight) per country, and how many days each country's parcels take.
CARRIERS = {
    "DE": [("DHL", 7), ("DPD", 3)],
    "AT": [("DHL", 6), ("DPD", 4)],
    "GB": [("DPD", 5), ("UPS", 5)],
    "IE": [("DPD", 4), ("UPS", 6)],
    "ES": [("Correos", 6), ("UPS", 4)],
    "IL": [("Israel Post", 7), ("DHL Express", 3)],
    "SE": [("PostNord", 6), ("DHL", 4)],
}
TRANSIT_DAYS = {"DE": (1, 2), "AT": (2, 3), "GB": (3, 5), "IE": (3, 5), "ES": (3, 5), "IL": (6, 10), "SE": (3, 5)}
HUBS = {
    "DE": "Kassel hub, DE",
    "AT": "Wien Inzersdorf, AT",
    "GB": "Hinckley hub, GB",
    "IE": "Dublin hub, IE",
    "ES": "Zaragoza hub, ES",
    "IL": "Ben Gurion Airport customs, IL",
    "SE": "Jönköping hub, SE",
}
PHONES = {
    "DE": "+49 15{0} {1}{2}{3}{4} {5}{6}{7}{8}",
    "AT": "+43 66{0} {1}{2}{3} {4}{5}{6}{7}",
    "GB": "+44 7{0}{1}{2} {3}{4}{5}{6}{7}{8}",
    "IE": "+353 8{0} {1}{2}{3} {4}{5}{6}{7}",
    "ES": "+34 6{0}{1} {2}{3}{4} {5}{6}{7}",
    "IL": "+972 5{0}-{1}{2}{3}-{4}{5}{6}{7}",
    "SE": "+46 7{0} {1}{2}{3} {4}{5} {6}{7}",
}
DELAY_REASONS = (
    "Delayed: high parcel volume at the sorting centre",
    "Delayed: missed connection to the delivery depot",
    "Delayed by severe weather",
)


def _tracking(rng: random.Random, carrier: str) -> tuple[str, str]:
    def digits(n: int) -> str:
        return "".join(rng.choice("0123456789") for _ in range(n))

    if carrier == "DHL":
        number = "00340434" + digits(12)
        return number, f"https://www.dhl.com/de-en/home/tracking/tracking-parcel.html?tracking-id={number}"
    if carrier == "DHL Express":
        number = digits(10)
        return number, f"https://www.dhl.com/il-en/home/tracking.html?tracking-id={number}"
    if carrier == "DPD":
        number = "0" + digits(13)
        return number, f"https://tracking.dpd.de/status/en_US/parcel/{number}"
    if carrier == "UPS":
        number = "1Z" + "".join(rng.choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(6)) + "68" + digits(8)
        return number, f"https://www.ups.com/track?tracknum={number}"
    if carrier == "Correos":
        number = "PQ" + digits(20) + "N"
        return number, f"https://www.correos.es/es/en/tools/tracker/items/details?tracking-number={number}"
    if carrier == "Israel Post":
        number = "RR" + digits(9) + "DE"
        return number, f"https://israelpost.co.il/en/itemtrace?itemcode={number}"
    number = "00370" + digits(15)  # PostNord
    return number, f"https://tracking.postnord.com/se/?id={number}"


def iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


@dataclass
class DemoCustomer:
    external_id: str
    first_name: str  # as the customer writes it, used to greet them
    first_name_latin: str  # used to greet them in a language other than their own
    language: str  # he, fa, de, es or en
    country: str
    city: str
    record: dict[str, Any]
    orders: list[DemoOrder] = field(default_factory=list)
    last_order_by: datetime | None = None  # set for a customer who stopped buying

    @property
    def first_seen(self) -> datetime:
        return datetime.fromisoformat(self.record["first_seen_at"])


@dataclass
class DemoOrder:
    """An order's sync record and the facts the ticket history builds on."""

    customer: DemoCustomer
    record: dict[str, Any]
    placed_at: datetime
    total: Decimal
    status: str
    late: bool = False  # delivered, or still expected, after its promised date
    shipped_at: datetime | None = None
    expected_at: datetime | None = None
    delivered_at: datetime | None = None
    items: list[dict[str, Any]] = field(default_factory=list)

    @property
    def number(self) -> str:
        return self.record["number"]


def _skewed_days_ago(rng: random.Random, span: float) -> float:
    # A growing shop: more recent activity than old.
    return span * rng.random() ** 1.5


def _build_customers(rng: random.Random, now: datetime) -> list[DemoCustomer]:
    customers: list[DemoCustomer] = []
    used_emails: set[str] = set()
    languages = list(LOCALE_WEIGHTS)
    for n in range(CUSTOMER_COUNT):
        language = rng.choices(languages, weights=list(LOCALE_WEIGHTS.values()))[0]
        firsts, lasts = NAMES[language]
        (first, first_latin), (last, last_latin) = rng.choice(firsts), rng.choice(lasts)
        # Some Hebrew and Persian speakers give their name in Latin letters.
        if language in ("he", "fa") and rng.random() < 0.3:
            first, last = first_latin.title(), last_latin.title()
        country, locale, cities = rng.choice(HOMES[language])
        local = _ascii(f"{first_latin}.{last_latin}")
        email = f"{local}@example.{rng.choice(['com', 'org', 'net'])}"
        while email in used_emails:
            email = f"{local}{rng.randint(2, 99)}@example.com"
        used_emails.add(email)
        phone = PHONES[country].format(*(rng.randint(0, 9) for _ in range(9))) if rng.random() < 0.8 else ""
        first_seen = now - timedelta(days=_skewed_days_ago(rng, HISTORY_DAYS), minutes=rng.randint(0, 1439))
        tags = ["newsletter"] if rng.random() < 0.4 else []
        if rng.random() < 0.04:
            tags.append("b2b")
        customer = DemoCustomer(
            external_id=f"cus_{1001 + n}",
            first_name=first,
            first_name_latin=first_latin.title(),
            language=language,
            country=country,
            city=rng.choice(cities),
            record={
                "id": f"cus_{1001 + n}",
                "email": email,
                "name": f"{first} {last}",
                "phone": phone,
                "locale": locale,
                "tier": "standard",
                "tags": tags,
                "first_seen_at": iso(first_seen),
            },
        )
        customers.append(customer)
    return customers


def _ascii(text: str) -> str:
    return unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower().replace(" ", "")


def _items(rng: random.Random) -> list[dict[str, Any]]:
    items = []
    for sku, name, category, price in rng.sample(CATALOG, k=rng.choices([1, 2, 3, 4], weights=[45, 30, 17, 8])[0]):
        if category in SIZES:
            size = rng.choice(SIZES[category])
            sku, name = f"{sku}-{size.replace('EU ', '')}", f"{name} ({size})"
        quantity = rng.randint(2, 4) if sku == "STV-GAS-230" else 1 if rng.random() < 0.9 else 2
        items.append({"sku": sku, "name": name, "category": category, "quantity": quantity, "unit_price": price})
    return items


def _scans(
    rng: random.Random, order: DemoOrder, carrier: str, fate: str, now: datetime
) -> tuple[list[dict[str, Any]], str]:
    """The carrier's scans up to now, and the shipping status they leave."""
    shipped, expected, arrives = order.shipped_at, order.expected_at, order.delivered_at
    assert shipped and expected  # only shipped orders have scans
    country = order.customer.country
    destination = f"{order.customer.city}, {country}"
    planned: list[tuple[datetime, str, str, str]] = [
        (shipped - timedelta(hours=rng.randint(2, 8)), "label_created", WAREHOUSE, "Shipping label created"),
        (shipped, "in_transit", WAREHOUSE, f"Parcel handed over to {carrier}"),
        (
            shipped + (expected - shipped) * 0.4,
            "in_transit",
            HUBS[country],
            "Customs cleared" if country == "IL" else "Arrived at sorting centre",
        ),
    ]
    if fate == "late":
        planned.append((expected + timedelta(hours=6), "delayed", HUBS[country], rng.choice(DELAY_REASONS)))
    if fate in ("missed", "unclaimed"):
        planned.append((expected, "exception", destination, "Recipient not at home; parcel taken to a pickup point"))
    if fate == "unclaimed":
        planned.append((expected + timedelta(days=9), "returned", WAREHOUSE, "Not collected; returned to sender"))
    if arrives and fate != "missed":
        planned.append(
            (arrives - timedelta(hours=rng.randint(2, 5)), "out_for_delivery", destination, "Out for delivery")
        )
    if arrives:
        what = rng.choice(["Delivered to recipient", "Left with a neighbour", "Delivered to parcel locker"])
        planned.append(
            (arrives, "delivered", destination, "Collected at the pickup point" if fate == "missed" else what)
        )
    seen: list[dict[str, Any]] = [
        {"occurred_at": iso(at), "status": status, "location": where, "description": what}
        for at, status, where, what in planned
        if at <= now
    ]
    return seen, seen[-1]["status"] if seen else "not_shipped"


def _build_order(rng: random.Random, customer: DemoCustomer, placed: datetime, now: datetime) -> DemoOrder:
    items = _items(rng)
    subtotal = sum((Decimal(i["unit_price"]) * i["quantity"] for i in items), Decimal("0"))
    total = subtotal + (SHIPPING_FEE if subtotal < FREE_SHIPPING_FROM else Decimal("0"))
    order = DemoOrder(customer=customer, record={}, placed_at=placed, total=total, status="paid", items=items)
    names, weights = zip(*CARRIERS[customer.country], strict=True)
    carrier = rng.choices(names, weights=weights)[0]
    paid_at: datetime | None = placed + timedelta(minutes=rng.randint(0, 20))
    shipped = placed + timedelta(hours=rng.randint(14, 44))
    shipping_status, events = "not_shipped", []
    tracking_number = tracking_url = ""
    roll = rng.random()

    if now - placed < timedelta(days=1) and roll < 0.25:
        order.status, paid_at, carrier = "pending", None, ""
    elif roll < 0.04:
        order.status, carrier = "cancelled", ""
        paid_at = paid_at if rng.random() < 0.5 else None
    elif shipped > now:
        # Paid and packed, waiting for the carrier's pick-up.
        tracking_number, tracking_url = _tracking(rng, carrier)
        shipping_status = "label_created"
        labelled = placed + (now - placed) * rng.uniform(0.3, 0.9)
        events = [
            {
                "occurred_at": iso(labelled),
                "status": "label_created",
                "location": WAREHOUSE,
                "description": "Shipping label created",
            }
        ]
    else:
        low, high = TRANSIT_DAYS[customer.country]
        expected = shipped + timedelta(days=rng.randint(low, high), hours=rng.randint(0, 6))
        fate = rng.choices(["on_time", "late", "missed", "unclaimed"], weights=[85, 12, 2, 1])[0]
        if fate == "late":
            arrives: datetime | None = expected + timedelta(days=rng.randint(3, 9), hours=rng.randint(0, 8))
        elif fate == "missed":
            arrives = expected + timedelta(days=rng.randint(1, 4), hours=rng.randint(0, 8))
        elif fate == "unclaimed":
            arrives = None
        else:
            arrives = max(expected - timedelta(hours=rng.randint(0, 20)), shipped + (expected - shipped) * 0.7)
        order.shipped_at, order.expected_at = shipped, expected
        order.delivered_at = arrives if arrives and arrives <= now else None
        order.late = fate == "late"
        tracking_number, tracking_url = _tracking(rng, carrier)
        events, shipping_status = _scans(rng, order, carrier, fate, now)
        if shipping_status == "returned":
            order.status = "returned"
        elif order.delivered_at is None:
            order.status = "shipped"
        elif now - order.delivered_at > timedelta(days=14):
            after = rng.random()
            order.status = "returned" if after < 0.06 else "refunded" if after < 0.09 else "delivered"
        else:
            order.status = "delivered"

    order.record = {
        "customer_id": customer.external_id,
        "status": order.status,
        "placed_at": iso(placed),
        "paid_at": iso(paid_at),
        "shipped_at": iso(order.shipped_at),
        "expected_delivery_at": iso(order.expected_at),
        "delivered_at": iso(order.delivered_at),
        "total": str(total),
        "currency": "EUR",
        "carrier": carrier,
        "tracking_number": tracking_number,
        "tracking_url": tracking_url,
        "shipping_status": shipping_status,
        "items": items,
        "shipping_events": events,
    }
    return order


def _active_share(customer: DemoCustomer, now: datetime) -> float:
    if customer.last_order_by is None:
        return 1.0
    return max((customer.last_order_by - customer.first_seen) / (now - customer.first_seen), 0.3)


def _tier(customer: DemoCustomer) -> str:
    spent = sum((o.total for o in customer.orders if o.status in {"paid", "shipped", "delivered"}), Decimal("0"))
    if spent >= 3500:
        return "vip"
    if spent >= 2000:
        return "gold"
    if spent >= 800:
        return "silver"
    return "standard"


def _lapse(rng: random.Random, customers: list[DemoCustomer], now: datetime) -> None:
    for customer in customers:
        if now - customer.first_seen > timedelta(days=LAPSE_AFTER_DAYS) and rng.random() < LAPSE_SHARE:
            last = now - timedelta(days=rng.uniform(*LAPSE_DAYS_AGO))
            customer.last_order_by = max(last, customer.first_seen + timedelta(days=30))


def _placed(rng: random.Random, customer: DemoCustomer, now: datetime, *, first: bool) -> datetime:
    """When one of the customer's orders was placed: more often lately. Of a
    customer who stopped buying, the first order drawn is placed shortly
    before they stopped, so the stop shows as their last order."""
    until = customer.last_order_by or now
    if customer.last_order_by is not None and first:
        return until - timedelta(days=rng.uniform(0, 14))
    return until - timedelta(seconds=(until - customer.first_seen).total_seconds() * rng.random() ** 1.5)


def demo_shop_build(rng: random.Random, now: datetime) -> tuple[list[DemoCustomer], list[DemoOrder]]:
    """Customers and orders of the demo shop, with their sync records."""
    customers = _build_customers(rng, now)
    _lapse(rng, customers, now)
    # Some sign up and never buy; a few keen ones buy every other month. Who
    # stopped early had less time to buy.
    keenness = [
        0.0 if rng.random() < 0.08 else min(rng.lognormvariate(0, 0.8), 6.0) * _active_share(c, now) for c in customers
    ]
    buyers = rng.choices(customers, weights=keenness, k=ORDER_COUNT)
    orders, drawn = [], set()
    for customer in buyers:
        placed = _placed(rng, customer, now, first=customer.external_id not in drawn)
        drawn.add(customer.external_id)
        orders.append(_build_order(rng, customer, placed, now))
    orders.sort(key=lambda o: o.placed_at)
    for n, order in enumerate(orders):
        order.record = {"id": f"ord_{50001 + n}", "number": f"DOS-{10001 + n}", **order.record}
        order.customer.orders.append(order)
    for customer in customers:
        customer.record["tier"] = _tier(customer)
        if customer.record["tier"] in ("gold", "vip"):
            customer.record["tags"].append("club-member")
        if len(customer.orders) >= 3:
            customer.record["tags"].append("returning")
    return customers, orders


def demo_shop_payload(customers: list[DemoCustomer], orders: list[DemoOrder]) -> dict[str, list[dict[str, Any]]]:
    return {"customers": [c.record for c in customers], "orders": [o.record for o in orders]}
