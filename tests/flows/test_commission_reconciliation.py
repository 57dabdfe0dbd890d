"""The reconciliation flow against the sandbox: gaps found and exported, reruns replace, missing data fails the gate."""

from __future__ import annotations

import csv
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from bridge.config import BridgeConfig, load_config
from bridge.runtime import Runtime, use_runtime
from connectors.state import get_reconciliation_run, reconciliation_lines, upsert_order_lines
from flows.commission_reconciliation import commission_reconciliation, resolve_period
from sandbox.app import Sandbox
from tests.handbook import handbook_columns

DAY = date(2026, 11, 1)  # the sandbox's seeded orders are all created that day
KEY = {"Authorization": "sandbox-mirakl-key"}


@pytest.fixture
def bridge_config(tmp_path: Path) -> BridgeConfig:
    config = load_config()
    section = config.reconciliation.model_copy(update={"export_dir": tmp_path / "exports"})
    return config.model_copy(update={"reconciliation": section})


@pytest.fixture
async def mirakl(sandbox: Sandbox) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=sandbox.app)
    async with httpx.AsyncClient(transport=transport, base_url=sandbox.mirakl_url, headers=KEY) as client:
        yield client


async def plant_period(runtime: Runtime, mirakl: httpx.AsyncClient) -> dict[str, str]:
    """Map order 102's marketplace line to Mirakl and book it correctly; plant an amount gap and a stray line."""
    planted = {}
    mappings, lines = [], []
    for bc_order_id, shop_id, skew in ((102, 2002, Decimal("0")), (100, 2000, Decimal("2.50"))):
        products = await runtime.bigcommerce.list_order_products(bc_order_id)
        product = next(p for p in products if (p.sku or "").startswith("MKP"))
        line_id = f"C{bc_order_id}-A-1"
        planted[str(bc_order_id)] = line_id
        mappings.append(
            {
                "bc_order_id": bc_order_id,
                "bc_order_product_id": product.id,
                "mirakl_order_id": f"C{bc_order_id}-A",
                "mirakl_order_line_id": line_id,
                "shop_id": shop_id,
                "quantity": product.quantity,
            }
        )
        amount = product.total_ex_tax + skew
        rate = runtime.config.reconciliation.commission_rates[shop_id]
        fee = (amount * rate).quantize(Decimal("0.01"))
        booked = {
            "ORDER_AMOUNT": amount,
            "ORDER_AMOUNT_TAX": product.total_inc_tax - product.total_ex_tax,
            "COMMISSION_FEE": -fee,
            "COMMISSION_VAT": -(fee * Decimal("0.2")).quantize(Decimal("0.01")),
        }
        for type_, value in booked.items():
            lines.append(_line(type_, value, shop_id, f"C{bc_order_id}-A", line_id))
    lines.append(_line("ORDER_AMOUNT", Decimal("40.00"), 2001, "C999-A", "C999-A-1"))  # unknown to BigCommerce
    response = await mirakl.post("/_sandbox/finance/transactions", json={"lines": lines})
    assert response.status_code == 201
    with runtime.sessions() as session:
        upsert_order_lines(session, mappings)
        session.commit()
    return planted


def _line(type_: str, amount: Decimal, shop_id: int, order_id: str, line_id: str) -> dict[str, object]:
    return {
        "type": type_,
        "amount": str(amount),
        "shop_id": shop_id,
        "order_id": order_id,
        "order_line_id": line_id,
        "date_created": "2026-11-01T12:00:00Z",
    }


async def test_period_gaps_are_classified_exported_and_stored(
    runtime: Runtime, mirakl: httpx.AsyncClient, tmp_path: Path
) -> None:
    planted = await plant_period(runtime, mirakl)
    with use_runtime(runtime):
        report = await commission_reconciliation(start=DAY, end=DAY)

    assert report.counts["gate"] == "passed"
    assert report.counts["balanced"] == "NO"  # every gap is listed, but a listed gap is not a balance
    assert report.counts["class_amount_mismatch"] == 1
    assert report.counts["class_missing_in_bigcommerce"] >= 1
    exceptions = {(row["line_key"], row["field"]): row for row in report.tables["exceptions"]}
    assert exceptions[(planted["100"], "amount")]["class"] == "amount_mismatch"
    assert exceptions[(planted["100"], "amount")]["delta"] == Decimal("-2.50")
    assert exceptions[("C999-A-1", "amount")]["class"] == "missing_in_bigcommerce"
    assert not any(key[0] == planted["102"] for key in exceptions)

    export = tmp_path / "exports" / "reconciliation-daily-2026-11-01-2026-11-01-r1-lines.csv"
    rows = {row["line_key"]: row for row in csv.DictReader(export.open())}
    assert rows[planted["102"]]["status"] == "matched"
    assert rows[planted["100"]]["status"] == "amount_mismatch"
    summary = (runtime.artifacts_dir / "commission-reconciliation-summary.md").read_text()
    assert "| lines classed amount_mismatch | 1 | lines |" in summary and "@" not in summary


