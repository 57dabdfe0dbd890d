"""Mirakl's order state machine: creation and split (OR01), staging, acceptance, debit, shipment, cancelation
and refunds, with the checks a tenant makes and the 400s it answers.

```
OR01 ─► STAGING ─OR02─► WAITING_ACCEPTANCE ─tick/OR21─► WAITING_DEBIT_PAYMENT ─PA01 OK─► SHIPPING ─OR24─► SHIPPED
          └─OR03─► CANCELED        └─seller refuses─► REFUSED           └─PA01 REFUSED / OR29─► CANCELED
```
Orders are indexed by id, commercial id, shop, state and last update, so OR11 and PA11 never scan everything
when a filter narrows the set.
"""

from __future__ import annotations

import uuid
from bisect import bisect_left, insort
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from sandbox.mirakl.bodies import (
    AcceptRequest,
    CancelationIn,
    CreateOrderRequest,
    DebitIn,
    RefundIn,
    RefundPaymentRequest,
    TaxIn,
    TrackingRequest,
)
from sandbox.mirakl.catalog import OfferBook, Shop
from sandbox.mirakl.errors import MiraklError
from sandbox.mirakl.finance import Ledger
from sandbox.mirakl.formats import money, to_millis
from sandbox.mirakl.orders import (
    CLOSED_LINE_STATES,
    DEBITED_STATES,
    PRE_DEBIT_STATES,
    Cancelation,
    Order,
    OrderLine,
    Refund,
    Tax,
)
from sandbox.mirakl.reference import CARRIERS, PLATFORM_TAX_MODE, REASONS, SHIPPING_TYPES

__all__ = ["OrderBook", "debit_entity"]

_NAMESPACE = uuid.UUID("0f8e3c1a-5d2b-4c7e-8a9f-1b2c3d4e5f60")
SHIPPING_DELAY = timedelta(days=3)
ZERO = Decimal("0")


def _millis(moment: datetime) -> int:
    return int(to_millis(moment).timestamp() * 1000)


def _taxes(given: list[TaxIn] | None, currency: str) -> list[Tax]:
    return [{"code": t.code, "amount": money(t.amount or ZERO, currency), "rate": t.rate} for t in given or []]


def _share(taxes: list[Tax], part: Decimal, whole: Decimal, currency: str) -> list[Tax]:
    """Taxes for `part` of an amount, proportional to the line's taxes on `whole` (PROPORTIONAL_TO_AMOUNT)."""
    if whole == 0:
        return [{**t, "amount": money(0, currency)} for t in taxes]
    return [{**t, "amount": money(Decimal(t["amount"]) * part / whole, currency)} for t in taxes]


def debit_entity(order: Order, kind: str) -> dict[str, str]:
    """PA11's `debit_entity` ("Debit information that varies if the customer is debited per order or per
    shipment"). Per shipment, the emulator ships each logistic order as one shipment, `<order_id>-S1`: the spec
    says nothing of how PA11 splits an order's lines into shipments."""
    return {"id": order.order_id if kind == "ORDER" else f"{order.order_id}-S1", "type": kind}


def _reason_codes(reason_type: str) -> set[str]:
    return {r.code for r in REASONS if r.type == reason_type}


