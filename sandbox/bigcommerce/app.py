"""Assemble the BigCommerce emulator: seeded store, routes, gateway (auth and quota) and fault injection.

The gateway wraps the fault middleware, so injected errors also carry the rate-limit headers and count against
the quota, exactly like real failures would.
"""

from __future__ import annotations

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import Response

from sandbox.bigcommerce.catalog import catalog_router
from sandbox.bigcommerce.control import control_router, rate_window_router
from sandbox.bigcommerce.errors import error_response, install_error_handlers
from sandbox.bigcommerce.gateway import GatewayMiddleware, RateWindow, too_many_requests_body
from sandbox.bigcommerce.hooks import hooks_router
from sandbox.bigcommerce.inventory import inventory_router
from sandbox.bigcommerce.orders_v2 import orders_v2_router
from sandbox.bigcommerce.orders_v3 import orders_v3_router
from sandbox.bigcommerce.seeding import seed_store
from sandbox.bigcommerce.settings import BigCommerceSandboxSettings
from sandbox.bigcommerce.store import BigCommerceStore
from sandbox.faults import FaultInjector, FaultMiddleware, RenderError, fault_control_router
from sandbox.seed import World

__all__ = ["create_bigcommerce_app"]


def _fault_renderer(window: RateWindow) -> RenderError:
    def render(request: Request, status: int) -> Response:
        if status == 429:
            headers = window.headers(exhausted=True)
            return Response(too_many_requests_body(), status_code=429, headers=headers, media_type="application/json")
        return error_response(request.url.path, status)

    return render


def create_bigcommerce_app(world: World, settings: BigCommerceSandboxSettings | None = None) -> FastAPI:
    """A fresh emulated store seeded from `world`; state lives as long as the returned app."""
    settings = settings or BigCommerceSandboxSettings()
    store = BigCommerceStore(settings)
    seed_store(store, world)
    faults = FaultInjector(seed=settings.fault_seed)
    window = RateWindow(settings.quota, settings.window_ms, settings.clock)

    app = FastAPI(title="BigCommerce sandbox", docs_url=None, redoc_url=None)
    app.state.store = store
    app.state.faults = faults
    app.state.rate_window = window
    install_error_handlers(app)
    app.include_router(catalog_router(store, faults))
    app.include_router(inventory_router(store))
    app.include_router(orders_v2_router(store))
    app.include_router(orders_v3_router(store))
    app.include_router(hooks_router(store))
    app.include_router(control_router(store))
    app.include_router(rate_window_router(window, store))
    app.include_router(fault_control_router(faults))

    def count_request() -> None:
        store.request_count += 1

    app.add_middleware(FaultMiddleware, injector=faults, render_error=_fault_renderer(window))
    app.add_middleware(GatewayMiddleware, settings=settings, window=window, on_request=count_request)
    return app
