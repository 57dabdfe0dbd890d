"""Which flows exist, by `Stream`, imported lazily so the CLI starts fast and only pays for what it runs."""

from __future__ import annotations

import importlib
from dataclasses import dataclass, field
from typing import Any

from bridge.streams import Stream

__all__ = ["DEMO_SEQUENCE", "STREAMS", "Stream", "StreamSpec", "load_flow"]


@dataclass(frozen=True)
class StreamSpec:
    name: Stream
    entrypoint: str  # "module:function"
    demo_parameters: dict[str, Any] = field(default_factory=dict)


STREAMS: dict[Stream, StreamSpec] = {
    spec.name: spec
    for spec in (
        StreamSpec(Stream.SMOKE, "flows.smoke:smoke"),
        StreamSpec(Stream.OFFER_SYNC, "flows.offer_sync:offer_sync", {"mode": "delta"}),
        StreamSpec(Stream.DRIFT_MONITOR, "flows.drift_monitor:drift_monitor"),
        StreamSpec(Stream.ORDER_ROUTING, "flows.order_routing:order_routing"),
        StreamSpec(Stream.ACCEPTANCE_GUARD, "flows.acceptance_guard:acceptance_guard"),
        StreamSpec(Stream.SHIPMENT_SYNC, "flows.shipment_sync:shipment_sync"),
        StreamSpec(Stream.REFUND_MIRROR, "flows.refund_mirror:refund_mirror"),
        StreamSpec(Stream.COMMISSION_RECONCILIATION, "flows.commission_reconciliation:commission_reconciliation"),
    )
}

# The order in which `bcmirakl demo` runs the streams: each builds on the state the previous ones left.
DEMO_SEQUENCE: list[tuple[Stream, dict[str, Any]]] = [
    (Stream.SMOKE, {}),
    (Stream.OFFER_SYNC, {"mode": "full"}),
    (Stream.OFFER_SYNC, {"mode": "delta"}),
    (Stream.ORDER_ROUTING, {}),
    (Stream.ACCEPTANCE_GUARD, {}),
    (Stream.SHIPMENT_SYNC, {}),
    (Stream.REFUND_MIRROR, {}),
    (Stream.COMMISSION_RECONCILIATION, {}),
    (Stream.DRIFT_MONITOR, {}),
]


def load_flow(name: str) -> Any:
    """The flow object for stream `name`; unknown names list the known ones."""
    if name not in STREAMS:
        raise KeyError(f"unknown stream {name!r}; known: {', '.join(sorted(STREAMS))}")
    module_name, attr = STREAMS[name].entrypoint.split(":")
    return getattr(importlib.import_module(module_name), attr)
