"""Commission reconciliation: Mirakl's money movements against BigCommerce's orders and refunds, classified.

`reconcile` is the pure core; `fetch` reads a period page by page into the period's `partitions` store (a
scratch folder), so a month is gated, reconciled, stored and exported a slice at a time; `record` gates,
reconciles, stores, exports and reports.
"""

from __future__ import annotations
