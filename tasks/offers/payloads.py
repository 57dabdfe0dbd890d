"""The outbox payloads of the offer push, typed: one class per kind of item, read once per claim.

The stored shape is unchanged (the JSON `tasks.offers.diff.outbox_items` and `metafields.metafield_items`
write), so rows queued before this module still read; `to_payload` gives that shape back. A stored payload
that does not fit its class (a missing key, a non-numeric id) is not a reason to stop the drain: `read_claim`
returns it apart, with why, and the drain quarantines it. Ids, prices and hashes only; no customer data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, Generic, Protocol, Self, TypeVar

from connectors.state import ClaimedItem

__all__ = ["MALFORMED", "Claimed", "MetafieldChange", "Payload", "VariantChange", "read_claim"]

MALFORMED = "outbox payload does not fit its kind: refused"


class Payload(Protocol):
    """What every typed payload offers the shared push code: its product and variant, and its stored form."""

    product_sku: str
    variant_id: int

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self: ...

    def quarantined(self) -> dict[str, Any]: ...


P = TypeVar("P", bound=Payload)


@dataclass(frozen=True, slots=True)
class VariantChange:
    """A variant's new price, stock and purchasability (`kind` "variant"), absolute values all."""

    product_sku: str
    variant_id: int
    product_id: int
    inventory_level: int
    purchasing_disabled: bool
    purchasing_disabled_message: str
    hash: str
    stock_only: bool
    mirakl_updated_at: datetime
    price: Decimal | None  # None: stored as "" or absent, the variant's price is left as it is
    offer_id: int | None
    shop_id: int | None
    runners_up: str

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        price = payload.get("price")
        return cls(
            product_sku=str(payload["product_sku"]),
            variant_id=int(payload["variant_id"]),
            product_id=int(payload["product_id"]),
            inventory_level=int(payload["inventory_level"]),
            purchasing_disabled=bool(payload["purchasing_disabled"]),
            purchasing_disabled_message=str(payload["purchasing_disabled_message"]),
            hash=str(payload["hash"]),
            stock_only=bool(payload.get("stock_only", False)),
            mirakl_updated_at=datetime.fromisoformat(payload["mirakl_updated_at"]),
            price=Decimal(price) if price else None,
            offer_id=_optional_int(payload.get("offer_id")),
            shop_id=_optional_int(payload.get("shop_id")),
            runners_up=str(payload.get("runners_up") or "[]"),
        )

    def to_payload(self) -> dict[str, Any]:
        """The stored JSON shape (`diff.outbox_items`): a buyable change carries its price ("" when unknown), an
        unbuyable one none."""
        payload: dict[str, Any] = {
            "product_sku": self.product_sku,
            "variant_id": self.variant_id,
            "product_id": self.product_id,
            "inventory_level": self.inventory_level,
            "purchasing_disabled": self.purchasing_disabled,
            "hash": self.hash,
            "stock_only": self.stock_only,
            "mirakl_updated_at": self.mirakl_updated_at.isoformat(),
        }
        if not self.purchasing_disabled:
            payload["price"] = "" if self.price is None else format(self.price, "f")
        payload.update(
            offer_id=self.offer_id,
            shop_id=self.shop_id,
            runners_up=self.runners_up,
            purchasing_disabled_message=self.purchasing_disabled_message,
        )
        return payload

    def api_update(self) -> dict[str, Any]:
        """This change as one item of PUT /v3/catalog/variants (`catalog_product.v3.yml`, `updateVariantsBatch`):
        `price` a JSON number, sent only when the change carries one; the other fields always."""
        body: dict[str, Any] = {
            "id": self.variant_id,
            "inventory_level": self.inventory_level,
            "purchasing_disabled": self.purchasing_disabled,
            "purchasing_disabled_message": self.purchasing_disabled_message,
        }
        if self.price is not None:
            body["price"] = float(self.price)
        return body

    def quarantined(self) -> dict[str, Any]:
        """What a quarantine record keeps of a refused change: ids, price and stock."""
        shown: dict[str, Any] = {"variant_id": self.variant_id, "inventory_level": self.inventory_level}
        if self.price is not None:
            shown["price"] = format(self.price, "f")
        shown["offer_id"] = self.offer_id
        return shown


@dataclass(frozen=True, slots=True)
class MetafieldChange:
    """A variant's offer metafield value (`kind` "metafield"): winner, runners-up, and its hash."""

    product_sku: str
    variant_id: int
    offer_id: int | None
    shop_id: int | None
    value: str
    hash: str

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> Self:
        return cls(
            product_sku=str(payload["product_sku"]),
            variant_id=int(payload["variant_id"]),
            offer_id=_optional_int(payload.get("offer_id")),
            shop_id=_optional_int(payload.get("shop_id")),
            value=str(payload["value"]),
            hash=str(payload["hash"]),
        )

    def to_payload(self) -> dict[str, Any]:
        """The stored JSON shape (`metafields.metafield_items`)."""
        return {
            "product_sku": self.product_sku,
            "variant_id": self.variant_id,
            "offer_id": self.offer_id,
            "shop_id": self.shop_id,
            "value": self.value,
            "hash": self.hash,
        }

    def quarantined(self) -> dict[str, Any]:
        return {"variant_id": self.variant_id, "offer_id": self.offer_id}


@dataclass(frozen=True, slots=True)
class Claimed(Generic[P]):
    """A claimed outbox row and its payload, read once: the row settles it, the payload says what to write."""

    item: ClaimedItem
    change: P


def read_claim(items: Sequence[ClaimedItem], kind: type[P]) -> tuple[list[Claimed[P]], list[tuple[ClaimedItem, str]]]:
    """The claimed rows with their payloads typed as `kind`; the rows whose payload does not fit, with why (the
    error names the key or value at fault, never the payload itself)."""
    claimed: list[Claimed[P]] = []
    malformed: list[tuple[ClaimedItem, str]] = []
    for item in items:
        try:
            claimed.append(Claimed(item, kind.from_payload(item.payload)))
        except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
            malformed.append((item, f"{type(exc).__name__}: {exc}"[:200]))
    return claimed, malformed


def _optional_int(value: Any) -> int | None:
    return None if value is None else int(value)
