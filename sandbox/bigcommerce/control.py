"""Test-only controls that stand in for what shoppers and admins do in a real store's control panel.

A status change here bumps `date_modified` exactly as an admin edit would, so order sweeps can be tested
without going through the API under test. Benchmarks serving the store from another process rescale its quota
window (a 30 s window shrunk so a quota-bound push spans many windows in little time) and read how many API
requests it served.
"""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter
from pydantic import BaseModel, Field
from starlette.responses import Response

from sandbox.bigcommerce.errors import ApiError
from sandbox.bigcommerce.gateway import RateWindow
from sandbox.bigcommerce.settings import ORDER_STATUSES
from sandbox.bigcommerce.store import BigCommerceStore

__all__ = ["control_router", "rate_window_router"]


class StatusChange(BaseModel):
    status_id: int = Field(description="the new BigCommerce order status id (0-14)")


class WindowChange(BaseModel):
    quota: int = Field(ge=1, description="requests per window")
    window_ms: int = Field(ge=1, description="the window's length")


class RefundPayments(BaseModel):
    outcome: Literal["settled", "pending", "declined"] = Field(description="how the provider answers refunds")


def control_router(store: BigCommerceStore) -> APIRouter:
    router = APIRouter(prefix="/_sandbox")

    @router.post("/orders/{order_id}/status", status_code=204)
    async def change_order_status(order_id: int, change: StatusChange) -> Response:
        order = store.order(order_id)
        if order is None:
            raise ApiError("v2", 404, "The requested resource was not found.")
        if change.status_id not in ORDER_STATUSES:
            raise ApiError("v2", 400, f"{change.status_id} is not an order status.")
        store.set_order_status(order, change.status_id)
        return Response(status_code=204)

    @router.post("/refund-payments", status_code=204)
    async def set_refund_payments(change: RefundPayments) -> Response:
        """The payment provider declines, delays or settles the refund payments that follow."""
        store.refund_payment_outcome = change.outcome
        return Response(status_code=204)

    return router


def rate_window_router(window: RateWindow, store: BigCommerceStore) -> APIRouter:
    router = APIRouter(prefix="/_sandbox")

    def state() -> dict[str, int]:
        return {"quota": window.quota, "window_ms": window.window_ms, "requests_served": store.request_count}

    @router.get("/rate-window")
    async def read_window() -> dict[str, int]:
        return state()

    @router.put("/rate-window")
    async def rescale_window(change: WindowChange) -> dict[str, int]:
        window.rescale(change.quota, change.window_ms)
        return state()

    return router