async def test_rerun_of_the_same_period_replaces_the_run_with_an_identical_result(
    runtime: Runtime, mirakl: httpx.AsyncClient, tmp_path: Path
) -> None:
    await plant_period(runtime, mirakl)
    with use_runtime(runtime):
        first = await commission_reconciliation(start=DAY, end=DAY)
        second = await commission_reconciliation(start=DAY, end=DAY)

    assert first.tables["exceptions"] == second.tables["exceptions"]
    exports = tmp_path / "exports" / "reconciliation-daily-2026-11-01-2026-11-01-r{}-exceptions.csv"
    assert Path(str(exports).format(2)).read_text() == Path(str(exports).format(1)).read_text()
    start, end, _ = resolve_period(DAY, DAY)
    with runtime.sessions() as session:
        run = get_reconciliation_run(session, "daily", start, end)
        assert run is not None and run.revision == 2 and run.status == "reconciled"
        stored = reconciliation_lines(session, run.id)
    assert len(stored) == first.counts["order_lines"]
    assert sorted(line.status for line in stored).count("matched") == first.counts["matched_lines"]


async def test_missing_mirakl_day_fails_the_gate_and_classifies_nothing(
    runtime: Runtime, mirakl: httpx.AsyncClient, tmp_path: Path
) -> None:
    await plant_period(runtime, mirakl)
    fault = {"path": "/api/sellerpayment/transactions_logs", "error_rate": 1.0, "status": 400, "times": 1}
    assert (await mirakl.post("/_sandbox/faults", json=fault)).status_code == 204
    with use_runtime(runtime):
        state = await commission_reconciliation(start=DAY, end=DAY, return_state=True)

    assert state.is_failed()
    summary = (runtime.artifacts_dir / "commission-reconciliation-summary.md").read_text()
    assert summary.startswith("FAILED: commission_reconciliation stopped at a data-quality gate")
    assert "| input gate (passed: every input complete and well-formed) | failed |  |" in summary
    assert "| days whose Mirakl read failed | 1 | days |" in summary
    assert "incomplete day" in summary
    assert not (runtime.artifacts_dir / "commission-reconciliation-exceptions.json").exists()
    assert not (tmp_path / "exports").exists()
    start, end, _ = resolve_period(DAY, DAY)
    with runtime.sessions() as session:
        run = get_reconciliation_run(session, "daily", start, end)
        assert run is not None and run.status == "gate_failed"
        assert reconciliation_lines(session, run.id) == []
    assert json.dumps(run.summary)  # the stored summary holds the gate's reasons, no classes
    assert "classes" not in run.summary


async def test_a_cycle_s_invoice_shows_subscription_fees_apart_from_commission_and_balances(
    runtime: Runtime, mirakl: httpx.AsyncClient
) -> None:
    await plant_period(runtime, mirakl)
    fee = {**_line("SUBSCRIPTION_FEE", Decimal("-30.00"), 2002, "", ""), "order_id": None, "order_line_id": None}
    assert (await mirakl.post("/_sandbox/finance/transactions", json={"lines": [fee]})).status_code == 201
    with use_runtime(runtime):
        # The sandbox issues its AUTO_INVOICE today: the cycle runs from the seeded day to today.
        report = await commission_reconciliation(start=DAY, end=datetime.now(UTC).date(), scope="cycle")

    invoices = {row["shop_id"]: row for row in report.tables["invoices"]}
    shop = invoices[2002]
    assert shop["subscription"] == Decimal("30.00") and shop["fees"] == Decimal("30.00")
    assert shop["invoiced"] == shop["commission"] + shop["fees"] and shop["delta"] == 0
    assert not [row for row in report.tables["exceptions"] if row["field"] == "invoice"]
    assert report.counts["invoiced_fees"] == "30.00"


