"""The Mirakl emulator answers in the shapes Mirakl's published OpenAPI specs document.

Most operations are checked against the front spec by (path, method, 200). The front spec lost the path entries
of OR01, PA11, PA12, S20 and TL02, so those are held to their named `components.schemas` entries instead; the
offer imports (OF04) are only in the operator spec. The module first drives one order life cycle (OR01, the
seller's acceptance, PA01 debit, OR28 refund) so every listing validated here has rows to check.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import httpx
import pytest

from sandbox.app import Sandbox
from tests.contract.openapi import Relaxation, assert_conforms, component_schema, load_spec, relaxed, response_schema

FRONT = "mirakl/mmp-front-openapi.yaml"
OPERATOR = "mirakl/mmp-operator-openapi.json"
# The `mirakl` fixture sends the front key; operator-only operations (OR28, OF04) need the operator key.
OPERATOR_KEY = {"Authorization": "sandbox-mirakl-operator-key"}
OPEN_SHOP, SECOND_SHOP = 2000, 2001
_LINE_DESCRIPTION_WHY = (
    "OR11/OR01 order lines list `description` as a required string, but the front spec's own OR11 example "
    "(paths./api/orders.get.responses.200, example application/json-0) sends order_lines[0].description: null"
)
# Where a spec contradicts itself, the schema is loosened at one pointer, and only for that operation.
RELAXATIONS = {
    "/api/orders": (
        Relaxation(
            "/$defs/components.schemas.OR11_Response_200_Orders_OrderLines/properties/description",
            _LINE_DESCRIPTION_WHY,
            allow_null=True,
        ),
    ),
    "OR01_Response_200": (
        Relaxation(
            "/$defs/components.schemas.OR01_Response_200_Orders_OrderLines/properties/description",
            _LINE_DESCRIPTION_WHY,
            allow_null=True,
        ),
    ),
}


@dataclass(frozen=True)
class Scenario:
    or01: dict[str, Any]
    paid_order_id: str
    waiting_order_id: str


def _order_body(commercial_id: str, offers: list[Any]) -> dict[str, Any]:
    address = {
        "lastname": "Sandbox",
        "street_1": "1 Test Street",
        "zip_code": "00000",
        "city": "Testville",
        "country": "United States",
        "country_iso_code": "USA",
    }
    lines = [
        {
            "offer_id": offer.offer_id,
            "quantity": 1,
            "offer_price": str(offer.price),
            "price": str(offer.price),
            "shipping_price": "5.00",
            "shipping_type_code": "EXP",  # every seeded shop ships EXP in the US, not all STD
            "taxes": [{"code": "SALES", "amount": "1.00", "rate": 8}],
            "shipping_taxes": [{"code": "SALES", "amount": "0.40", "rate": 8}],
        }
        for offer in offers
    ]
    customer = {"customer_id": "C-T", "email": "buyer@example.invalid", "firstname": "T", "lastname": "Sandbox"}
    return {
        "commercial_id": commercial_id,
        "scored": True,
        "shipping_zone_code": "US",
        "payment_workflow": "PAY_ON_ACCEPTANCE",
        "payment_info": {"payment_type": "card", "imprint_number": "PSP-T"},
        "customer": customer | {"billing_address": address, "shipping_address": address},
        "offers": lines,
    }


@pytest.fixture(scope="module")
async def scenario(contract_sandbox: Sandbox, mirakl: httpx.AsyncClient) -> Scenario:
    """Two orders accepted by their sellers; one debited then partly refunded, one left waiting for its debit."""
    catalog = contract_sandbox.mirakl.state.store.catalog
    offers = [
        next(o for o in catalog.offers.values() if o.shop_id == shop and catalog.is_orderable(o, 1))
        for shop in (OPEN_SHOP, SECOND_SHOP)
    ]
    created = await mirakl.post("/api/orders", json=_order_body("CT100", offers))
    assert created.status_code == 200, created.text
    await mirakl.post("/_sandbox/tick")
    debits = (await mirakl.get("/api/payment/debit")).json()["orders"]["order"]
    paid = next(d for d in debits if d["order_id"] == "CT100-A")
    debit = {"order_id": "CT100-A", "customer_id": "C-T", "payment_status": "OK", "amount": paid["amount"]}
    assert (await mirakl.put("/api/payment/debit", json={"orders": [debit]})).status_code == 204
    line_id = contract_sandbox.mirakl.state.store.order("CT100-A").lines[0].order_line_id
    refund = {"order_line_id": line_id, "amount": "2.00", "shipping_amount": "0", "reason_code": "11"}
    assert (await mirakl.put("/api/orders/refund", json={"refunds": [refund]}, headers=OPERATOR_KEY)).status_code == 200
    return Scenario(or01=created.json(), paid_order_id="CT100-A", waiting_order_id="CT100-B")


def _spec_schema(spec_file: str, target: str) -> dict[str, Any]:
    """`target` is a spec path (GET, 200, application/json) or, for the lost path entries, a component name."""
    spec = load_spec(spec_file)
    if target.startswith("/"):
        schema = response_schema(spec, target, "get", 200, optional_nullable=True)
    else:
        schema = component_schema(spec, target, optional_nullable=True)
    assert schema is not None
    return relaxed(schema, *RELAXATIONS.get(target, ()))


def _rows(body: Any) -> list[Any]:
    """The records of any Mirakl listing envelope: `orders`, `shops`, `data`, `carriers`, PA11's `orders.order`."""
    if isinstance(body, list):
        return body
    for key in ("orders", "shops", "data", "carriers", "reasons", "invoices"):
        value = body.get(key)
        if isinstance(value, dict):
            value = value.get("order")
        if isinstance(value, list):
            return value
    return []


