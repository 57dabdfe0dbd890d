"""What a reconciliation run leaves behind: the gate's verdict, the run and its lines in the state store, the
finance CSV export, and the report's tables.

A run is stored per (scope, period) and replaced on rerun (its `revision` goes up), so the store holds one
answer per period and a retry from the UI never adds a second one.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from bridge.runtime import Runtime
from bridge.streams import Stream
from connectors.money import from_minor
from connectors.state import replace_reconciliation_run
from expectations import GateResult
from tasks.quality import gate_and_quarantine
from tasks.reconciliation.export import write_csv_export
from tasks.reconciliation.frames import DayFetch
from tasks.reconciliation.reconcile import INVOICED_FEES, Reconciliation
from tasks.reporting import RunReport, artifact_key, emit_alert

__all__ = [
    "alert_on_gaps",
    "check_inputs",
    "export_for_finance",
    "record_run",
    "report_gate_failure",
    "report_reconciliation",
    "report_tables",
    "summary_of",
]

_STORED_AMOUNTS = ("bc_amount", "mk_amount", "bc_tax", "mk_tax", "mk_commission", "bc_refund", "mk_refund")
_INVOICE_AMOUNTS = ["commission", *INVOICED_FEES.values(), "fees", "booked", "invoiced", "delta"]


@task(cache_policy=NO_CACHE)
async def check_inputs(rt: Runtime, gate: pd.DataFrame, report: RunReport) -> GateResult:
    """The `reconciliation` suite over every input record; failed rows are quarantined with their reason."""
    return await gate_and_quarantine(
        rt.sessions,
        gate,
        suite="reconciliation",
        stream=Stream.COMMISSION_RECONCILIATION,
        key_column="transaction_id",
        report=report,
    )


def report_gate_failure(report: RunReport, fetched: Sequence[DayFetch]) -> None:
    """What the report says when the inputs failed the gate: which days could not be read, and no gap at all."""
    report.counts["gate"] = "failed"
    report.notes += [f"day {d.day} incomplete: TL02 read failed ({d.error})" for d in fetched if not d.complete]
    report.notes.append("inputs failed the reconciliation gate: no gap was classified for this period")


def report_reconciliation(report: RunReport, result: Reconciliation, currency: str) -> dict[str, Any]:
    """Put the period's classes, totals and tables in the report; returns the summary the store keeps."""
    summary = summary_of(result)
    report.counts |= {"gate": "passed", "order_lines": summary["lines"], "matched_lines": summary["matched_lines"]}
    report.counts |= {f"class_{name}": count for name, count in summary["classes"].items()}
    report.counts["balanced"] = "yes" if result.balanced else "NO"
    unexplained = int(result.totals["unexplained"].abs().sum())  # minor units; the trend charts it per day
    report.counts["unexplained_amount"] = str(from_minor(unexplained, currency))
    for name in ("commission", "fees"):
        if name in summary["invoiced"]:
            report.counts[f"invoiced_{name}"] = str(from_minor(summary["invoiced"][name], currency))
    report.tables = report_tables(result, currency)
    return summary


def alert_on_gaps(report: RunReport, result: Reconciliation, summary: dict[str, Any], label: str) -> None:
    """Finance hears of any gap other than rounding, and of totals that do not balance."""
    gaps = sum(count for name, count in summary["classes"].items() if name != "rounding")
    if gaps or not result.balanced:
        emit_alert(
            report,
            "bcmirakl.reconciliation.gaps",
            f"bcmirakl.stream.{Stream.COMMISSION_RECONCILIATION}",
            {"gaps": gaps, "label": label},
        )


@task(cache_policy=NO_CACHE)
def record_run(
    rt: Runtime,
    period: tuple[datetime, datetime],
    scope: str,
    result: Reconciliation | None,
    summary: dict[str, Any],
    flow_run_id: str | None,
) -> int:
    """Store (or replace) the period's run; a gate failure stores the run with no lines. Returns its revision."""
    lines = _stored_lines(result.lines, rt.config.currency) if result is not None else []
    with rt.sessions() as session:
        run = replace_reconciliation_run(
            session,
            scope=scope,
            period_start=period[0],
            period_end=period[1],
            status="reconciled" if result is not None else "gate_failed",
            summary=summary,
            lines=lines,
            flow_run_id=flow_run_id,
        )
        revision = run.revision
        session.commit()
    return revision


