"""A minimal ERP order receiver: where the bridge routes the native (first-party) lines of each order.

It behaves like a well-made order intake API: Bearer auth, an `Idempotency-Key` per order, the first delivery
stored and answered 201, any repeat with the same key answered 200 with the original response and not
stored again. That is exactly what the bridge's exactly-once routing must be able to rely on (and prove).
Fault injection is available as on the other emulators, for chaos tests of the ERP sink.
"""

from __future__ import annotations

import hmac
import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from sandbox.faults import FaultInjector, FaultMiddleware, fault_control_router

__all__ = ["ErpStore", "create_erp_app"]


@dataclass
class ErpStore:
    """What the ERP received, in arrival order, and the response given to each idempotency key."""

    orders: list[dict[str, Any]] = field(default_factory=list)
    responses: dict[str, dict[str, Any]] = field(default_factory=dict)

    def receive(self, key: str, body: Any) -> tuple[int, dict[str, Any]]:
        if key in self.responses:
            return 200, self.responses[key]
        record = {
            "id": f"ERP-{len(self.orders) + 1:06d}",
            "idempotency_key": key,
            "received_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            "order": body,
        }
        self.orders.append(record)
        response = {"id": record["id"], "status": "received"}
        self.responses[key] = response
        return 201, response


def _error(status: int, message: str) -> Response:
    return JSONResponse({"message": message, "status": status}, status_code=status)


def create_erp_app(token: str = "sandbox-erp-token") -> FastAPI:
    app = FastAPI(title="ERP sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    store = ErpStore()
    app.state.store = store
    app.state.faults = FaultInjector()
    app.add_middleware(
        FaultMiddleware, injector=app.state.faults, render_error=lambda _request, status: _error(status, "ERP fault")
    )
    app.include_router(fault_control_router(app.state.faults))

    def authorized(request: Request) -> bool:
        header = request.headers.get("Authorization", "")
        return header.startswith("Bearer ") and hmac.compare_digest(header[7:].encode(), token.encode())

    @app.post("/orders")
    async def receive_order(request: Request) -> Response:
        if not authorized(request):
            return _error(401, "Invalid or missing bearer token")
        key = request.headers.get("Idempotency-Key")
        if not key:
            return _error(400, "The Idempotency-Key header is required")
        try:
            body = json.loads(await request.body())
        except ValueError:
            return _error(400, "The request body is not valid JSON")
        status, response = store.receive(key, body)
        return JSONResponse(response, status_code=status)

    @app.get("/orders")
    async def list_orders(request: Request) -> Response:
        if not authorized(request):
            return _error(401, "Invalid or missing bearer token")
        return JSONResponse({"orders": store.orders, "total": len(store.orders)})

    return app
