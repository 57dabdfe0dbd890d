"""The bridge's streams, by one name each: the flow, its report and artifacts, outbox, quarantine, cases, cursors.

Before this enum a stream was `offer-sync` in the outbox and `offer_sync` in the registry, and `bcmirakl status`
had to normalise the two. Every layer above the connectors names a stream through `Stream`; being a `str`, a
member is stored and compared as its value, so the state store holds one spelling (migration `0008` rewrote
the dashed rows older versions wrote). Artifact keys derive from the value (`artifact_key` turns `_` into `-`).
"""

from __future__ import annotations

from enum import StrEnum

__all__ = ["Stream"]


class Stream(StrEnum):
    SMOKE = "smoke"
    OFFER_SYNC = "offer_sync"
    DRIFT_MONITOR = "drift_monitor"
    ORDER_ROUTING = "order_routing"
    ACCEPTANCE_GUARD = "acceptance_guard"
    SHIPMENT_SYNC = "shipment_sync"
    REFUND_MIRROR = "refund_mirror"
    COMMISSION_RECONCILIATION = "commission_reconciliation"

    def cursor(self, part: str) -> str:
        """The name of one of the stream's own cursors (`shipment_sync.mirakl`): several reads, one stream."""
        return f"{self.value}.{part}"
