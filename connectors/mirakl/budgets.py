"""Mirakl's documented call budgets: the maximum usage of each operation the bridge calls.

Every Mirakl operation documents a "Call Frequency" block with a recommended and a maximum usage; a real tenant
answers calls beyond the maximum with 429. The defaults below are those maximums, quoted from the specs
(`mmp-operator-openapi.json` / `mmp-front-openapi.yaml`, `max-call-frequency`), and from Mirakl's seller-payment
documentation for TL02 (shared/api/mirakl.md §2.4, §7.2: not in the stored specs). They are the ceiling, not a
target: a tenant may lower (or, with Mirakl's agreement, raise) any of them in the config file.

Operations documented "at each order / refund / cancelation" (OR21, OR23, OR24, OR28, OR29, OR30) are driven by
events and have no budget; neither have the operations without a Call Frequency block (OR01, PA01/PA02,
PA11/PA12, S20, OF54) nor RE01 ("each time a page must display a list of reasons").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_BUDGETS", "PAGES_FREE", "CallLimit", "is_continuation"]

MINUTE = 60.0
HOUR = 3600.0
DAY = 86400.0


@dataclass(frozen=True)
class CallLimit:
    """At most `calls` calls in any `seconds`-long window (a sliding window)."""

    calls: int
    seconds: float


DEFAULT_BUDGETS: dict[str, tuple[CallLimit, ...]] = {
    # OR11: "Maximum usage: - Asynchronous: once per minute - Synchronous: at each order page display". The bridge
    # polls asynchronously. ("External Partner: every 15 minutes" applies to that persona only.)
    "OR11": (CallLimit(1, MINUTE),),
    # OF51/OF52: "Maximum usage: - Differential: once per minute - Full: once per day". The budget holds the
    # differential maximum; the nightly schedule holds the full export to once a day.
    "OF51": (CallLimit(1, MINUTE),),
    "OF52": (CallLimit(1, MINUTE),),
    # OF53: "Maximum usage: Every 10 seconds".
    "OF53": (CallLimit(1, 10.0),),
    # OF02 / OF03 / OF04: "Maximum usage: Once per minute".
    "OF02": (CallLimit(1, MINUTE),),
    "OF03": (CallLimit(1, MINUTE),),
    "OF04": (CallLimit(1, MINUTE),),
    # SH21: "Maximum usage: Once per day".
    "SH21": (CallLimit(1, DAY),),
    # IV01: "Once per day and as many times as there are invoice pages returned" (pages are free, see PAGES_FREE).
    "IV01": (CallLimit(1, DAY),),
    # SBC11: "Once per day and as many times as there are billing cycle pages returned".
    "SBC11": (CallLimit(1, DAY),),
    # TL02: recommended 20 per day, "max 20/min and 60/hour" (Mirakl seller-payment docs, mirakl.md §7.2).
    "TL02": (CallLimit(20, MINUTE), CallLimit(60, HOUR)),
}

# Operations whose maximum counts a read once however many pages it returns ("as many times as there are ...
# pages returned"). For every other budgeted operation the specs are silent about pages, so each page counts.
PAGES_FREE = frozenset({"IV01", "SBC11"})


def is_continuation(operation: str, params: Mapping[str, Any] | None) -> bool:
    """Whether this call fetches a further page of a read whose first page already counted.

    Offset pages carry `offset` > 0, seek pages a `page_token` (mirakl.md §2.1).
    """
    if operation not in PAGES_FREE or not params:
        return False
    return bool(params.get("page_token")) or bool(params.get("offset"))