def test_or01_answer_matches_its_component_schema(scenario: Scenario) -> None:
    body = scenario.or01
    assert [o["order_id"] for o in body["orders"]] == [scenario.paid_order_id, scenario.waiting_order_id]
    assert_conforms(_spec_schema(FRONT, "OR01_Response_200"), body, "OR01")


# (sandbox path, query, spec file, spec path or component name); the test id is the Mirakl operation code.
READS = [
    pytest.param("/api/orders", {"commercial_ids": "CT100"}, FRONT, "/api/orders", id="OR11"),
    pytest.param("/api/shops", {}, FRONT, "S20_Response_200", id="S20"),
    pytest.param("/api/shipping/carriers", {}, FRONT, "/api/shipping/carriers", id="SH21"),
    pytest.param("/api/reasons", {}, FRONT, "/api/reasons", id="RE01"),
    pytest.param("/api/offers/imports", {}, OPERATOR, "/api/offers/imports", id="OF04"),
    pytest.param("/api/payment/debit", {}, FRONT, "PA11_Response_200", id="PA11"),
    pytest.param("/api/payment/refund", {}, FRONT, "PA12_Response_200", id="PA12"),
    pytest.param("/api/sellerpayment/transactions_logs", {}, FRONT, "TL02_Response_200", id="TL02"),
    pytest.param("/api/seller-billing-cycles", {}, FRONT, "/api/seller-billing-cycles", id="SBC11"),
    pytest.param("/api/invoices", {}, FRONT, "/api/invoices", id="IV01"),
]


@pytest.mark.parametrize(("path", "query", "spec_file", "target"), READS)
async def test_read_responses_match_the_spec(
    mirakl: httpx.AsyncClient, scenario: Scenario, path: str, query: dict[str, str], spec_file: str, target: str
) -> None:
    response = await mirakl.get(path, params=query, headers=OPERATOR_KEY if spec_file == OPERATOR else None)
    assert response.status_code == 200, response.text
    body = response.json()
    assert _rows(body), "an empty listing would validate nothing"
    assert_conforms(_spec_schema(spec_file, target), body, f"GET {path}")


async def test_shipping_rates_match_sh02_with_orders_and_errors(
    contract_sandbox: Sandbox, mirakl: httpx.AsyncClient
) -> None:
    catalog = contract_sandbox.mirakl.state.store.catalog
    offers = [
        next(o for o in catalog.offers.values() if o.shop_id == shop and catalog.is_orderable(o, 1))
        for shop in (OPEN_SHOP, SECOND_SHOP)
    ]
    query = {"shipping_zone_code": "US", "offers": ",".join(f"{o.offer_id}|1" for o in offers) + ",999999|1"}
    response = await mirakl.get("/api/shipping/rates", params=query)
    body = response.json()
    assert response.status_code == 200 and len(body["orders"]) == 2 and body["errors"]
    assert_conforms(_spec_schema(FRONT, "SH02_Response_200"), body, "SH02")


async def test_offer_export_status_and_chunk_match_of53_and_of54(mirakl: httpx.AsyncClient) -> None:
    request = {"export_type": "application/json", "items_per_chunk": 50}
    tracking_id = (await mirakl.post("/api/offers/export/async", json=request)).json()["tracking_id"]
    status_schema = _spec_schema(FRONT, "/api/offers/export/async/status/{tracking_id}")
    pending = (await mirakl.get(f"/api/offers/export/async/status/{tracking_id}")).json()
    done = (await mirakl.get(f"/api/offers/export/async/status/{tracking_id}")).json()
    assert (pending["status"], done["status"]) == ("PENDING", "COMPLETED") and done["urls"]
    assert_conforms(status_schema, pending, "OF53 pending")
    assert_conforms(status_schema, done, "OF53 completed")
    chunk = (await mirakl.get(done["urls"][0])).json()
    assert chunk and all(Decimal(str(row["prices"][0]["origin_price"])) > 0 for row in chunk if row["active"])
    # The OF54 JSON schema says `type: object` beside a $ref to the one-offer OF54_Response_200_Ext_FileStructure,
    # while the same response's examples (application/json-0, -1) and its text/csv schema are arrays of offers:
    # a chunk is held to "array of FileStructure".
    offer = _spec_schema(FRONT, "OF54_Response_200_Ext_FileStructure")
    chunk_schema = {"type": "array", "items": {"$ref": offer["$ref"]}, "$defs": offer["$defs"]}
    assert_conforms(chunk_schema, chunk, "OF54 chunk")


# The Mirakl specs give no error response a schema (their 400s carry a description only, e.g. OR04 and OR07);
# the one error body they define is AN01_Response_404, `{message, status}`, the shape api/mirakl.md §2.3 reports
# for every 4xx, so each error is held to it.
ERRORS = [
    pytest.param("GET", "/api/orders", {"commercial_ids": ",".join(f"X{i}" for i in range(101))}, 400, id="OR11-400"),
    pytest.param("PUT", "/api/orders/NOPE-A/ship", {}, 404, id="OR24-404"),
]


@pytest.mark.parametrize(("method", "path", "query", "status"), ERRORS)
async def test_error_bodies_match_the_spec_error_shape(
    mirakl: httpx.AsyncClient, method: str, path: str, query: dict[str, str], status: int
) -> None:
    response = await mirakl.request(method, path, params=query)
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == status and body["message"]
    assert_conforms(_spec_schema(FRONT, "AN01_Response_404"), body, f"{method} {path} {status}")
