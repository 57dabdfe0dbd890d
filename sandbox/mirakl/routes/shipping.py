"""Shipping rates for a cart or an order about to be placed: SH02."""

from __future__ import annotations

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from sandbox.mirakl.errors import MiraklError
from sandbox.mirakl.formats import MiraklJSONResponse
from sandbox.mirakl.routes.params import store_of
from sandbox.mirakl.shipping import parse_offers_param, shipping_rates

__all__ = ["router"]

router = APIRouter()


@router.get("/api/shipping/rates")
async def get_shipping_rates(request: Request) -> Response:
    """SH02: `shipping_zone_code` and `offers` are required (see `sandbox.mirakl.shipping` for the spec facts)."""
    store = store_of(request)
    zone = request.query_params.get("shipping_zone_code")
    if not zone:
        raise MiraklError(400, "Error with field shipping_zone_code. This field is required.")
    requests = parse_offers_param(request.query_params.get("offers"))
    return MiraklJSONResponse(shipping_rates(store.catalog, zone, requests, store.now()))