class OrderBook:
    def __init__(self, shops: dict[int, Shop], offers: OfferBook, ledger: Ledger) -> None:
        self.shops = shops
        self.offers = offers
        self.ledger = ledger
        self.orders: dict[str, Order] = {}
        self.by_seq: list[Order] = []
        self.by_commercial: dict[str, list[str]] = {}
        self.by_shop: dict[int, dict[str, None]] = {}
        self.by_state: dict[str, dict[str, None]] = {}
        self.by_update: list[tuple[int, int]] = []  # sorted (last_updated millis, seq)
        self.line_owner: dict[str, str] = {}  # order_line_id -> order_id
        self.refunds: dict[str, Refund] = {}
        self.refunds_to_pay: dict[str, dict[str, None]] = {}  # order_id -> refund ids WAITING_REFUND_PAYMENT
        self._next_refund = 1000
        self._next_cancelation = 5000

    # --- lookups -------------------------------------------------------------------------------------------------

    def get(self, order_id: str) -> Order:
        order = self.orders.get(order_id)
        if order is None:
            raise MiraklError(404, f"Order with id {order_id} not found")
        return order

    def line(self, order_line_id: str) -> tuple[Order, OrderLine]:
        order_id = self.line_owner.get(order_line_id)
        order = self.orders.get(order_id) if order_id else None
        line = order.line(order_line_id) if order else None
        if order is None or line is None:
            raise MiraklError(404, f"Order line with id {order_line_id} not found")
        return order, line

    def in_state(self, state: str) -> list[Order]:
        return [self.orders[order_id] for order_id in self.by_state.get(state, {})]

    def search(
        self,
        *,
        order_ids: list[str] | None = None,
        commercial_ids: list[str] | None = None,
        shop_ids: list[int] | None = None,
        states: list[str] | None = None,
        start_update: datetime | None = None,
        end_update: datetime | None = None,
        start_date: datetime | None = None,
        end_date: datetime | None = None,
    ) -> tuple[Iterable[Order], int]:
        """OR11's filters over the narrowest index, sorted by creation; unfiltered listings are not copied."""
        if not any((order_ids, commercial_ids, shop_ids, states, start_update, end_update, start_date, end_date)):
            return self.orders.values(), len(self.orders)
        base: Iterable[Order]
        if order_ids:
            base = [self.orders[i] for i in dict.fromkeys(order_ids) if i in self.orders]
        elif commercial_ids:
            base = [self.orders[i] for c in dict.fromkeys(commercial_ids) for i in self.by_commercial.get(c, [])]
        elif shop_ids:
            base = [self.orders[i] for s in dict.fromkeys(shop_ids) for i in self.by_shop.get(s, {})]
        elif states:
            base = [self.orders[i] for s in dict.fromkeys(states) for i in self.by_state.get(s, {})]
        elif start_update:
            start = bisect_left(self.by_update, (_millis(start_update), -1))
            base = [self.by_seq[seq] for _, seq in self.by_update[start:]]
        else:
            base = self.orders.values()
        wanted_commercial = set(commercial_ids or ())
        wanted_shops = set(shop_ids or ())
        wanted_states = set(states or ())
        found = [
            order
            for order in base
            if (not wanted_commercial or order.commercial_id in wanted_commercial)
            and (not wanted_shops or order.shop_id in wanted_shops)
            and (not wanted_states or order.state in wanted_states)
            and (start_update is None or order.last_updated_date >= start_update)
            and (end_update is None or order.last_updated_date <= end_update)
            and (start_date is None or order.created_date >= start_date)
            and (end_date is None or order.created_date <= end_date)
        ]
        found.sort(key=lambda order: order.seq)
        return found, len(found)

    # --- bookkeeping ---------------------------------------------------------------------------------------------

    def _touch(self, order: Order, now: datetime) -> None:
        old = (_millis(order.last_updated_date), order.seq)
        position = bisect_left(self.by_update, old)
        if position < len(self.by_update) and self.by_update[position] == old:
            del self.by_update[position]
        order.last_updated_date = to_millis(now)
        insort(self.by_update, (_millis(order.last_updated_date), order.seq))

    def _set_state(self, order: Order, state: str, now: datetime, reason: str | None = None) -> None:
        self.by_state.get(order.state, {}).pop(order.order_id, None)
        order.state = state
        order.state_reason_code = reason
        self.by_state.setdefault(state, {})[order.order_id] = None
        for line in order.open_lines:
            line.state = state
            line.last_updated_date = to_millis(now)
        self._touch(order, now)

    def _restock(self, line: OrderLine, now: datetime) -> None:
        offer = self.offers.offers.get(line.offer_id)
        if offer is not None:
            offer.quantity += line.quantity
            self.offers.touch(offer, now)

    def _close_lines(self, order: Order, state: str, now: datetime) -> None:
        for line in order.open_lines:
            line.state = state
            line.last_updated_date = to_millis(now)
            self._restock(line, now)

    # --- OR01 ----------------------------------------------------------------------------------------------------

    def create(self, request: CreateOrderRequest, now: datetime) -> tuple[list[Order], list[dict[str, Any]]]:
        """Split the commercial order into one logistic order per shop (`<commercial_id>-A`, `-B` ...)."""
        now = to_millis(now)
        if request.commercial_id in self.by_commercial:
            raise MiraklError(400, f"The commercial order {request.commercial_id} already exists")
        given_ids = [o.order_line_id for o in request.offers if o.order_line_id]
        duplicates = {i for i in given_ids if given_ids.count(i) > 1 or i in self.line_owner}
        if duplicates:
            raise MiraklError(400, f"The order line ids {', '.join(sorted(duplicates))} are already used")
        not_shippable: list[dict[str, Any]] = []
        # One logistic order per shop and shipping type: a Mirakl order carries one shipping type
        # (SH02_Response_200_Orders.selected_shipping_type, one per future order).
        by_shop: dict[tuple[int, str], list[tuple[int, Any]]] = {}
        for position, line_in in enumerate(request.offers):
            if line_in.offer_price * line_in.quantity != line_in.price:
                raise MiraklError(400, f"Error with field offers[{position}].price. It must be offer_price * quantity.")
            for tax in [*line_in.taxes, *line_in.shipping_taxes]:
                if tax.amount is None:
                    raise MiraklError(400, f"Error with field offers[{position}].taxes.amount. This field is required.")
            offer = self.offers.offers.get(line_in.offer_id)
            if offer is None or not self.offers.is_orderable(offer, line_in.quantity):
                not_shippable.append({"offer_id": line_in.offer_id, "error_code": "OFFER_NOT_FOUND"})
                continue
            # mmp-front-openapi.yaml, OR01_Response_200_OffersNotShippable.error_code: "SHIPPING_TYPE_NOT_FOUND :
            # the shipping type associated with the offer does not exist" -- a type the platform does not know,
            # or one the offer's shop does not ship in the order's zone (SH02 lists the types an offer allows per
            # zone: SH02_Response_200_Orders_Offers.allowed_shipping_types).
            shop = self.shops.get(offer.shop_id)
            known = line_in.shipping_type_code in SHIPPING_TYPES
            if not known or shop is None or not shop.ships(request.shipping_zone_code, line_in.shipping_type_code):
                not_shippable.append({"offer_id": line_in.offer_id, "error_code": "SHIPPING_TYPE_NOT_FOUND"})
                continue
            if line_in.currency_iso_code and line_in.currency_iso_code != offer.currency_iso_code:
                raise MiraklError(400, f"Error with field offers[{position}].currency_iso_code. It must be the shop's.")
            by_shop.setdefault((offer.shop_id, line_in.shipping_type_code), []).append((position, line_in))
        created = []
        for letter_index, (shop_id, _type) in enumerate(sorted(by_shop)):
            created.append(self._create_logistic_order(request, shop_id, by_shop[(shop_id, _type)], letter_index, now))
        return created, not_shippable

    def _create_logistic_order(
        self,
        request: CreateOrderRequest,
        shop_id: int,
        lines_in: list[tuple[int, Any]],
        letter_index: int,
        now: datetime,
    ) -> Order:
        shop = self.shops[shop_id]
        order_id = f"{request.commercial_id}-{chr(ord('A') + letter_index)}"
        lines = []
        for index, (_, line_in) in enumerate(lines_in, start=1):
            offer = self.offers.offers[line_in.offer_id]
            offer.quantity -= line_in.quantity
            self.offers.touch(offer, now)
            currency = shop.currency_iso_code
            price, shipping = money(line_in.price, currency), money(line_in.shipping_price, currency)
            line = OrderLine(
                order_line_id=line_in.order_line_id or f"{order_id}-{index}",
                index=index,
                offer_id=offer.offer_id,
                offer_sku=offer.shop_sku,
                product_sku=offer.product_sku,
                quantity=line_in.quantity,
                price_unit=money(line_in.offer_price, currency),
                price=price,
                shipping_price=shipping,
                taxes=_taxes(line_in.taxes, currency),
                shipping_taxes=_taxes(line_in.shipping_taxes, currency),
                commission_rate=shop.commission_rate,
                commission_fee=money((price + shipping) * shop.commission_rate / 100, currency),
                state="STAGING",
                created_date=now,
                last_updated_date=now,
                currency=currency,
                additional_fields=line_in.order_line_additional_fields,
            )
            lines.append(line)
            self.line_owner[line.order_line_id] = order_id
        payment = request.payment_info
        order = Order(
            seq=len(self.by_seq),
            order_id=order_id,
            commercial_id=request.commercial_id,
            shop_id=shop_id,
            shop_name=shop.shop_name,
            state="STAGING",
            created_date=now,
            last_updated_date=now,
            currency_iso_code=shop.currency_iso_code,
            customer=request.customer.model_dump(mode="json", exclude_none=True),
            shipping_zone_code=request.shipping_zone_code,
            shipping_type_code=lines_in[0][1].shipping_type_code,
            payment_workflow=request.payment_workflow,
            order_tax_mode=request.order_tax_mode or PLATFORM_TAX_MODE,
            lines=lines,
            payment_type=payment.payment_type if payment else None,
            imprint_number=payment.imprint_number if payment else None,
            channel_code=request.channel_code,
            references=request.references,
            additional_fields=request.order_additional_fields,
            shipping_deadline=now + SHIPPING_DELAY,
        )
        self.orders[order_id] = order
        self.by_seq.append(order)
        self.by_commercial.setdefault(request.commercial_id, []).append(order_id)
        self.by_shop.setdefault(shop_id, {})[order_id] = None
        insort(self.by_update, (_millis(now), order.seq))
        self.by_state.setdefault("STAGING", {})[order_id] = None
        if request.scored:
            self._set_state(order, "WAITING_ACCEPTANCE", now)
        return order

    # --- OR02 / OR03 ---------------------------------------------------------------------------------------------

    def _staged(self, commercial_id: str) -> list[Order]:
        if commercial_id not in self.by_commercial:
            raise MiraklError(404, f"Commercial order with id {commercial_id} not found")
        staged = [self.orders[i] for i in self.by_commercial[commercial_id] if self.orders[i].state == "STAGING"]
        if not staged:
            raise MiraklError(400, f"The commercial order {commercial_id} has no order in STAGING status")
        return staged

    def validate(self, commercial_id: str, now: datetime) -> None:
        for order in self._staged(commercial_id):
            self._set_state(order, "WAITING_ACCEPTANCE", now)

    def invalidate(self, commercial_id: str, now: datetime) -> None:
        for order in self._staged(commercial_id):
            self._close_lines(order, "CANCELED", now)
            self._set_state(order, "CANCELED", now, reason="SCORING_INVALID")

    # --- acceptance ----------------------------------------------------------------------------------------------

    def _after_acceptance(self, order: Order, now: datetime, decided: bool) -> None:
        order.acceptance_decision_date = to_millis(now) if decided else None
        if not order.open_lines:
            self._set_state(order, "REFUSED", now, reason=None if decided else "AUTOMATIC_REFUSAL")
            return
        next_state = "WAITING_DEBIT_PAYMENT" if order.payment_workflow == "PAY_ON_ACCEPTANCE" else "SHIPPING"
        self._set_state(order, next_state, now)

    def _require_state(self, order: Order, allowed: set[str] | frozenset[str], action: str) -> None:
        if order.state not in allowed:
            raise MiraklError(400, f"Unable to {action} order {order.order_id}. Current status is {order.state}")

    def accept(self, order_id: str, request: AcceptRequest, now: datetime) -> None:
        """OR21: a decision for every line; refusing all of them refuses the order."""
        order = self.get(order_id)
        self._require_state(order, {"WAITING_ACCEPTANCE"}, "accept or refuse")
        decisions = {d.id: d.accepted for d in request.order_lines}
        if len(decisions) != len(request.order_lines):
            raise MiraklError(400, "ORDER_LINE_DUPLICATE_ID: the order lines list contains duplicate ids")
        known = {line.order_line_id for line in order.lines}
        if set(decisions) - known:
            raise MiraklError(400, f"ORDER_LINE_NOT_FOUND: {', '.join(sorted(set(decisions) - known))}")
        if known - set(decisions):
            raise MiraklError(400, "ORDER_LINE_ACCEPTANCE_DECISION_MISSING: every order line needs a decision")
        for line in order.lines:
            if not decisions[line.order_line_id]:
                line.state = "REFUSED"
                self._restock(line, now)
        self._after_acceptance(order, now, decided=True)

    def refuse(self, order_id: str, now: datetime) -> None:
        """The seller refuses the whole order itself (a decision, so `acceptance_decision_date` is set)."""
        order = self.get(order_id)
        self._require_state(order, {"WAITING_ACCEPTANCE"}, "refuse")
        self._close_lines(order, "REFUSED", now)
        self._after_acceptance(order, now, decided=True)

    def tick(self, now: datetime) -> dict[str, list[str]]:
        """Simulated sellers act: each accepts its waiting orders, unless it is a seller that never answers."""
        result: dict[str, list[str]] = {"accepted": [], "refused": []}
        for order in self.in_state("WAITING_ACCEPTANCE"):
            shop = self.shops.get(order.shop_id)
            if shop is not None and shop.refuses_orders:
                self._close_lines(order, "REFUSED", now)
                self._after_acceptance(order, now, decided=False)
                result["refused"].append(order.order_id)
            else:
                self._after_acceptance(order, now, decided=True)
                result["accepted"].append(order.order_id)
        return result

    # --- PA01 ----------------------------------------------------------------------------------------------------

    def debit(self, items: list[DebitIn], now: datetime, entity_kind: str = "ORDER") -> None:
        """PA01: every item is checked before any is applied, so a bad batch changes nothing.

        Per shipment, each item must name the debit it confirms (`debit_entity`, PA01_Request_Orders_DebitEntity).
        """
        orders = [self.get(item.order_id) for item in items]
        for item, order in zip(items, orders, strict=True):
            self._require_state(order, {"WAITING_DEBIT_PAYMENT"}, "confirm the debit of")
            listed = debit_entity(order, entity_kind)
            given = item.debit_entity.model_dump() if item.debit_entity else None
            if (given is None and entity_kind == "SHIPMENT") or (given is not None and given != listed):
                raise MiraklError(
                    400, f"Error with field orders.debit_entity. The order {order.order_id} is debited as {listed}."
                )
            if item.customer_id != order.customer.get("customer_id"):
                raise MiraklError(400, f"The customer {item.customer_id} does not match order {order.order_id}")
            if item.currency_iso_code and item.currency_iso_code != order.currency_iso_code:
                raise MiraklError(400, f"The currency {item.currency_iso_code} is not the currency of {order.order_id}")
            if item.payment_status == "OK":
                if item.amount is None:
                    raise MiraklError(400, "Error with field orders.amount. It is required when payment_status is OK.")
                if money(item.amount, order.currency_iso_code) != order.debitable():
                    raise MiraklError(
                        400,
                        f"The amount {item.amount} does not match the debitable amount "
                        f"{order.debitable()} of order {order.order_id}",
                    )
        for item, order in zip(items, orders, strict=True):
            order.transaction_number = item.transaction_number
            order.transaction_date = item.transaction_date
            if item.payment_status == "OK":
                order.customer_debited_date = to_millis(now)
                for line in order.open_lines:
                    line.debited_date = to_millis(now)
                self._set_state(order, "SHIPPING", now)
                self.ledger.record_debit(order, now)
            else:
                self._close_lines(order, "CANCELED", now)
                self._set_state(order, "CANCELED", now, reason="CUSTOMER_PAYMENT_REFUSED")

    # --- shipping ------------------------------------------------------------------------------------------------

    def set_tracking(self, order_id: str, request: TrackingRequest, now: datetime) -> None:
        """OR23: a registered carrier by code (URL computed), or an unregistered one by name (+ its URL)."""
        order = self.get(order_id)
        self._require_state(order, {"SHIPPING", "SHIPPED", "TO_COLLECT"}, "update the tracking of")
        if request.carrier_code:
            carrier = CARRIERS.get(request.carrier_code)
            if carrier is None:
                raise MiraklError(400, f"The carrier code {request.carrier_code} is unknown")
            order.carrier_code = carrier.code
            order.carrier_standard_code = carrier.standard_code
            order.carrier_name = carrier.label
            order.tracking_url = carrier.url_for(request.tracking_number)
        elif request.carrier_name:
            order.carrier_code = None
            order.carrier_standard_code = request.carrier_standard_code
            order.carrier_name = request.carrier_name
            order.tracking_url = request.carrier_url
        else:
            raise MiraklError(400, "Either carrier_code or carrier_name is required")
        order.tracking_number = request.tracking_number
        self._touch(order, now)

    def ship(self, order_id: str, now: datetime) -> None:
        """OR24: only from SHIPPING; a second call answers 400 "Current status is SHIPPED"."""
        order = self.get(order_id)
        self._require_state(order, {"SHIPPING"}, "ship")
        for line in order.open_lines:
            line.shipped_date = to_millis(now)
        self._set_state(order, "SHIPPED", now)

    # --- cancelation ---------------------------------------------------------------------------------------------

    def cancel(self, order_id: str, now: datetime) -> None:
        """OR29: cancel everything still open; only before the customer is debited."""
        order = self.get(order_id)
        self._require_state(order, PRE_DEBIT_STATES, "cancel")
        for line in order.open_lines:
            goods, shipping = line.refundable()
            self._add_cancelation(line, goods, shipping, "32", now)
        self._close_lines(order, "CANCELED", now)
        self._set_state(order, "CANCELED", now, reason="CANCELED_BY_OPERATOR")

    def _add_cancelation(
        self, line: OrderLine, amount: Decimal, shipping: Decimal, reason: str, now: datetime, given: Any = None
    ) -> Cancelation:
        self._next_cancelation += 1
        currency = line.currency
        cancelation = Cancelation(
            cancelation_id=str(self._next_cancelation),
            amount=money(amount, currency),
            shipping_amount=money(shipping, currency),
            taxes=(
                _taxes(given.taxes, currency)
                if given and given.taxes is not None
                else _share(line.taxes, amount, line.price, currency)
            ),
            shipping_taxes=(
                _taxes(given.shipping_taxes, currency)
                if given and given.shipping_taxes is not None
                else _share(line.shipping_taxes, shipping, line.shipping_price, currency)
            ),
            quantity=given.quantity if given else line.quantity,
            reason_code=reason,
            commission_amount=money((amount + shipping) * line.commission_rate / 100, currency),
            created_date=to_millis(now),
            currency=currency,
        )
        line.cancelations.append(cancelation)
        line.last_updated_date = to_millis(now)
        return cancelation

    def cancel_lines(self, entries: list[CancelationIn], now: datetime) -> list[dict[str, Any]]:
        """OR30: partial cancelations, each within what is left on its line, before debit."""
        allowed = _reason_codes("CANCELATION")
        targets = []
        pending: dict[str, tuple[Decimal, Decimal]] = {}
        for entry in entries:
            order, line = self.line(entry.order_line_id)
            self._require_state(order, PRE_DEBIT_STATES, "cancel lines of")
            if entry.reason_code not in allowed:
                raise MiraklError(400, f"The reason code {entry.reason_code} is not a CANCELATION reason")
            goods, shipping = pending.get(line.order_line_id, line.refundable())
            if entry.amount > goods or entry.shipping_amount > shipping or line.state in CLOSED_LINE_STATES:
                raise MiraklError(400, f"The cancelation exceeds what is left on order line {line.order_line_id}")
            pending[line.order_line_id] = (goods - entry.amount, shipping - entry.shipping_amount)
            targets.append((order, line, entry))
        results = []
        for order, line, entry in targets:
            cancelation = self._add_cancelation(
                line, entry.amount, entry.shipping_amount, entry.reason_code, now, given=entry
            )
            if line.refundable() == (ZERO, ZERO):
                line.state = "CANCELED"
                self._restock(line, now)
            if not order.open_lines:
                self._set_state(order, "CANCELED", now, reason="CANCELED_BY_OPERATOR")
            else:
                self._touch(order, now)
            results.append({"order_line_id": line.order_line_id, **cancelation.to_json()})
        return results

    # --- refunds (OR28 / seller refunds / PA12 / PA02) -----------------------------------------------------------

    def refund(self, entries: list[RefundIn], now: datetime) -> list[Refund]:
        """OR28: refunds wait for the operator's payment (PA12) until confirmed by PA02."""
        allowed = _reason_codes("REFUND")
        targets = []
        pending: dict[str, tuple[Decimal, Decimal]] = {}
        for entry in entries:
            order, line = self.line(entry.order_line_id)
            if order.state not in DEBITED_STATES or line.state in CLOSED_LINE_STATES:
                raise MiraklError(
                    400, f"Order line {line.order_line_id} cannot be refunded. Current status is {line.state}"
                )
            if entry.reason_code not in allowed:
                raise MiraklError(400, f"The reason code {entry.reason_code} is not a REFUND reason")
            goods, shipping = pending.get(line.order_line_id, line.refundable())
            amount, shipping_amount = money(entry.amount, line.currency), money(entry.shipping_amount, line.currency)
            if amount > goods or shipping_amount > shipping:
                raise MiraklError(
                    400,
                    f"The refund exceeds the refundable amount of order line {line.order_line_id} "
                    f"(amount {goods}, shipping {shipping})",
                )
            pending[line.order_line_id] = (goods - amount, shipping - shipping_amount)
            targets.append((order, line, entry))
        order_refund_id = str(uuid.uuid5(_NAMESPACE, f"order-refund-{self._next_refund}"))
        created = []
        for order, line, entry in targets:
            self._next_refund += 1
            currency = line.currency
            amount, shipping = money(entry.amount, currency), money(entry.shipping_amount, currency)
            refund = Refund(
                refund_id=str(self._next_refund),
                order_refund_id=order_refund_id,
                order_id=order.order_id,
                order_line_id=line.order_line_id,
                amount=amount,
                shipping_amount=shipping,
                taxes=(
                    _taxes(entry.taxes, currency)
                    if entry.taxes is not None
                    else _share(line.taxes, amount, line.price, currency)
                ),
                shipping_taxes=(
                    _taxes(entry.shipping_taxes, currency)
                    if entry.shipping_taxes is not None
                    else _share(line.shipping_taxes, shipping, line.shipping_price, currency)
                ),
                quantity=entry.quantity or 0,
                reason_code=entry.reason_code,
                commission_amount=money((amount + shipping) * line.commission_rate / 100, currency),
                created_date=to_millis(now),
                currency=currency,
            )
            line.refunds.append(refund)
            line.last_updated_date = to_millis(now)
            self.refunds[refund.refund_id] = refund
            self.refunds_to_pay.setdefault(order.order_id, {})[refund.refund_id] = None
            self._touch(order, now)
            created.append(refund)
        return created

    def pay_refunds(self, request: RefundPaymentRequest, now: datetime, partial_refunds: bool = True) -> None:
        """PA02: confirm (OK → REFUNDED, ledger lines) or refuse each refund; all checked before any applies.

        With partial refunds deactivated, `order_lines` "is not deprecated but mandatory" (PA02_Request): the
        per-refund form is refused.
        """
        if not request.refunds and not request.order_lines:
            raise MiraklError(400, "Error with field refunds. This field is required.")
        if request.refunds and not partial_refunds:
            raise MiraklError(
                400, "Error with field order_lines. Partial refunds are deactivated: it is mandatory, not refunds."
            )
        plan: list[tuple[Refund, str, Any]] = []
        for item in request.refunds:
            refund = self.refunds.get(item.refund_id)
            if refund is None:
                raise MiraklError(404, f"Refund with id {item.refund_id} not found")
            plan.append((refund, item.payment_status, item))
            self._check_refund_payment(refund, item.payment_status, item.amount)
        for line_item in request.order_lines:
            order, line = self.line(line_item.order_line_id)
            waiting = [r for r in line.refunds if r.state == "WAITING_REFUND_PAYMENT"]
            if not waiting:
                raise MiraklError(400, f"No refund of order line {line.order_line_id} is waiting for payment")
            total = money(sum((r.payable(order.order_tax_mode) for r in waiting), ZERO), order.currency_iso_code)
            paid = None if line_item.amount is None else money(line_item.amount, order.currency_iso_code)
            if line_item.payment_status == "OK" and paid != total:
                raise MiraklError(400, f"The amount does not match the refundable amount {total}")
            plan.extend((r, line_item.payment_status, line_item) for r in waiting)
        for refund, status, item in plan:
            order, line = self.line(refund.order_line_id)
            self.refunds_to_pay.get(order.order_id, {}).pop(refund.refund_id, None)
            if not self.refunds_to_pay.get(order.order_id):
                self.refunds_to_pay.pop(order.order_id, None)
            if status == "OK":
                refund.state = "REFUNDED"
                refund.transaction_number = item.transaction_number
                refund.transaction_date = item.transaction_date
                self.ledger.record_refund(order, line, refund, now)
            else:
                refund.state = "WAITING_REFUND"  # back to the seller/operator; no money moved
            line.last_updated_date = to_millis(now)
            self._touch(order, now)

    def _check_refund_payment(self, refund: Refund, status: str, amount: Decimal | None) -> None:
        order = self.orders[refund.order_id]
        if refund.state != "WAITING_REFUND_PAYMENT":
            raise MiraklError(
                400, f"Refund {refund.refund_id} is not waiting for payment. Current status is {refund.state}"
            )
        if status == "OK":
            expected = refund.payable(order.order_tax_mode)
            if amount is None or money(amount, order.currency_iso_code) != expected:
                raise MiraklError(
                    400, f"The amount {amount} does not match the amount {expected} of refund {refund.refund_id}"
                )
