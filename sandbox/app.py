"""One ASGI app serving every emulator under its own prefix, as the real services sit on their own hosts.

`/bigcommerce/stores/{hash}/...`, `/mirakl/api/...` and `/erp/orders`: the bridge reaches each through its own
base URL, so pointing at a real store changes the URL and credentials, nothing else.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import FastAPI

from sandbox.alerts import create_alerts_app
from sandbox.bigcommerce import BigCommerceSandboxSettings, create_bigcommerce_app
from sandbox.erp import create_erp_app
from sandbox.mirakl import MiraklSandboxSettings, create_mirakl_app
from sandbox.seed import SeedConfig, World, build_world

__all__ = ["Sandbox", "create_sandbox"]


@dataclass
class Sandbox:
    """The combined app plus handles on each emulator, for tests and the demo to inspect or steer."""

    app: FastAPI
    world: World
    bigcommerce: FastAPI
    mirakl: FastAPI
    erp: FastAPI
    base_url: str = "http://sandbox"
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def bigcommerce_url(self) -> str:
        return f"{self.base_url}/bigcommerce"

    @property
    def mirakl_url(self) -> str:
        return f"{self.base_url}/mirakl"

    @property
    def erp_url(self) -> str:
        return f"{self.base_url}/erp"


def create_sandbox(
    *,
    seed: SeedConfig | None = None,
    base_url: str = "http://sandbox",
    bigcommerce: BigCommerceSandboxSettings | None = None,
    mirakl: MiraklSandboxSettings | None = None,
) -> Sandbox:
    """Seed a world and mount the three emulators; `base_url` is where the combined app will be reached."""
    world = build_world(seed)
    mirakl_settings = mirakl or MiraklSandboxSettings()
    mirakl_settings.base_url = f"{base_url}/mirakl"
    bc_app = create_bigcommerce_app(world, bigcommerce)
    mirakl_app = create_mirakl_app(world, mirakl_settings)
    erp_app = create_erp_app()
    app = FastAPI(title="bcmirakl sandbox", docs_url=None, redoc_url=None)
    app.mount("/bigcommerce", bc_app)
    app.mount("/mirakl", mirakl_app)
    app.mount("/erp", erp_app)
    app.mount("/alerts", create_alerts_app())
    return Sandbox(app=app, world=world, bigcommerce=bc_app, mirakl=mirakl_app, erp=erp_app, base_url=base_url)
