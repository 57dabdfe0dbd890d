"""What a reconciliation run leaves behind: the gate's verdict, the run and its lines in the state store, the
finance CSV export, and the report's tables.

A run is stored per (scope, period) and replaced on rerun (its `revision` goes up), so the store holds one
answer per period and a retry from the UI never adds a second one.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from bridge.config import ReconciliationConfig
from bridge.runtime import Runtime
from bridge.streams import Stream
from connectors.money import from_minor
from connectors.state import replace_reconciliation_run
from expectations import GateResult
from tasks.quality import gate_and_quarantine
from tasks.reconciliation.export import write_csv_export
from tasks.reconciliation.fetch import PeriodRead
from tasks.reconciliation.frames import gate_frame
from tasks.reconciliation.money import rate_table
from tasks.reconciliation.partitions import GATE_COLUMNS, PartitionStore
from tasks.reconciliation.reconcile import INVOICED_FEES, Reconciliation, Terms, reconcile_partitions
from tasks.reporting import Tally, artifact_key, emit_alert

__all__ = [
    "GateCheck",
    "check_inputs",
    "gate_frames",
    "period_terms",
    "publish_reconciliation",
    "publish_tally",
    "reconcile_period",
    "record_gate_failure",
    "record_run",
    "report_tables",
    "summary_of",
]

_STORED_AMOUNTS = ("bc_amount", "mk_amount", "bc_tax", "mk_tax", "mk_commission", "bc_refund", "mk_refund")
_INVOICE_AMOUNTS = ["commission", *INVOICED_FEES.values(), "fees", "booked", "invoiced", "delta"]
_SUITE = "reconciliation"
STREAM = Stream.COMMISSION_RECONCILIATION
_GATE_TARGET: dict[str, Any] = {"stream": STREAM, "key_column": "transaction_id", "alert": False}


@dataclass
class GateCheck:
    """The gate's answers over the period (one for its days, orders, cycles and invoices, one per TL02 slice)."""

    results: list[GateResult]
    tally: Tally

    @property
    def tripped(self) -> bool:
        return any(result.tripped for result in self.results)

    def raise_if_tripped(self) -> None:
        """Fail the run as the first tripped answer says; call it once the gate's failure is recorded."""
        for result in self.results:
            result.raise_if_tripped()


@task(cache_policy=NO_CACHE)
async def check_inputs(rt: Runtime, store: PartitionStore, read: PeriodRead) -> GateCheck:
    """The `reconciliation` suite over every input record; failed rows are quarantined with their reason.

    The period's days, BigCommerce orders, cycles and invoices are gated as one frame and its TL02 lines slice by
    slice: every copy of a transaction id is in one slice, so a duplicate across days is still found. Finance
    hears of a trip once, whichever slices tripped.
    """
    tally = Tally()
    results = []
    for gated in gate_frames(store, read, rt.config.currency):
        results.append(await gate_and_quarantine(rt.sessions, gated, suite=_SUITE, **_GATE_TARGET, report=tally))
    check = GateCheck(results, tally)
    if check.tripped:
        failed = sum(len(result.failed) for result in results)
        total = failed + sum(len(result.passed) for result in results)
        payload = {"suite": _SUITE, "failed_rows": failed, "total_rows": total}
        emit_alert(tally, "bcmirakl.gate.circuit-breaker", f"bcmirakl.stream.{STREAM}", payload)
        tally.counts["gate"] = "failed"
        tally.notes += [f"day {d.day} incomplete: TL02 read failed ({d.error})" for d in read.days if not d.complete]
        tally.notes.append("inputs failed the reconciliation gate: no gap was classified for this period")
    return check