async def test_finance_files_go_to_a_remote_url_with_the_revision_in_their_name_and_a_link_each(
    runtime: Runtime, mirakl: httpx.AsyncClient
) -> None:
    import fsspec
    from prefect import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterFlowRunId, ArtifactFilterKey

    await plant_period(runtime, mirakl)
    section = runtime.config.reconciliation.model_copy(update={"export_dir": "memory://finance/recon"})
    runtime.config = runtime.config.model_copy(update={"reconciliation": section})
    with use_runtime(runtime):
        await commission_reconciliation(start=DAY, end=DAY)
        state = await commission_reconciliation(start=DAY, end=DAY, return_state=True)

    memory = fsspec.filesystem("memory")
    stem = "memory://finance/recon/reconciliation-daily-2026-11-01-2026-11-01"
    assert memory.exists(f"{stem}-r1-lines.csv") and memory.exists(f"{stem}-r2-exceptions.csv")
    assert not memory.glob("/finance/recon/*.partial")
    rows = list(csv.DictReader(memory.open(f"{stem}-r2-exceptions.csv", "r").read().splitlines()))
    assert any(row["class"] == "amount_mismatch" for row in rows)
    async with get_client() as client:
        links = await client.read_artifacts(
            artifact_filter=ArtifactFilter(
                flow_run_id=ArtifactFilterFlowRunId(any_=[state.state_details.flow_run_id]),
                key=ArtifactFilterKey(like_="-csv"),
            )
        )
    assert {link.key for link in links} == {
        "commission-reconciliation-lines-csv",
        "commission-reconciliation-exceptions-csv",
    }
    # Markdown links to the second revision's files.
    assert all(
        "](memory:///finance/recon/reconciliation-daily-2026-11-01-2026-11-01-r2-" in link.data for link in links
    )


async def test_every_per_seller_table_names_the_seller_and_has_the_columns_the_handbook_lists(
    runtime: Runtime, mirakl: httpx.AsyncClient
) -> None:
    await plant_period(runtime, mirakl)
    with use_runtime(runtime):
        report = await commission_reconciliation(start=DAY, end=datetime.now(UTC).date(), scope="cycle")

    for name in ("sellers", "cycles", "invoices"):
        rows, key = report.tables[name], f"commission-reconciliation-{name}"
        assert rows and list(rows[0]) == handbook_columns(key), (key, list(rows[0]) if rows else None)
        seeded = [row for row in rows if row["shop_id"] in (2000, 2002)]  # the shops S20 knows by name
        assert seeded and all(row["seller"] and row["seller"] != str(row["shop_id"]) for row in seeded), key


async def test_a_period_spilled_line_by_line_and_reconciled_in_many_slices_gives_the_same_answer(
    runtime: Runtime, mirakl: httpx.AsyncClient, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import flows.commission_reconciliation as flow_module
    import tasks.reconciliation.fetch as fetch_module

    await plant_period(runtime, mirakl)
    with use_runtime(runtime):
        whole = await commission_reconciliation(start=DAY, end=DAY)
        monkeypatch.setattr(fetch_module, "SPILL_ROWS", 1)  # every TL02 line spilled on its own
        monkeypatch.setattr(flow_module, "SLICE_LINES", 1)  # every non-empty hash partition its own slice
        sliced = await commission_reconciliation(start=DAY, end=DAY)

    for name in ("exceptions", "sellers", "totals"):
        assert sliced.tables[name] == whole.tables[name], name
    assert {k: v for k, v in sliced.counts.items() if k != "revision"} == {
        k: v for k, v in whole.counts.items() if k != "revision"
    }
    exports = tmp_path / "exports" / "reconciliation-daily-2026-11-01-2026-11-01-r{}-lines.csv"
    rows = [sorted(Path(str(exports).format(n)).read_text().splitlines()) for n in (1, 2)]
    assert rows[0] == rows[1] and len(rows[0]) == whole.counts["order_lines"] + 1


async def test_seller_names_mirakl_cannot_give_leave_shop_ids_and_the_period_reconciled(
    runtime: Runtime, mirakl: httpx.AsyncClient
) -> None:
    await plant_period(runtime, mirakl)
    fault = {"path": "/api/shops", "error_rate": 1.0, "status": 400, "times": 10}
    assert (await mirakl.post("/_sandbox/faults", json=fault)).status_code == 204
    with use_runtime(runtime):
        report = await commission_reconciliation(start=DAY, end=DAY)

    assert report.counts["gate"] == "passed" and report.counts["class_amount_mismatch"] == 1
    assert report.tables["sellers"] and all(row["seller"] == "" for row in report.tables["sellers"])
    assert any(note.startswith("seller names unavailable (S20:") for note in report.notes)
