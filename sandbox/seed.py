"""A deterministic marketplace world that both emulators are seeded from.

The BigCommerce and Mirakl emulators must agree on which products exist where (a Mirakl `product_sku` is the
SKU of its BigCommerce variant), so they are seeded from one generated world instead of each inventing data.
The same seed always gives the same world, which is what makes tests and benchmarks repeatable.

Planted on purpose, because the bridge must handle them: products offered by several sellers; a suspended
seller; offers out of stock, inactive and deleted; a Mirakl product whose SKU collides with a native product;
Mirakl products with no BigCommerce listing (mapping errors); a seller without standard shipping in the US;
orders in every BigCommerce status, several of them mixing native and marketplace lines across two sellers;
and, on two orders the other scenarios leave unpaid (103, 106), money as a real store has it: marketplace lines
of two units with a discount, a display currency other than the one the shopper pays in, and (106) a shopper
paying in another currency than the store's. The store's currency is a seed setting, so a JPY (no decimals) or
KWD (three decimals) world is generated with prices in whole yen or fils.
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sandbox.minor_units import minor_exponent, round_to

__all__ = [
    "CURRENCY",
    "SANDBOX_EPOCH",
    "NativeProduct",
    "Offer",
    "SeedConfig",
    "SeedOrder",
    "SeedOrderLine",
    "Seller",
    "World",
    "build_world",
]

CURRENCY = "USD"
SANDBOX_EPOCH = datetime(2026, 11, 1, tzinfo=UTC)

# Shipping types each seller offers per Mirakl shipping zone (a seller's shipping settings in Mirakl). One seller
# ships only express inside the US: an order that asks every seller for standard shipping cannot reach it.
SHIPPING_TYPES = {"US": ("STD", "EXP", "NXT"), "EU": ("STD", "EXP"), "INT": ("STD",)}
EXPRESS_ONLY_US = {"US": ("EXP",), "EU": ("STD", "EXP"), "INT": ("STD",)}
EXPRESS_ONLY_POSITION = 1

_FIRST_NAMES = ("Alex", "Sam", "Robin", "Charlie", "Jamie", "Morgan", "Taylor", "Casey")
_LAST_NAMES = ("Martin", "Bernard", "Dubois", "Moreau", "Laurent", "Simon", "Michel", "Lefebvre")
_CITIES = (("Austin", "TX", "78701", "US"), ("Lyon", "", "69001", "FR"), ("Berlin", "", "10115", "DE"))
# Orders (by index: 103, 106) whose marketplace lines hold two discounted units, shown in a display currency
# other than the one the shopper pays in; 106's shopper pays in a currency that is not the store's.
_MONEY_ORDERS = (3, 6)
_FOREIGN_PAYMENT_ORDER = 6


def _amount(minor_units: int, currency: str) -> Decimal:
    """A generated amount of `minor_units` cents read in the currency's own unit (whole yen, fils, cents)."""
    return Decimal(minor_units).scaleb(-minor_exponent(currency))


@dataclass(frozen=True)
class SeedConfig:
    """How big the world is; the defaults suit tests and the demo, benchmarks scale `marketplace_products`."""

    seed: int = 42
    sellers: int = 4
    marketplace_products: int = 40
    max_offers_per_product: int = 3
    native_products: int = 10
    unlisted_products: int = 2
    orders: int = 12
    currency: str = CURRENCY  # the store's (and every seller's) currency, ISO 4217
    dropship_supplier: bool = True  # one DROPSHIP seller account with one offer (a hybrid tenant)


@dataclass(frozen=True)
class Seller:
    shop_id: int
    shop_name: str
    shop_state: str  # OPEN | SUSPENDED | CLOSE | TERMINATED
    currency_iso_code: str = CURRENCY
    refuses_orders: bool = False  # the emulator's simulated seller refuses every order it gets
    shipping_types: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(SHIPPING_TYPES))
    model: str = "MARKETPLACE"  # MARKETPLACE | DROPSHIP | ONE_CREDITOR (the seller account's platform model)


@dataclass
class Offer:
    offer_id: int
    shop_id: int
    product_sku: str
    shop_sku: str
    price: Decimal
    min_shipping_price: Decimal
    quantity: int
    active: bool = True
    deleted: bool = False
    currency_iso_code: str = CURRENCY
    last_updated: datetime = SANDBOX_EPOCH
    model: str = "MARKETPLACE"
    retail_price: Decimal | None = None  # DROPSHIP only: the selling price; `price` is then the purchase price


@dataclass(frozen=True)
class MarketplaceProduct:
    """A Mirakl catalog product; listed ones have a BigCommerce product with one variant of the same SKU."""

    product_sku: str
    title: str
    listed: bool
    bc_product_id: int | None
    bc_variant_id: int | None


@dataclass(frozen=True)
class NativeProduct:
    """A first-party BigCommerce product the bridge must never touch."""

    bc_product_id: int
    bc_variant_id: int
    sku: str
    name: str
    price: Decimal
    inventory_level: int


