"""Is this refund on the Mirakl line the bridge's own, sent by an OR28 whose answer was lost?

OR28 lets the caller set nothing that comes back as its own reference. Its request fields
(`mmp-operator-openapi.json`, `OR28_Request_Refunds`) are `amount`, `currency_iso_code`, `excluded_from_shipment`,
`fees`, `order_line_id`, `quantity` ("This quantity is informative only"), `reason_code`, `shipping_amount`,
`shipping_taxes`, `tax_legal_notice` ("The legal notice applying to the refund's tax calculation") and `taxes`:
no client reference, no custom field, and the one free text is a legal notice that must not be abused as a marker.
So after a lost answer the bridge can only recognise its refund by evidence, read back from OR11
(`order_lines[].refunds[]`: `id`, `created_date` "Refund's creation date", `amount`, `shipping_amount`,
`quantity`, `reason_code`):

- the same amount, shipping amount and reason code as the row it sent (not the quantity: "informative only", a
  tenant need not keep it, and a refund wrongly ruled out would be sent twice);
- no ledger key claims it (not another bridge refund, not a seller refund already paid back);
- created after the ledger row of the write was started (less `PRECISION`, as Mirakl stamps in milliseconds).

Exactly one such refund, and no other look-alike created within `CLOCK_SKEW` before the start, is the bridge's.
None at all means the first attempt never reached Mirakl: the row is sent again. Anything else (two look-alikes,
as when a seller refunded the same amount meanwhile; one whose time falls within the clock skew; one without a
creation date) is ambiguous: adopting could collapse a seller's refund into the bridge's and sending again could
refund twice, so the caller opens a case for finance instead. Pure functions, tested without Prefect.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from connectors.mirakl.models import OrderLineRefund

__all__ = ["CLOCK_SKEW", "PRECISION", "WAITING_PAYMENT", "AmbiguousRecovery", "own_refund", "seller_refund_paid_by"]

# How far Mirakl's clock may be behind the bridge's: a look-alike created this long before the start may be ours.
CLOCK_SKEW = timedelta(minutes=2)
# Mirakl's timestamps are whole milliseconds; a second absorbs that and any rounding on either side.
PRECISION = timedelta(seconds=1)
# OR11 `refund_state` of a refund waiting for the operator to pay the customer (what PA12 lists, PA02 confirms).
WAITING_PAYMENT = "WAITING_REFUND_PAYMENT"


@dataclass(frozen=True)
class AmbiguousRecovery(Exception):
    """The evidence names no single refund as the bridge's: `candidates` are the look-alikes, for finance."""

    candidates: tuple[str, ...]
    reason: str

    def __str__(self) -> str:
        return f"{self.reason}: {', '.join(self.candidates) or 'none'}"


def own_refund(
    refunds: Iterable[OrderLineRefund], row: dict[str, Any], started_at: datetime, claimed: Set[str]
) -> str | None:
    """The id of the bridge's own refund among `refunds` of the line, None if it was never created.

    Raises `AmbiguousRecovery` when the evidence does not decide. `claimed` holds the refund ids a ledger key
    already accounts for.
    """
    alike = [r for r in refunds if r.id not in claimed and _same(r, row)]
    after = [r for r in alike if r.created_date is not None and r.created_date >= started_at - PRECISION]
    near = [
        r for r in alike if r not in after and (r.created_date is None or r.created_date >= started_at - CLOCK_SKEW)
    ]
    if len(after) == 1 and not near:
        return after[0].id
    if not after and not near:
        return None
    ids = tuple(r.id for r in after + near)
    if len(after) > 1:
        raise AmbiguousRecovery(ids, "several refunds like the bridge's were created since it sent its own")
    raise AmbiguousRecovery(ids, "a refund like the bridge's has a creation time that cannot tell whose it is")


def seller_refund_paid_by(refunds: Iterable[OrderLineRefund], row: dict[str, Any], claimed: Set[str]) -> str | None:
    """The seller's refund on the line that a customer's BigCommerce refund (`row`, its OR28 row) already paid.

    Only for a row that would take more than is left on the line (`refund_within_paid` False): then the customer
    service refund and a seller's refund of the same line cannot both be separate refunds (Mirakl would refuse the
    OR28, BigCommerce would refuse to pay the seller's refund again), so they are one refund seen from both sides.
    It is the one refund waiting for the operator's payment (`refund_state` WAITING_REFUND_PAYMENT) that no ledger
    key claims, with the row's amount and shipping amount (the reason codes differ: one is the seller's). None
    when there is no such refund or more than one: the row is then quarantined as an over-refund, as before.
    """
    if row["refund_within_paid"]:
        return None
    alike = [
        r
        for r in refunds
        if r.refund_state == WAITING_PAYMENT
        and r.id not in claimed
        and _money(r.amount) == _money(row["amount"])
        and _money(r.shipping_amount) == _money(row["shipping_amount"])
    ]
    return alike[0].id if len(alike) == 1 else None


def _same(refund: OrderLineRefund, row: dict[str, Any]) -> bool:
    return (
        _money(refund.amount) == _money(row["amount"])
        and _money(refund.shipping_amount) == _money(row["shipping_amount"])
        and refund.reason_code == row["reason_code"]
    )


def _money(value: Decimal | str | None) -> Decimal:
    return Decimal(value or 0)
