"""Contract tests: every MiraklClient method against the in-process Mirakl sandbox, mounted under `/mirakl`.

The sandbox is written from Mirakl's specs independently of this client, so a shape both get wrong the same
way is unlikely; a mismatch shows up here as a 400 or a model error. The ERP sink is exercised the same way.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import httpx
import pytest

from connectors.http import AuthError, ConflictError, NotFoundError
from connectors.mirakl import (
    AccessTokenAuth,
    ApiKeyAuth,
    BillingAddress,
    DebitConfirmation,
    ExportedOffer,
    LineCancelation,
    MiraklClient,
    OAuthClientCredentials,
    OrderCreate,
    OrderCustomer,
    OrderOfferCreate,
    RefundConfirmation,
    RefundCreate,
    ShippingAddress,
    Tracking,
)
from tests.support.doubles import RecordingSleep

fastapi = pytest.importorskip("fastapi")
sandbox_mirakl = pytest.importorskip("sandbox.mirakl", reason="sandbox/mirakl is not importable yet")
sandbox_seed = pytest.importorskip("sandbox.seed", reason="sandbox/seed is not importable yet")

BASE_URL = "http://sandbox/mirakl"
API_KEY = "sandbox-mirakl-key"
OPERATOR_KEY = "sandbox-mirakl-operator-key"


def _outer_app() -> Any:
    world = sandbox_seed.build_world()
    # The client's contract is under test here, not call budgets (tests/sandbox/test_mirakl_call_budgets.py).
    settings = sandbox_mirakl.MiraklSandboxSettings(base_url=BASE_URL, enforce_call_budgets=False)
    outer = fastapi.FastAPI()
    outer.mount("/mirakl", sandbox_mirakl.create_mirakl_app(world, settings))
    return outer


@pytest.fixture
def asgi() -> httpx.ASGITransport:
    return httpx.ASGITransport(app=_outer_app())


@pytest.fixture
async def client(asgi: httpx.ASGITransport) -> AsyncIterator[MiraklClient]:
    async with MiraklClient.create(
        BASE_URL, front=ApiKeyAuth(API_KEY), operator=ApiKeyAuth(OPERATOR_KEY), transport=asgi, sleep=RecordingSleep()
    ) as mirakl:
        yield mirakl


@pytest.fixture
async def control(asgi: httpx.ASGITransport) -> AsyncIterator[httpx.AsyncClient]:
    """The sandbox's own `/_sandbox` endpoints: the sellers' side and the passing of time."""
    async with httpx.AsyncClient(base_url=BASE_URL, transport=asgi) as http:
        yield http


async def _all(pages: AsyncIterator[list[Any]]) -> list[Any]:
    return [item async for page in pages for item in page]


async def _orderable_offers(client: MiraklClient) -> list[ExportedOffer]:
    """One in-stock offer from each of two open shops."""
    open_shops = {shop.shop_id for shop in await _all(client.iter_shops()) if shop.shop_state == "OPEN"}
    offers = await _all(client.export_offers(None, poll_interval=0.0))
    chosen: dict[int, ExportedOffer] = {}
    for offer in offers:
        if offer.shop_id in open_shops and offer.active and (offer.quantity or 0) >= 2 and offer.price is not None:
            chosen.setdefault(offer.shop_id, offer)
    assert len(chosen) >= 2, "the seeded world should have in-stock offers in two open shops"
    return list(chosen.values())[:2]


def _order(commercial_id: str, offers: list[ExportedOffer], *, scored: bool = True, quantity: int = 1) -> OrderCreate:
    address = {
        "lastname": "Doe",
        "street_1": "1 Test Street",
        "zip_code": "78701",
        "city": "Austin",
        "country": "United States",
        "country_iso_code": "USA",
    }
    return OrderCreate(
        commercial_id=commercial_id,
        customer=OrderCustomer(
            customer_id=f"cust-{commercial_id}",
            email="buyer@example.invalid",
            firstname="Pat",
            lastname="Doe",
            billing_address=BillingAddress(**address),
            shipping_address=ShippingAddress(**address),
        ),
        offers=[
            OrderOfferCreate(
                offer_id=offer.offer_id,
                quantity=quantity,
                offer_price=offer.price or Decimal(0),
                price=(offer.price or Decimal(0)) * quantity,
                shipping_price=Decimal("4.99"),
                shipping_type_code="EXP",  # every seeded shop ships express in the US, not all standard
            )
            for offer in offers
        ],
        shipping_zone_code="US",
        scored=scored,
    )


async def test_reference_data_and_shops(client: MiraklClient) -> None:
    carriers = await client.list_carriers()
    refund_reasons = await client.list_reasons("REFUND")
    shops = await _all(client.iter_shops())

    assert "UPS" in {carrier.code for carrier in carriers}
    assert refund_reasons and {reason.type for reason in refund_reasons} == {"REFUND"}
    assert len(shops) == len(sandbox_seed.build_world().sellers)
    assert "SUSPENDED" in {shop.shop_state for shop in shops}
    assert dict(client.transport.calls) == {"SH21": 1, "RE01": 1, "S20": 1}


async def test_oauth_client_credentials_of_each_role_against_the_sandbox_token_endpoint(
    asgi: httpx.ASGITransport,
) -> None:
    front = OAuthClientCredentials(f"{BASE_URL}/oauth/token", "sandbox-client", "sandbox-secret")
    operator = OAuthClientCredentials(f"{BASE_URL}/oauth/token", "sandbox-operator-client", "sandbox-operator-secret")
    async with MiraklClient.create(
        BASE_URL, front=front, operator=operator, transport=asgi, sleep=RecordingSleep()
    ) as mirakl:
        await mirakl.list_carriers()
        await mirakl.list_reasons()
        await _all(mirakl.iter_offer_imports())

    assert (front.tokens_fetched, operator.tokens_fetched) == (1, 1)


async def test_generated_access_tokens_are_sent_as_bearer_per_role(asgi: httpx.ASGITransport) -> None:
    async with MiraklClient.create(
        BASE_URL,
        front=AccessTokenAuth("sandbox-mirakl-front-token"),
        operator=AccessTokenAuth("sandbox-mirakl-operator-token"),
        transport=asgi,
        sleep=RecordingSleep(),
    ) as mirakl:
        assert await mirakl.list_carriers()
        assert await _all(mirakl.iter_offer_imports())


async def test_wrong_api_key_is_an_auth_error(asgi: httpx.ASGITransport) -> None:
    async with MiraklClient.create(
        BASE_URL, front=ApiKeyAuth("wrong"), operator=ApiKeyAuth(OPERATOR_KEY), transport=asgi, sleep=RecordingSleep()
    ) as mirakl:
        with pytest.raises(AuthError):
            await mirakl.list_carriers()


async def test_swapped_keys_are_refused_on_the_operations_of_the_other_role(asgi: httpx.ASGITransport) -> None:
    async with MiraklClient.create(
        BASE_URL, front=ApiKeyAuth(OPERATOR_KEY), operator=ApiKeyAuth(API_KEY), transport=asgi, sleep=RecordingSleep()
    ) as mirakl:
        assert await mirakl.list_carriers()  # SH21 is in both specs: either role may call it
        with pytest.raises(AuthError) as refused_operator_only:
            await _all(mirakl.iter_offer_imports())  # OF04: operator spec only
        with pytest.raises(AuthError) as refused_front_only:
            await mirakl.create_order(_order("CT-SWAPPED", (await _orderable_offers(mirakl))[:1]))  # OR01: front only

    assert refused_operator_only.value.status == refused_front_only.value.status == 403


async def test_offer_exports_full_and_delta_async_and_csv(client: MiraklClient, control: httpx.AsyncClient) -> None:
    full = await _all(client.export_offers(None, poll_interval=0.0))
    assert full and all(offer.price is not None and not offer.deleted for offer in full)

    since = datetime.now(UTC) - timedelta(seconds=1)
    changed, removed = full[0], full[1]
    answer = await control.post(
        "/_sandbox/offers",
        json={
            "offers": [{"offer_id": changed.offer_id, "quantity": 0}, {"offer_id": removed.offer_id, "deleted": True}]
        },
    )
    assert answer.status_code == 200

    delta = {offer.offer_id: offer for offer in await _all(client.export_offers(since, poll_interval=0.0))}
    csv_delta = {offer.offer_id: offer for offer in await _all(client.iter_offers_delta_csv(since))}

    for exported in (delta, csv_delta):
        assert set(exported) == {changed.offer_id, removed.offer_id}
        assert exported[changed.offer_id].quantity == 0
        assert exported[removed.offer_id].deleted is True


async def test_offer_imports_report_a_failed_seller_feed(client: MiraklClient, control: httpx.AsyncClient) -> None:
    shop_id = next(iter(sandbox_seed.build_world().sellers)).shop_id
    answer = await control.post(
        "/_sandbox/imports", json={"shop_id": shop_id, "status": "FAILED", "lines_read": 8, "lines_in_error": 8}
    )
    import_id = answer.json()["import_id"]

    failed = await _all(client.iter_offer_imports(shop_id=shop_id, status="FAILED"))
    one = await client.get_offer_import(import_id)

    assert [(i.import_id, i.shop_id, i.lines_in_error) for i in failed] == [(import_id, shop_id, 8)]
    assert (one.status, one.lines_read) == ("FAILED", 8)


async def test_order_lifecycle_accept_debit_track_ship_refund(client: MiraklClient) -> None:
    offers = await _orderable_offers(client)
    created = await client.create_order(_order("BCT1", offers))
    assert created.offers_not_shippable == []
    assert sorted(order.order_id for order in created.orders) == ["BCT1-A", "BCT1-B"]

    for order in created.orders:
        await client.accept_order(order.order_id, {line.order_line_id: True for line in order.order_lines})
    debits = [d for d in await _all(client.iter_pending_debits()) if d.order_commercial_id == "BCT1"]
    assert len(debits) == 2
    await client.confirm_debits(
        [
            DebitConfirmation(
                order_id=d.order_id,
                customer_id=d.customer_id,
                payment_status="OK",
                amount=d.amount,
                currency_iso_code=d.currency_iso_code,
                transaction_number=f"TX-{d.order_id}",
                transaction_date=datetime.now(UTC),
            )
            for d in debits
        ]
    )

    first, second = sorted(created.orders, key=lambda order: order.order_id)
    await client.set_tracking(first.order_id, Tracking.registered("UPS", "1Z0001"))
    await client.set_tracking(second.order_id, Tracking.unregistered("Local Courier", "LC-1", "https://lc.example/1"))
    await client.ship_order(first.order_id)
    with pytest.raises(ConflictError, match="Current status is"):
        await client.ship_order(first.order_id)

    orders = {o.order_id: o for o in await _all(client.iter_orders(commercial_ids=["BCT1"]))}
    assert orders[first.order_id].order_state == "SHIPPED"
    assert orders[first.order_id].shipping_tracking == "1Z0001"
    assert orders[second.order_id].order_state == "SHIPPING"

    line = orders[first.order_id].order_lines[0]
    refunds = await client.create_refunds(
        [
            RefundCreate(
                order_line_id=line.order_line_id, amount=Decimal("1.00"), shipping_amount=Decimal(0), reason_code="11"
            )
        ]
    )
    assert [(r.order_line_id, r.amount) for r in refunds] == [(line.order_line_id, Decimal("1.00"))]

    pending = [p for p in await _all(client.iter_pending_refunds()) if p.order_id == first.order_id]
    waiting = [refund for p in pending for pl in p.order_lines for refund in pl.refunds]
    assert [refund.id for refund in waiting] == [refunds[0].refund_id]
    await client.confirm_refunds(
        [
            RefundConfirmation(refund_id=r.id, payment_status="OK", amount=r.amount, transaction_number="RF-1")
            for r in waiting
        ]
    )
    still_pending = [p for p in await _all(client.iter_pending_refunds()) if p.order_id == first.order_id]
    assert still_pending == []


async def test_staging_orders_are_validated_or_invalidated(client: MiraklClient) -> None:
    offers = await _orderable_offers(client)
    await client.create_order(_order("BCS1", offers[:1], scored=False))
    await client.create_order(_order("BCS2", offers[1:], scored=False))

    await client.validate_order("BCS1")
    await client.invalidate_order("BCS2")

    states = {o.commercial_id: o.order_state for o in await _all(client.iter_orders(commercial_ids=["BCS1", "BCS2"]))}
    assert states["BCS1"] == "WAITING_ACCEPTANCE"
    assert states["BCS2"] == "CANCELED"


async def test_cancel_whole_order_and_order_lines(client: MiraklClient) -> None:
    offers = await _orderable_offers(client)
    created = await client.create_order(_order("BCC1", offers, quantity=2))
    whole, partial = sorted(created.orders, key=lambda order: order.order_id)

    await client.cancel_order(whole.order_id)
    line = partial.order_lines[0]
    cancelled = await client.cancel_lines(
        [
            LineCancelation(
                order_line_id=line.order_line_id,
                quantity=1,
                amount=line.price_unit or Decimal(0),
                shipping_amount=Decimal(0),
                reason_code="32",
            )
        ]
    )

    orders = {o.order_id: o for o in await _all(client.iter_orders(commercial_ids=["BCC1"]))}
    assert orders[whole.order_id].order_state == "CANCELED"
    assert [c.order_line_id for c in cancelled] == [line.order_line_id]
    assert len(orders[partial.order_id].order_lines[0].cancelations) == 1


async def test_more_than_100_commercial_ids_are_split_and_accepted(client: MiraklClient) -> None:
    offers = await _orderable_offers(client)
    await client.create_order(_order("BCM1", offers[:1]))
    ids = [f"NOPE{n}" for n in range(149)] + ["BCM1"]

    orders = await _all(client.iter_orders(commercial_ids=ids))

    assert [order.commercial_id for order in orders] == ["BCM1"]
    assert client.transport.calls["OR11"] == 2


async def test_unknown_order_is_not_found(client: MiraklClient) -> None:
    with pytest.raises(NotFoundError):
        await client.ship_order("NO-SUCH-ORDER-A")


async def test_finance_reads_transactions_invoices_and_billing_cycles(
    client: MiraklClient, control: httpx.AsyncClient
) -> None:
    shop_id = next(iter(sandbox_seed.build_world().sellers)).shop_id
    now = datetime.now(UTC)
    planted = await control.post(
        "/_sandbox/finance/transactions",
        json={
            "lines": [{"type": "MANUAL_CREDIT", "amount": "12.34", "shop_id": shop_id, "date_created": now.isoformat()}]
        },
    )
    assert planted.status_code == 201
    window = (now - timedelta(days=400), now + timedelta(days=1))

    transactions = await _all(
        client.iter_transactions(date_created_from=window[0], date_created_to=window[1], shop_id=shop_id)
    )
    invoices = await _all(client.iter_invoices(start_date=window[0], end_date=window[1]))
    cycles = await _all(client.iter_billing_cycles(start_date=window[0], end_date=window[1]))

    assert any(t.type == "MANUAL_CREDIT" and t.amount == Decimal("12.34") for t in transactions)
    assert all(isinstance(invoice.total_amount_incl_taxes, Decimal | None) for invoice in invoices)
    assert {cycle.shop.shop_id for cycle in cycles if cycle.shop} == {
        s.shop_id for s in sandbox_seed.build_world().sellers
    }
    assert all(cycle.pay_out is not None and cycle.pay_out.state for cycle in cycles)
    assert set(client.transport.calls) == {"TL02", "IV01", "SBC11"}


async def test_erp_sink_accepts_once_and_recognises_the_replay() -> None:
    erp_module = pytest.importorskip("sandbox.erp", reason="sandbox/erp is not importable yet")
    from connectors.erp import ErpClient

    outer = fastapi.FastAPI()
    outer.mount("/erp", erp_module.create_erp_app())
    transport = httpx.ASGITransport(app=outer)
    payload = {"order_id": "BC1", "lines": [{"sku": "NAT-1", "quantity": 1, "price": "10.00"}]}

    async with ErpClient.create("http://sandbox/erp", "sandbox-erp-token", transport) as erp:
        first = await erp.send_order(payload, "bc-1")
        replay = await erp.send_order(payload, "bc-1")

    assert (first.status_code, first.duplicate) == (201, False)
    assert (replay.status_code, replay.duplicate) == (200, True)
