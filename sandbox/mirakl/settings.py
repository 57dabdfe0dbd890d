"""Knobs of the Mirakl emulator: each role's credentials, the public URL it advertises, chunking, the clocks,
and whether the documented call frequencies are enforced.

The clock is injectable so tests and benchmarks control `last_updated`, watermarks and token expiry without
sleeping.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

__all__ = ["MiraklSandboxSettings"]


def _utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass
class MiraklSandboxSettings:
    # One credential of each kind per role (see `sandbox.mirakl.roles`): a raw API key in `Authorization`, a
    # generated access token sent as `Bearer`, and an OAuth client whose tokens carry its role.
    front_api_key: str = "sandbox-mirakl-key"
    operator_api_key: str = "sandbox-mirakl-operator-key"
    front_access_token: str = "sandbox-mirakl-front-token"
    operator_access_token: str = "sandbox-mirakl-operator-token"
    front_oauth_client_id: str = "sandbox-client"
    front_oauth_client_secret: str = "sandbox-secret"
    operator_oauth_client_id: str = "sandbox-operator-client"
    operator_oauth_client_secret: str = "sandbox-operator-secret"
    base_url: str = "http://sandbox/mirakl"  # absolute OF54 chunk URLs are built on it
    # OF53 `urls[]` on another host, as a tenant whose exports a CDN or custom domain serves (the specs do not
    # say on which host the OF54 URLs are); None: the tenant's own base URL.
    chunk_base_url: str | None = None
    items_per_chunk: int = 5000
    now: Callable[[], datetime] = field(default=_utc_now)
    fault_seed: int = 11
    # Documented maximum call frequencies (sandbox/mirakl/budgets.py): on by default, as on a real tenant.
    enforce_call_budgets: bool = True
    call_budget_scale: float = 1.0  # multiplies every allowance (benchmarks); 1.0 is Mirakl's maximum
    budget_clock: Callable[[], datetime] | None = None  # the clock budgets are counted on; `now` when unset
    # How the tenant debits customers (PA11/PA01 `debit_entity.type`, "varies if the customer is debited per order
    # or per shipment"): "ORDER" or "SHIPMENT".
    debit_entity: str = "ORDER"
    # Platform setting: with partial refunds deactivated, PA02's `order_lines` "is not deprecated but mandatory".
    partial_refunds: bool = True