@dataclass(frozen=True)
class SeedOrderLine:
    bc_product_id: int
    bc_variant_id: int
    sku: str
    name: str
    quantity: int
    price_ex_tax: Decimal
    tax_rate: Decimal
    marketplace: bool
    discount: Decimal = Decimal("0")  # the line's applied_discounts total, taken off its tax-included total


@dataclass(frozen=True)
class SeedOrder:
    bc_order_id: int
    status_id: int
    customer_id: int
    first_name: str
    last_name: str
    email: str
    street: str
    city: str
    state: str
    zip: str
    country_iso2: str
    shipping_cost_ex_tax: Decimal
    created: datetime
    lines: tuple[SeedOrderLine, ...]
    currency: str = CURRENCY  # default_currency_code: the transactional currency the shopper pays in
    display_currency: str = CURRENCY  # currency_code: the storefront's display currency


@dataclass
class World:
    config: SeedConfig
    sellers: list[Seller]
    products: list[MarketplaceProduct]
    offers: list[Offer]
    natives: list[NativeProduct]
    orders: list[SeedOrder]
    collision_skus: list[str] = field(default_factory=list)

    def offers_for(self, product_sku: str) -> list[Offer]:
        return [o for o in self.offers if o.product_sku == product_sku]


def build_world(config: SeedConfig | None = None) -> World:
    """Generate the world for `config`; identical configs give identical worlds."""
    config = config or SeedConfig()
    rng = random.Random(config.seed)
    sellers = [
        Seller(
            shop_id=2000 + i,
            shop_name=f"Seller {i + 1}",
            shop_state="SUSPENDED" if i == config.sellers - 1 and config.sellers > 2 else "OPEN",
            currency_iso_code=config.currency,
            refuses_orders=(i == 2),
            shipping_types=dict(EXPRESS_ONLY_US if i == EXPRESS_ONLY_POSITION else SHIPPING_TYPES),
        )
        for i in range(config.sellers)
    ]
    next_product_id = 100
    next_variant_id = 1000
    natives: list[NativeProduct] = []
    for i in range(config.native_products):
        natives.append(
            NativeProduct(
                bc_product_id=next_product_id,
                bc_variant_id=next_variant_id,
                sku=f"NAT-{i + 1:05d}",
                name=f"House product {i + 1}",
                price=_amount(rng.randrange(1000, 9000), config.currency),
                inventory_level=rng.randrange(0, 200),
            )
        )
        next_product_id += 1
        next_variant_id += 1

    products: list[MarketplaceProduct] = []
    total = config.marketplace_products + config.unlisted_products
    for i in range(total):
        listed = i < config.marketplace_products
        products.append(
            MarketplaceProduct(
                product_sku=f"MKP-{i + 1:06d}",
                title=f"Marketplace product {i + 1}",
                listed=listed,
                bc_product_id=next_product_id if listed else None,
                bc_variant_id=next_variant_id if listed else None,
            )
        )
        if listed:
            next_product_id += 1
            next_variant_id += 1

    open_sellers = [s for s in sellers if s.shop_state == "OPEN"] or sellers
    offers: list[Offer] = []
    next_offer_id = 5000
    for index, product in enumerate(products):
        count = 1 + rng.randrange(config.max_offers_per_product)
        chosen = rng.sample(sellers, k=min(count, len(sellers)))
        if not any(s in open_sellers for s in chosen):
            chosen[0] = open_sellers[index % len(open_sellers)]
        for seller in chosen:
            quantity = rng.choice((0, 3, 5, 12, 40, 100)) if index % 7 else 0
            offers.append(
                Offer(
                    offer_id=next_offer_id,
                    shop_id=seller.shop_id,
                    product_sku=product.product_sku,
                    shop_sku=f"S{seller.shop_id}-{product.product_sku}",
                    price=_amount(rng.randrange(500, 20000), config.currency),
                    min_shipping_price=_amount(rng.choice((0, 0, 499, 799)), config.currency),
                    quantity=quantity,
                    active=(index % 11 != 5),
                    currency_iso_code=config.currency,
                    last_updated=SANDBOX_EPOCH + timedelta(seconds=index % 86_400),
                )
            )
            next_offer_id += 1

    collision_skus: list[str] = []
    if natives:
        # A seller lists the brand's own SKU: the bridge must refuse to touch the native product.
        collision_skus.append(natives[0].sku)
        offers.append(
            Offer(
                offer_id=next_offer_id,
                shop_id=open_sellers[0].shop_id,
                product_sku=natives[0].sku,
                shop_sku=f"S{open_sellers[0].shop_id}-{natives[0].sku}",
                price=_amount(999, config.currency),
                min_shipping_price=Decimal("0"),
                quantity=50,
                currency_iso_code=config.currency,
            )
        )

    orders = _build_orders(config, rng, products, offers, natives, open_sellers)
    if config.dropship_supplier:
        _add_dropship_supplier(sellers, products, offers, config.currency)
    return World(config, sellers, products, offers, natives, orders, collision_skus)


