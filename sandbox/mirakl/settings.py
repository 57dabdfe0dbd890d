"""Knobs of the Mirakl emulator: credentials it accepts, the public URL it advertises, chunking, the clock.

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
    api_key: str = "sandbox-mirakl-key"  # raw key in `Authorization`
    oauth_client_id: str = "sandbox-client"
    oauth_client_secret: str = "sandbox-secret"
    base_url: str = "http://sandbox/mirakl"  # absolute OF54 chunk URLs are built on it
    items_per_chunk: int = 5000
    now: Callable[[], datetime] = field(default=_utc_now)
    fault_seed: int = 11
    # How the tenant debits customers (PA11/PA01 `debit_entity.type`, "varies if the customer is debited per order
    # or per shipment"): "ORDER" or "SHIPMENT".
    debit_entity: str = "ORDER"
    # Platform setting: with partial refunds deactivated, PA02's `order_lines` "is not deprecated but mandatory".
    partial_refunds: bool = True