# What each file is for, as the link artifact's description: the Artifacts tab is where finance finds them.
_EXPORT_DESCRIPTIONS = {
    "lines": "Every order line of the period with both systems' amounts and its status (matched or a gap class).",
    "exceptions": "Every gap to work, one row per line and field: fix the side that is wrong, then rerun the period. "
    "The first 500 are also the run's `commission-reconciliation-exceptions` table.",
}


@task(cache_policy=NO_CACHE)
async def export_for_finance(rt: Runtime, result: Reconciliation, label: str, revision: int) -> list[str]:
    """Write the period's CSVs (revision in the name) and publish a link artifact to each; returns their URLs."""
    from prefect.artifacts import acreate_link_artifact

    urls = write_csv_export(result, rt.config.reconciliation.export_dir, label, rt.config.currency, revision)
    for kind, url in urls.items():
        await acreate_link_artifact(
            url,
            link_text=url.rsplit("/", 1)[-1],
            key=artifact_key(f"{Stream.COMMISSION_RECONCILIATION}-{kind}-csv"),
            description=_EXPORT_DESCRIPTIONS[kind],
        )
    return list(urls.values())


def report_tables(result: Reconciliation, currency: str) -> dict[str, list[dict[str, Any]]]:
    """Artifact tables in decimal amounts (rows without a currency are in the store's `currency`)."""
    return {
        "sellers": _decimal_rows(
            result.sellers, ["bc_amount", "mk_amount", "mk_commission", "bc_refund", "mk_refund"], currency
        ),
        "cycles": _decimal_rows(
            result.cycles,
            [
                c
                for c in (
                    "orders",
                    "commissions",
                    "refunds",
                    "refunded_commissions",
                    "adjustments",
                    "expected_payout",
                    "sbc11_payout",
                    "delta",
                )
                if c in result.cycles.columns
            ],
            currency,
        ),
        "totals": _decimal_rows(
            result.totals.assign(currency=_currency_of(result)),
            ["left_total", "right_total", "difference", "explained", "unexplained"],
            currency,
        ),
        "exceptions": _decimal_rows(result.exceptions, ["left", "right", "delta"], currency),
    } | ({"invoices": _decimal_rows(result.invoices, _INVOICE_AMOUNTS, currency)} if len(result.invoices) else {})


def summary_of(result: Reconciliation) -> dict[str, Any]:
    totals = result.totals.set_index("field")
    return {
        "balanced": result.balanced,
        "lines": len(result.lines),
        "matched_lines": int((result.lines["status"] == "matched").sum()),
        "classes": result.class_counts(),
        "differences": {field: int(value) for field, value in totals["difference"].items()},
        # IV01 totals split by what they bill, in minor units: fees are never counted as commission.
        "invoiced": {name: int(result.invoices[name].sum()) for name in ("commission", "fees", "invoiced")}
        if len(result.invoices)
        else {},
    }


def _currency_of(result: Reconciliation) -> str:
    currencies = result.lines["currency"].dropna().unique()
    return str(currencies[0]) if len(currencies) == 1 else ""


def _decimal_rows(frame: pd.DataFrame, amounts: list[str], store_currency: str) -> list[dict[str, Any]]:
    rows = []
    for record in frame.to_dict("records"):
        currency = str(record.get("currency") or store_currency)
        row = {k: (None if _missing(v) else v) for k, v in record.items()}
        for name in amounts:
            if row.get(name) is not None:
                row[name] = from_minor(int(row[name]), currency)
        rows.append(row)
    return rows


def _stored_lines(lines: pd.DataFrame, store_currency: str) -> list[dict[str, Any]]:
    rows = []
    for record in lines.to_dict("records"):
        currency = str(record.get("currency") or store_currency)
        row = {
            "line_key": record["line_key"],
            "status": record["status"],
            "shop_id": _int_or_none(record["shop_id"]),
            "currency": None if _missing(record["currency"]) else record["currency"],
            "bc_order_id": _int_or_none(record["bc_order_id"]),
            "bc_order_product_id": _int_or_none(record["bc_order_product_id"]),
            "mirakl_order_id": None if _missing(record["mirakl_order_id"]) else record["mirakl_order_id"],
            "order_line_id": None if _missing(record["order_line_id"]) else record["order_line_id"],
            "expected_commission": None
            if _missing(record["expected_commission"])
            else from_minor(int(record["expected_commission"]), currency),
        }
        row |= {name: from_minor(int(record[name]), currency) for name in _STORED_AMOUNTS}
        rows.append(row)
    return rows


def _missing(value: Any) -> bool:
    return value is None or (not isinstance(value, str) and bool(pd.isna(value)))


def _int_or_none(value: Any) -> int | None:
    return None if _missing(value) else int(value)
