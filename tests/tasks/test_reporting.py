"""Run reports: stable artifact keys, local copies, and no customer contact data ever written."""

from __future__ import annotations

import json
import logging
from decimal import Decimal
from pathlib import Path

import pytest

from tasks.reporting import RunReport, Tally, artifact_key, publish_report, redact, step_tally


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
    assert "| orders read | 4 |  |" in summary  # a name outside the catalog keeps its words
    assert "| unknown SKU | 2 |" in summary
    rows = json.loads(paths["order-routing-quarantined"].read_text())
    assert rows == [{"order_id": 100, "amount": "9.50", "note": "[redacted]"}]


async def test_the_summary_leads_with_a_verdict_then_labelled_measures_and_a_technical_block(tmp_path: Path) -> None:
    report = RunReport(stream="offer-sync", title="Offer sync (delta)", currency="EUR")
    report.counts.update({"pushed": 12, "queue_left": 0, "api_calls_bigcommerce": 7})
    report.quarantined["price above the ceiling"] += 3
    paths = await publish_report(report, tmp_path, in_prefect=False)
    lines = paths["offer-sync-summary"].read_text().splitlines()
    assert lines[0] == (
        "12 changes pushed, 3 offers quarantined — fix in Mirakl, 0 changes left queued for the next run, "
        "0 sellers failed."
    )
    technical = lines.index("## Technical")
    assert lines.index("| changes pushed to BigCommerce | 12 | changes |") < technical
    assert lines.index("| bigcommerce API calls | 7 | calls |") > technical
    # The same rows every run: a measure the run never reached reads 0.
    assert "| offers with no BigCommerce listing (mapping errors) | 0 | SKUs |" in lines


def test_a_returned_tally_is_added_once_and_told_in_one_log_line(caplog: pytest.LogCaptureFixture) -> None:
    report = RunReport(stream="order-routing", title="t")
    report.counts["orders_seen"] = 2
    tally = Tally()
    tally.add("orders_seen", 3)
    tally.add("orders_routed")
    tally.quarantined["no offer"] += 1
    caplog.set_level(logging.INFO)
    report.absorb(tally, "route_order_page")
    assert report.counts == {"orders_seen": 5, "orders_routed": 1}
    assert report.quarantined == {"no offer": 1}
    assert [r.getMessage() for r in caplog.records] == [
        "route_order_page: orders_seen=3, orders_routed=1, quarantined=1"
    ]


def test_money_amounts_add_up_across_steps_in_the_currency_s_minor_unit() -> None:
    report = RunReport(stream="refund_mirror", title="t")
    for amounts in ([Decimal("10"), Decimal("0.505")], [Decimal("4.5")]):
        tally = Tally()
        for amount in amounts:
            tally.add_money("refunded_to_mirakl_amount", amount, "EUR")
        report.absorb(tally, "send_or28")
    assert report.counts["refunded_to_mirakl_amount"] == "15.01"  # 10.51 (10.505 rounded half-up) + 4.50


def test_a_failed_step_s_tally_reaches_the_report_once_through_its_exception() -> None:
    report = RunReport(stream="refund_mirror", title="t")
    with pytest.raises(RuntimeError) as raised, step_tally() as tally:
        tally.add("refunds_to_mirakl", 2)
        raise RuntimeError("broke after two refunds")
    report.absorb_failure(raised.value)
    report.absorb_failure(raised.value)
    assert report.counts == {"refunds_to_mirakl": 2}
    assert report.writes() == {"refunds_to_mirakl": 2}
