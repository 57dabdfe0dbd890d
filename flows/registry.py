"""Which flows exist, by stream name, imported lazily so the CLI starts fast and only pays for what it runs."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEMO_SEQUENCE", "STREAMS", "StreamSpec", "load_flow"]


@dataclass(frozen=True)
class StreamSpec:
    name: str
    entrypoint: str  # "module:function"
    demo_parameters: dict[str, Any] = field(default_factory=dict)


STREAMS: dict[str, StreamSpec] = {
    spec.name: spec
    for spec in (
        StreamSpec("smoke", "flows.smoke:smoke"),
        StreamSpec("offer_sync", "flows.offer_sync:offer_sync", {"mode": "delta"}),
        StreamSpec("drift_monitor", "flows.drift_monitor:drift_monitor"),
        StreamSpec("order_routing", "flows.order_routing:order_routing"),
        StreamSpec("acceptance_guard", "flows.acceptance_guard:acceptance_guard"),
        StreamSpec("shipment_sync", "flows.shipment_sync:shipment_sync"),
        StreamSpec("refund_mirror", "flows.refund_mirror:refund_mirror"),
        StreamSpec("commission_reconciliation", "flows.commission_reconciliation:commission_reconciliation"),
    )
}

# The order in which `bcmirakl demo` runs the streams: each builds on the state the previous ones left.
DEMO_SEQUENCE: list[tuple[str, dict[str, Any]]] = [
    ("smoke", {}),
    ("offer_sync", {"mode": "full"}),
    ("offer_sync", {"mode": "delta"}),
    ("order_routing", {}),
    ("acceptance_guard", {}),
    ("shipment_sync", {}),
    ("refund_mirror", {}),
    ("commission_reconciliation", {}),
    ("drift_monitor", {}),
]


def load_flow(name: str) -> Any:
    """The flow object for stream `name`; unknown names list the known ones."""
    if name not in STREAMS:
        raise KeyError(f"unknown stream {name!r}; known: {', '.join(sorted(STREAMS))}")
    module_name, attr = STREAMS[name].entrypoint.split(":")
    return getattr(importlib.import_module(module_name), attr)
