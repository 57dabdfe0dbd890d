"""A stateful BigCommerce emulator (FastAPI) written from BigCommerce's docs and OpenAPI specs.

The demo, the tests and the benchmarks run the bridge against it instead of a real store: same paths, shapes,
paging, rate-limit headers and error bodies, with seeded data and fault injection. It imports nothing from the
bridge, so a wrong assumption in our client cannot hide behind the same assumption here.
"""

from __future__ import annotations

from sandbox.bigcommerce.app import create_bigcommerce_app
from sandbox.bigcommerce.settings import BigCommerceSandboxSettings
from sandbox.bigcommerce.store import BigCommerceStore, Order, OrderLine, ShippingAddress

__all__ = [
    "BigCommerceSandboxSettings",
    "BigCommerceStore",
    "Order",
    "OrderLine",
    "ShippingAddress",
    "create_bigcommerce_app",
]