def gate_frames(store: PartitionStore, read: PeriodRead, currency: str) -> Iterator[pd.DataFrame]:
    """The gate's frames: the period's days, orders, cycles and invoices, then its TL02 lines slice by slice."""
    no_lines = pd.DataFrame(columns=list(GATE_COLUMNS))
    yield gate_frame(read.days, no_lines, read.currencies, read.cycles, read.invoices, currency)
    for lines in store.gate_slices():
        yield gate_frame([], lines, {}, None, None, currency)


def record_gate_failure(
    rt: Runtime, period: tuple[datetime, datetime], scope: str, check: GateCheck, flow_run_id: str | None
) -> int:
    """Store the period as `gate_failed`, with the gate's reasons and no lines; returns its revision."""
    summary = {"gate": "failed", "quarantined": dict(check.tally.quarantined)}
    return record_run(rt, period, scope, None, summary, flow_run_id)


@task(cache_policy=NO_CACHE)
async def reconcile_period(store: PartitionStore, terms: Terms) -> Reconciliation:
    """Reconcile the spilled period slice by slice; each slice's lines go back to the store, not into memory."""
    return await asyncio.to_thread(reconcile_partitions, store.partitions(), terms, store.add_lines)


def period_terms(read: PeriodRead, settings: ReconciliationConfig) -> Terms:
    """What the lines are checked against: the cycle's SBC11 and IV01, and the contract rates in ppm."""
    return Terms(
        cycles=read.cycles,
        invoices=read.invoices,
        rates_ppm=rate_table(settings.commission_rates),
        default_rate_ppm=_ppm(settings.default_commission_rate),
        commission_tax_rate_ppm=_ppm(settings.commission_tax_rate),
    )


def _ppm(rate: Decimal | None) -> int | None:
    return None if rate is None else rate_table({0: rate})[0]


def publish_tally(result: Reconciliation, revision: int, seller_names: Mapping[int, str], currency: str) -> Tally:
    """The period's classes, totals and tables as the report shows them."""
    summary = summary_of(result)
    tally = Tally(counts={"gate": "passed", "order_lines": summary["lines"], "matched_lines": summary["matched_lines"]})
    tally.counts |= {f"class_{name}": count for name, count in summary["classes"].items()}
    tally.counts["balanced"] = "yes" if result.balanced else "NO"
    unexplained = int(result.totals["unexplained"].abs().sum())  # minor units; the trend charts it per day
    tally.counts["unexplained_amount"] = str(from_minor(unexplained, currency))
    for name in ("commission", "fees"):
        if name in summary["invoiced"]:
            tally.counts[f"invoiced_{name}"] = str(from_minor(summary["invoiced"][name], currency))
    tally.counts["revision"] = revision
    tally.tables = report_tables(result, currency, seller_names)
    return tally


