"""Builders of v3 product and variant records with every field the real API returns, defaults included.

Seeding and `POST /v3/catalog/products` both create products; one builder keeps their shapes identical
(`product_Full` / `productVariant_Full` in the catalog specs).
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

__all__ = ["product_record", "variant_record"]


def product_record(
    product_id: int,
    *,
    name: str,
    sku: str,
    price: Decimal,
    now: datetime,
    product_type: str = "physical",
    weight: Decimal = Decimal("1"),
    inventory_tracking: str = "variant",
    is_visible: bool = True,
    availability: str = "available",
) -> dict[str, Any]:
    return {
        "id": product_id,
        "name": name,
        "type": product_type,
        "sku": sku,
        "description": "",
        "weight": weight,
        "width": Decimal("0"),
        "depth": Decimal("0"),
        "height": Decimal("0"),
        "price": price,
        "cost_price": Decimal("0"),
        "retail_price": Decimal("0"),
        "sale_price": Decimal("0"),
        "map_price": Decimal("0"),
        "calculated_price": price,
        "tax_class_id": 0,
        "product_tax_code": "",
        "categories": [],
        "brand_id": 0,
        "inventory_level": 0,
        "inventory_warning_level": 0,
        "inventory_tracking": inventory_tracking,
        "total_sold": 0,
        "fixed_cost_shipping_price": Decimal("0"),
        "is_free_shipping": False,
        "is_visible": is_visible,
        "is_featured": False,
        "availability": availability,
        "availability_description": "",
        "is_price_hidden": False,
        "price_hidden_label": "",
        "order_quantity_minimum": 0,
        "order_quantity_maximum": 0,
        "upc": "",
        "mpn": "",
        "gtin": "",
        "custom_url": {"url": f"/products/{product_id}/", "is_customized": False},
        "date_created": now,
        "date_modified": now,
        "base_variant_id": None,
    }


def variant_record(
    variant_id: int,
    *,
    product_id: int,
    sku: str,
    price: Decimal | None,
    inventory_level: int,
    base: bool,
    sku_id: int | None = None,
) -> dict[str, Any]:
    return {
        "id": variant_id,
        "product_id": product_id,
        "sku": sku,
        "sku_id": None if base else sku_id,
        "price": price,
        "calculated_price": price if price is not None else Decimal("0"),
        "sale_price": None,
        "retail_price": None,
        "map_price": None,
        "cost_price": None,
        "weight": None,
        "calculated_weight": Decimal("1"),
        "width": None,
        "height": None,
        "depth": None,
        "is_free_shipping": False,
        "fixed_cost_shipping_price": None,
        "purchasing_disabled": False,
        "purchasing_disabled_message": "",
        "image_url": "",
        "upc": "",
        "mpn": "",
        "gtin": "",
        "inventory_level": inventory_level,
        "inventory_warning_level": 0,
        "bin_picking_number": "",
        "option_values": [],
    }
