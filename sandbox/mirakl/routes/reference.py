"""Reference APIs: shops (S20), carriers (SH21) and reasons (RE01)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from sandbox.mirakl.catalog import Shop
from sandbox.mirakl.formats import MiraklJSONResponse, iso
from sandbox.mirakl.paging import OffsetPage, offset_response
from sandbox.mirakl.reference import CARRIERS, REASONS
from sandbox.mirakl.routes.params import date_param, list_param, store_of

__all__ = ["router"]

router = APIRouter()


def _shop_json(shop: Shop, offers_count: int, orders_count: int) -> dict[str, Any]:
    # Every field S20_Response_200_Shops lists as required is present, the deprecated ones included; contacts
    # and addresses are placeholders on reserved domains, never customer-like data.
    address = {"street_1": "1 Sandbox Way", "city": "Austin", "country_iso_code": "USA", "zip_code": "00000"}
    return {
        "shop_id": shop.shop_id,
        "shop_name": shop.shop_name,
        "shop_state": shop.shop_state,
        "suspension_type": "MANUAL" if shop.shop_state == "SUSPENDED" else None,
        "closed_from": None,
        "closed_to": None,
        "date_created": iso(shop.date_created),
        "last_updated_date": iso(shop.last_updated_date),
        "currency_iso_code": shop.currency_iso_code,
        "channels": [],
        "domains": ["PRODUCT"],
        "model": "MARKETPLACE",
        "is_professional": True,
        "premium": False,
        "premium_state": "NOT_PREMIUM",
        "grade": 4.5,
        "evaluations_count": 0,
        # A seller that never answers shows the tenant's auto-refusal delay (3 days) and a zero approval rate.
        "approval_delay": 259200 if shop.refuses_orders else 3600,
        "approval_rate": 0.0 if shop.refuses_orders else 0.98,
        "order_messages_response_delay": 7200,
        "orders_count": orders_count,
        "offers_count": offers_count,
        "free_shipping": False,
        "shipping_country": "USA",
        "commission": {
            "rate": shop.commission_rate,
            "grid_code": "DEFAULT",
            "grid_label": "Default commission grid",
            "linked_to_default_grid": True,
        },
        "shop_additional_fields": [],
        "billing_info": {},
        "contact_informations": {
            "lastname": shop.shop_name,
            "email": f"shop-{shop.shop_id}@sandbox.invalid",
            "street1": address["street_1"],
            "city": address["city"],
            "country": address["country_iso_code"],
        },
        "default_billing_information": {
            "id": f"DBI-{shop.shop_id}",
            "default_language": "en",
            "registration_address": address,
        },
        "payment_details": {
            "paid_balance": 0.0,
            "payable_balance": 0.0,
            "pending_balance": 0.0,
            "pay_subscription": False,
            "payment_blocked": False,
        },
        "payment_method_mandatory": False,
        "pro_details": {},
        "shipping": {},
        "shipping_types": sorted({code for codes in shop.shipping_types.values() for code in codes}),
        "shipping_zones": sorted(zone for zone, codes in shop.shipping_types.items() if codes),
        "operator_internal_id": None,
    }


@router.get("/api/shops")
async def list_shops(request: Request, page: OffsetPage) -> Response:
    """S20: offset-paged, sorted by shop name; filters `shop_ids`, `state`, `updated_since`."""
    store = store_of(request)
    wanted = {int(i) for i in list_param(request, "shop_ids") if i.isdigit()}
    state = request.query_params.get("state")
    since = date_param(request, "updated_since")
    shops = sorted(store.shops.values(), key=lambda s: (s.shop_name, s.shop_id))
    found = [
        shop
        for shop in shops
        if (not wanted or shop.shop_id in wanted)
        and (not state or shop.shop_state == state)
        and (since is None or shop.last_updated_date >= since)
    ]
    offers_count = store.catalog.count_by_shop
    return offset_response(
        request,
        "shops",
        found,
        len(found),
        page,
        lambda shop: _shop_json(
            shop, offers_count.get(shop.shop_id, 0), len(store.orders.by_shop.get(shop.shop_id, {}))
        ),
    )


@router.get("/api/shipping/carriers")
async def list_carriers() -> Response:
    """SH21: sorted by label."""
    carriers = sorted(CARRIERS.values(), key=lambda c: c.label.lower())
    return MiraklJSONResponse(
        {
            "carriers": [
                {"code": c.code, "label": c.label, "standard_code": c.standard_code, "tracking_url": c.tracking_url}
                for c in carriers
            ]
        }
    )


@router.get("/api/reasons")
async def list_reasons() -> Response:
    """RE01: every reason of every type (not paginated; `total_count` kept for compatibility)."""
    reasons = [
        {
            "code": r.code,
            "label": r.label,
            "type": r.type,
            "is_shop_right": r.is_shop_right,
            "is_operator_right": r.is_operator_right,
            "is_customer_right": r.is_customer_right,
        }
        for r in REASONS
    ]
    return MiraklJSONResponse({"reasons": reasons, "total_count": len(reasons)})