@task(cache_policy=NO_CACHE)
def record_run(
    rt: Runtime,
    period: tuple[datetime, datetime],
    scope: str,
    lines: Iterable[pd.DataFrame] | None,
    summary: dict[str, Any],
    flow_run_id: str | None,
) -> int:
    """Store (or replace) the period's run with its lines, slice by slice (`None`: a gate failure, stored with no
    lines). Returns its revision."""
    stored = (row for part in lines or () for row in _stored_lines(part, rt.config.currency))
    with rt.sessions() as session:
        run = replace_reconciliation_run(
            session,
            scope=scope,
            period_start=period[0],
            period_end=period[1],
            status="reconciled" if lines is not None else "gate_failed",
            summary=summary,
            lines=stored,
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
async def publish_reconciliation(
    rt: Runtime, store: PartitionStore, result: Reconciliation, read: PeriodRead, revision: int, label: str
) -> Tally:
    """The report's classes, totals and tables, the finance CSVs with a link artifact each, and the gaps alert."""
    tally = publish_tally(result, revision, read.seller_names, rt.config.currency)
    tally.notes += [f"finance export: {url}" for url in await _export_for_finance(rt, store, result, label, revision)]
    gaps = sum(count for name, count in result.class_counts().items() if name != "rounding")
    if gaps or not result.balanced:  # finance hears of any gap other than rounding, and of unbalanced totals
        emit_alert(tally, "bcmirakl.reconciliation.gaps", f"bcmirakl.stream.{STREAM}", {"gaps": gaps, "label": label})
    return tally


async def _export_for_finance(
    rt: Runtime, store: PartitionStore, result: Reconciliation, label: str, revision: int
) -> list[str]:
    """Write the period's CSVs (revision in the name) and publish a link artifact to each; returns their URLs."""
    from prefect.artifacts import acreate_link_artifact

    location, currency = rt.config.reconciliation.export_dir, rt.config.currency
    urls = write_csv_export(store.lines(), result.exceptions, location, label, currency, revision)
    for kind, url in urls.items():
        await acreate_link_artifact(
            url,
            link_text=url.rsplit("/", 1)[-1],
            key=artifact_key(f"{STREAM}-{kind}-csv"),
            description=_EXPORT_DESCRIPTIONS[kind],
        )
    return list(urls.values())


_SELLER_AMOUNTS = ["bc_amount", "mk_amount", "mk_commission", "bc_refund", "mk_refund"]
_CYCLE_AMOUNTS = ["orders", "commissions", "refunds", "refunded_commissions", "adjustments"]
_CYCLE_AMOUNTS += ["expected_payout", "sbc11_payout", "delta"]


def report_tables(
    result: Reconciliation, currency: str, seller_names: Mapping[int, str] | None = None
) -> dict[str, list[dict[str, Any]]]:
    """Artifact tables in decimal amounts (rows without a currency are in the store's `currency`); every
    per-seller table names the seller (S20's shop name) beside its shop id."""
    names = seller_names or {}
    tables = {
        "sellers": _decimal_rows(
            _named(result.sellers, names),
            ["bc_amount", "mk_amount", "mk_commission", "bc_refund", "mk_refund"],
            currency,
        ),
        "cycles": _decimal_rows(
            _named(result.cycles, names), [c for c in _CYCLE_AMOUNTS if c in result.cycles.columns], currency
        ),
        "totals": _decimal_rows(
            result.totals.assign(currency=_currency_of(result)),
            ["left_total", "right_total", "difference", "explained", "unexplained"],
            currency,
        ),
        "exceptions": _decimal_rows(result.exceptions, ["left", "right", "delta"], currency),
    }
    if len(result.invoices):
        tables["invoices"] = _decimal_rows(_named(result.invoices, names), _INVOICE_AMOUNTS, currency)
    return tables


def summary_of(result: Reconciliation) -> dict[str, Any]:
    totals = result.totals.set_index("field")
    return {
        "balanced": result.balanced,
        # Every line is counted in one seller row, so the sellers table holds the period's line counts even when
        # the lines themselves were spilled slice by slice.
        "lines": int(result.sellers["lines"].sum()),
        "matched_lines": int(result.sellers["matched_lines"].sum()),
        "classes": result.class_counts(),
        "differences": {field: int(value) for field, value in totals["difference"].items()},
        # IV01 totals split by what they bill, in minor units: fees are never counted as commission.
        "invoiced": {name: int(result.invoices[name].sum()) for name in ("commission", "fees", "invoiced")}
        if len(result.invoices)
        else {},
    }


def _named(table: pd.DataFrame, names: Mapping[int, str]) -> pd.DataFrame:
    """`table` with a `seller` column after `shop_id`: the shop's name, empty when S20 does not know it."""
    named = table.copy()
    shops = named["shop_id"] if "shop_id" in named.columns else pd.Series(dtype="Int64")
    seller = [names.get(int(shop), "") if not _missing(shop) else "" for shop in shops]
    named.insert(list(named.columns).index("shop_id") + 1 if "shop_id" in named.columns else 0, "seller", seller)
    return named


def _currency_of(result: Reconciliation) -> str:
    currencies = result.sellers["currency"].dropna().unique()
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
