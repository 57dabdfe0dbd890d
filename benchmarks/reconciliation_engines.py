"""The engine comparison behind `tasks.reconciliation` (#15 §4): the per-line core in DuckDB and in Polars.

Not the bridge's code: a measurement that chose it. Each engine reads the same synthetic pages as
`benchmarks.reconciliation`, pivots TL02 per order line, joins the BigCommerce lines and their refunds, compares
amount, tax, refund and commission (contract rate, half-up, in integer minor units), counts the differences per
field, totals both sides and writes the line table to CSV. That is the heavy part of `reconcile`; the
classification, cycles, invoices and sellers are not reproduced here, so the figures are a lower bound for a
full port. DuckDB and Polars are not dependencies of the bridge: `pip install duckdb polars` to rerun.

    python -m benchmarks.reconciliation_engines --engine duckdb --lines 10000000 --json PATH
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd

from benchmarks.reconciliation import RATES_PPM, PhaseClock, publish, synthetic_pages
from tasks.reconciliation.reconcile import Partition

__all__ = ["main"]

_CORE_SQL = """
WITH mk AS (
    SELECT order_line_id AS line_key, any_value(shop_id) AS mk_shop,
        sum(CASE WHEN type = 'ORDER_AMOUNT' THEN amount ELSE 0 END) AS mk_amount,
        sum(CASE WHEN type = 'ORDER_AMOUNT_TAX' THEN amount ELSE 0 END) AS mk_tax,
        sum(CASE WHEN type = 'ORDER_SHIPPING_AMOUNT' THEN amount ELSE 0 END) AS mk_shipping,
        -sum(CASE WHEN type = 'COMMISSION_FEE' THEN amount ELSE 0 END) AS mk_commission,
        -sum(CASE WHEN type LIKE 'REFUND_ORDER_AMOUNT%' THEN amount ELSE 0 END) AS mk_refund
    FROM tx WHERE order_line_id IS NOT NULL GROUP BY order_line_id
), refunded AS (
    SELECT bc_order_id, bc_order_product_id, sum(amount) AS bc_refund FROM refunds GROUP BY ALL
), lines AS (
    SELECT coalesce(b.order_line_id, m.line_key) AS line_key, coalesce(b.shop_id, m.mk_shop) AS shop_id,
        b.bc_order_id, coalesce(b.bc_amount, 0) AS bc_amount, coalesce(b.bc_tax, 0) AS bc_tax,
        coalesce(r.bc_refund, 0) AS bc_refund, coalesce(m.mk_amount, 0) AS mk_amount,
        coalesce(m.mk_tax, 0) AS mk_tax, coalesce(m.mk_shipping, 0) AS mk_shipping,
        coalesce(m.mk_commission, 0) AS mk_commission, coalesce(m.mk_refund, 0) AS mk_refund
    FROM bc b LEFT JOIN refunded r USING (bc_order_id, bc_order_product_id)
    FULL OUTER JOIN mk m ON b.order_line_id = m.line_key
)
SELECT l.*, sign(mk_amount + mk_shipping)
    * ((abs(mk_amount + mk_shipping) * rates.rate_ppm + 500000) // 1000000) AS expected_commission
FROM lines l LEFT JOIN rates USING (shop_id)
"""
_FIELDS = {
    "amount": ("bc_amount", "mk_amount"),
    "tax": ("bc_tax", "mk_tax"),
    "refund": ("bc_refund", "mk_refund"),
    "commission": ("mk_commission", "expected_commission"),
}


def _duckdb(pages: Iterator[Partition], folder: Path) -> dict[str, Any]:
    import duckdb

    db = duckdb.connect(str(folder / "period.duckdb"))
    db.execute(f"SET memory_limit = '1GB'; SET threads = 2; SET temp_directory = '{folder / 'spill'}'")
    db.register("contract", pd.DataFrame({"shop_id": list(RATES_PPM), "rate_ppm": list(RATES_PPM.values())}))
    db.execute("CREATE TABLE rates AS SELECT * FROM contract")
    for number, page in enumerate(pages):
        frames = {"tx": page.transactions, "bc": page.bc_lines, "refunds": page.bc_refunds}
        for name, frame in frames.items():
            db.register("page", frame)
            verb = f"CREATE TABLE {name} AS" if number == 0 else f"INSERT INTO {name}"
            db.execute(f"{verb} SELECT * FROM page")
            db.unregister("page")
    db.execute(f"CREATE TABLE result AS {_CORE_SQL}")
    figures = {
        field: db.execute(
            f"SELECT count(*) FILTER (WHERE {left} <> {right}), sum({left}), sum({right}) FROM result"
        ).fetchone()
        for field, (left, right) in _FIELDS.items()
    }
    db.execute(f"COPY result TO '{folder / 'lines.csv'}' (HEADER)")
    order_lines = db.execute("SELECT count(*) FROM result").fetchone()
    return {"order_lines": order_lines[0] if order_lines else 0, "fields": figures}


def _polars(pages: Iterator[Partition], folder: Path) -> dict[str, Any]:
    import polars as pl

    held: dict[str, list[pl.DataFrame]] = {"tx": [], "bc": [], "refunds": []}
    for page in pages:
        held["tx"].append(pl.from_pandas(page.transactions).with_columns(pl.col("type").cast(pl.Categorical)))
        held["bc"].append(pl.from_pandas(page.bc_lines))
        held["refunds"].append(pl.from_pandas(page.bc_refunds))
    tx, bc, refunds = (pl.concat(frames).lazy() for frames in held.values())
    del held

    def typed(kind: str, sign: int = 1) -> pl.Expr:
        return (pl.when(pl.col("type") == kind).then(pl.col("amount")).otherwise(0) * sign).sum()

    mk = (
        tx.filter(pl.col("order_line_id").is_not_null())
        .group_by("order_line_id")
        .agg(
            pl.col("shop_id").first().alias("mk_shop"),
            typed("ORDER_AMOUNT").alias("mk_amount"),
            typed("ORDER_AMOUNT_TAX").alias("mk_tax"),
            typed("ORDER_SHIPPING_AMOUNT").alias("mk_shipping"),
            typed("COMMISSION_FEE", -1).alias("mk_commission"),
            (typed("REFUND_ORDER_AMOUNT", -1) + typed("REFUND_ORDER_AMOUNT_TAX", -1)).alias("mk_refund"),
        )
    )
    refunded = refunds.group_by("bc_order_id", "bc_order_product_id").agg(pl.col("amount").sum().alias("bc_refund"))
    rates = pl.LazyFrame({"shop_id": list(RATES_PPM), "rate_ppm": list(RATES_PPM.values())})
    base = pl.col("mk_amount") + pl.col("mk_shipping")
    expected = base.sign() * ((base.abs() * pl.col("rate_ppm") + 500_000) // 1_000_000)
    table = (
        bc.join(refunded, on=["bc_order_id", "bc_order_product_id"], how="left")
        .join(mk, left_on="order_line_id", right_on="order_line_id", how="full", coalesce=True)
        .with_columns(pl.coalesce("shop_id", "mk_shop").alias("shop_id"))
        .with_columns(pl.col(r"^(bc|mk)_(amount|tax|refund|shipping|commission)$").fill_null(0))
        .join(rates, on="shop_id", how="left")
        .with_columns(expected.alias("expected_commission"))
        .collect()
    )
    figures = {
        field: (
            int((table[left] != table[right]).sum()),
            int(table[left].sum()),
            int(table[right].sum()),
        )
        for field, (left, right) in _FIELDS.items()
    }
    table.write_csv(folder / "lines.csv")
    return {"order_lines": table.height, "fields": figures}


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engine", choices=("duckdb", "polars"), required=True)
    parser.add_argument("--lines", type=int, default=1_000_000)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    clock = PhaseClock()
    wall, cpu = time.perf_counter(), time.process_time()
    with tempfile.TemporaryDirectory() as scratch:
        pages = clock.timed("generate", synthetic_pages(args.lines))
        core = (_duckdb if args.engine == "duckdb" else _polars)(pages, Path(scratch))
    figures = {
        "engine": args.engine,
        "lines": args.lines,
        **core,
        **clock.figures(wall, cpu),
    }
    publish(figures, args.json)
    return figures


if __name__ == "__main__":
    main()