def _add_dropship_supplier(
    sellers: list[Seller], products: list[MarketplaceProduct], offers: list[Offer], currency: str
) -> None:
    """A DROPSHIP seller account offering a listed product: a purchase price far below every seller's, and a retail
    (selling) price just below the best marketplace price, so reading the wrong one would show at once.

    Added after the orders, without drawing from the random generator, so the rest of the world is unchanged.
    """
    first_open = min((s.shop_id for s in sellers if s.shop_state == "OPEN"), default=None)
    # A position per listed SKU (catalog order), looked up rather than searched: a million-offer world has
    # hundreds of thousands of listed products, and a list search per offer made building it quadratic.
    listed = {p.product_sku: position for position, p in enumerate(p for p in products if p.listed)}
    live = [o for o in offers if o.shop_id == first_open and o.active and o.quantity > 0 and o.product_sku in listed]
    if not live:
        return
    target = min(live, key=lambda o: (listed[o.product_sku], o.offer_id)).product_sku
    best = min(o.price for o in offers if o.product_sku == target)
    retail = max(best - Decimal("1.00"), Decimal("2.00"))
    supplier = Seller(
        shop_id=2000 + len(sellers),
        shop_name="Dropship supplier",
        shop_state="OPEN",
        model="DROPSHIP",
        currency_iso_code=currency,
    )
    sellers.append(supplier)
    offers.append(
        Offer(
            offer_id=max(o.offer_id for o in offers) + 1,
            shop_id=supplier.shop_id,
            product_sku=target,
            shop_sku=f"S{supplier.shop_id}-{target}",
            price=round_to(retail * Decimal("0.4"), currency),
            min_shipping_price=Decimal("0"),
            quantity=25,
            currency_iso_code=currency,
            model="DROPSHIP",
            retail_price=retail,
        )
    )


def _build_orders(
    config: SeedConfig,
    rng: random.Random,
    products: list[MarketplaceProduct],
    offers: list[Offer],
    natives: list[NativeProduct],
    open_sellers: list[Seller],
) -> list[SeedOrder]:
    """Orders cycling through BigCommerce statuses; most mix native and marketplace lines from two sellers."""
    open_ids = {s.shop_id for s in open_sellers}
    buyable = {}
    for offer in offers:
        if offer.active and offer.quantity > 0 and offer.shop_id in open_ids and offer.product_sku.startswith("MKP"):
            buyable.setdefault(offer.shop_id, []).append(offer)
    by_sku = {p.product_sku: p for p in products if p.listed}
    shops = sorted(buyable)
    statuses = (11, 11, 11, 7, 5, 11, 12, 2, 11, 10, 4, 11)
    orders: list[SeedOrder] = []
    for i in range(config.orders):
        lines: list[SeedOrderLine] = []
        if natives and i % 3 != 2:
            native = natives[i % len(natives)]
            lines.append(
                SeedOrderLine(
                    native.bc_product_id,
                    native.bc_variant_id,
                    native.sku,
                    native.name,
                    1 + i % 2,
                    native.price,
                    Decimal("0.08"),
                    marketplace=False,
                )
            )
        for shop_id in shops[(i % max(1, len(shops))) :][:2] if shops else []:
            taken = {line.sku for line in lines}
            candidates = [o for o in buyable[shop_id] if o.product_sku in by_sku and o.product_sku not in taken]
            if not candidates:
                continue
            offer = candidates[i % len(candidates)]
            product = by_sku[offer.product_sku]
            assert product.bc_product_id is not None and product.bc_variant_id is not None
            quantity = 2 if i in _MONEY_ORDERS else 1
            # 10 % off each unit, in whole minor units, so the discounted line is a whole unit price times two.
            unit_off = round_to(offer.price / 10, config.currency) if i in _MONEY_ORDERS else Decimal("0")
            lines.append(
                SeedOrderLine(
                    product.bc_product_id,
                    product.bc_variant_id,
                    product.product_sku,
                    product.title,
                    quantity,
                    offer.price,
                    Decimal("0.08"),
                    marketplace=True,
                    discount=unit_off * quantity,
                )
            )
        foreign = "EUR" if config.currency != "EUR" else "USD"
        city, state, zip_code, country = _CITIES[i % len(_CITIES)]
        orders.append(
            SeedOrder(
                bc_order_id=100 + i,
                status_id=statuses[i % len(statuses)],
                customer_id=0 if i % 4 == 0 else 10 + i,
                first_name=rng.choice(_FIRST_NAMES),
                last_name=rng.choice(_LAST_NAMES),
                email=f"customer{i}@example.com",
                street=f"{10 + i} Example Street",
                city=city,
                state=state,
                zip=zip_code,
                country_iso2=country,
                shipping_cost_ex_tax=_amount(500, config.currency),
                created=SANDBOX_EPOCH + timedelta(hours=i),
                lines=tuple(lines),
                currency=foreign if i == _FOREIGN_PAYMENT_ORDER else config.currency,
                display_currency=foreign if i in _MONEY_ORDERS else config.currency,
            )
        )
    return orders
