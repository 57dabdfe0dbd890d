"""Assemble the Mirakl emulator: state, auth, error contract, fault injection and every router."""

from __future__ import annotations

from fastapi import APIRouter, Depends, FastAPI

from sandbox.faults import FaultInjector, FaultMiddleware, fault_control_router
from sandbox.mirakl.auth import oauth_router, require_auth
from sandbox.mirakl.errors import install_error_handlers, render_fault
from sandbox.mirakl.routes import control, finance, offers, orders, payments, reference, shipping
from sandbox.mirakl.settings import MiraklSandboxSettings
from sandbox.mirakl.store import MiraklStore
from sandbox.seed import World

__all__ = ["create_mirakl_app"]


def create_mirakl_app(world: World, settings: MiraklSandboxSettings | None = None) -> FastAPI:
    """A fresh tenant seeded from `world`; `app.state.store` holds its state, `app.state.faults` its faults."""
    settings = settings or MiraklSandboxSettings()
    app = FastAPI(title="Mirakl sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store = MiraklStore.from_world(world, settings)
    app.state.faults = FaultInjector(seed=settings.fault_seed)
    install_error_handlers(app)
    app.add_middleware(FaultMiddleware, injector=app.state.faults, render_error=render_fault)

    api = APIRouter(dependencies=[Depends(require_auth)])
    for module in (offers, orders, payments, reference, shipping, finance):
        api.include_router(module.router)
    app.include_router(api)
    app.include_router(oauth_router)
    app.include_router(control.router)
    app.include_router(fault_control_router(app.state.faults))
    return app
