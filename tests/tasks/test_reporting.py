"""Run reports: stable artifact keys, local copies, and no customer contact data ever written."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from tasks.reporting import RunReport, artifact_key, publish_report, redact


def test_artifact_keys_are_lowercase_dashed() -> None:
    assert artifact_key("order_routing-Quarantined Rows") == "order-routing-quarantined-rows"


def test_email_addresses_are_masked() -> None:
    assert redact("order 100 by jane.doe@example.com") == "order 100 by [redacted]"


async def test_report_is_written_locally_with_counts_reasons_and_masked_tables(tmp_path: Path) -> None:
    report = RunReport(stream="order_routing", title="Order routing")
    report.add("orders_read", 3)
    report.add("orders_read")
    report.quarantined["unknown SKU"] += 2
    report.tables["quarantined"] = [{"order_id": 100, "amount": Decimal("9.50"), "note": "x@example.com"}]
    paths = await publish_report(report, tmp_path, in_prefect=False)
    summary = paths["order-routing-summary"].read_text()
    assert "| orders_read | 4 |" in summary
    assert "| unknown SKU | 2 |" in summary
    rows = json.loads(paths["order-routing-quarantined"].read_text())
    assert rows == [{"order_id": 100, "amount": "9.50", "note": "[redacted]"}]
