"""Commission reconciliation: Mirakl's money movements against BigCommerce's orders and refunds, classified.

`reconcile` is the pure core; `fetch` reads a period page by page; `record` stores, exports and reports.
"""

from __future__ import annotations
