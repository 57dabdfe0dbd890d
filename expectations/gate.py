"""The one data-quality gate every outgoing batch passes before it is pushed to an API.

Rows that break a rule are handed back with the rule and a human reason, for the quarantine table;
the rest may be pushed. When the share of failed rows crosses the suite's threshold the source itself
is probably broken (a truncated feed, a currency switch), so the circuit breaker trips and the caller
must stop the whole push rather than send the part that happened to pass.

Attribution relies on GX's COMPLETE result format, which lists every failing row of a column-map
expectation. Rules GX cannot pin to rows (row count, a column's dtype, an expectation that could not be
evaluated) fail the whole batch: when in doubt, nothing is pushed.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import pandas as pd

from common.errors import ConfigurationError, DataError
from expectations.context import VALIDATION_LOCK, frame_batch_definition
from expectations.suites.loader import SUITES_DIR, Suite, load_suite

if TYPE_CHECKING:
    from great_expectations.core import ExpectationValidationResult

__all__ = [
    "FAILED_EXPECTATION_COLUMN",
    "REASON_COLUMN",
    "CircuitBreakerTripped",
    "GateResult",
    "Verdict",
    "run_gate",
]

FAILED_EXPECTATION_COLUMN = "failed_expectation"
REASON_COLUMN = "reason"

Verdict = Literal["pass", "partial", "tripped"]


class CircuitBreakerTripped(DataError):
    """Too large a share of a batch failed its suite, so none of it may be pushed."""

    def __init__(self, suite: str, failed_rows: int, total_rows: int, threshold: float) -> None:
        self.suite = suite
        self.failed_rows = failed_rows
        self.total_rows = total_rows
        self.threshold = threshold
        super().__init__(
            f"data-quality gate {suite!r} tripped: {failed_rows}/{total_rows} rows failed"
            f" ({failed_rows / total_rows:.1%} > threshold {threshold:.1%}); push stopped"
        )


# eq=False: DataFrames have no single truth value, so field-wise equality would raise.
@dataclass(frozen=True, eq=False)
class GateResult:
    """The gate's answer for one batch; `failed` rows carry `failed_expectation` and `reason` columns."""

    suite: str
    passed: pd.DataFrame
    failed: pd.DataFrame
    failure_share: float
    threshold: float
    tripped: bool

    @property
    def verdict(self) -> Verdict:
        if self.tripped:
            return "tripped"
        return "partial" if len(self.failed) else "pass"

    def raise_if_tripped(self) -> None:
        """Stop the caller's push; call it after the failed rows have been quarantined."""
        if self.tripped:
            total = len(self.passed) + len(self.failed)
            raise CircuitBreakerTripped(self.suite, len(self.failed), total, self.threshold)


def run_gate(frame: pd.DataFrame, suite_name: str, *, suites_dir: Path = SUITES_DIR) -> GateResult:
    """Split `frame` into rows that pass suite `suite_name` and rows that fail it, with reasons.

    Raises:
        ConfigurationError: the suite is unknown or broken, the frame lacks a column the suite reads, or
            it already has a column named like the gate's output columns.
    """
    suite = load_suite(suite_name, suites_dir)
    if len(frame) == 0:
        return GateResult(suite.name, frame, _with_failures(frame, [], []), 0.0, suite.threshold, False)
    _check_columns(frame, suite)

    blame, labels, reasons = _blame_matrix(frame, suite)
    failed_mask = blame.any(axis=0)
    failed_positions = np.flatnonzero(failed_mask)
    row_labels, row_reasons = _label_rows(blame[:, failed_positions], labels, reasons)

    failure_share = len(failed_positions) / len(frame)
    return GateResult(
        suite=suite.name,
        passed=frame.iloc[~failed_mask],
        failed=_with_failures(frame.iloc[failed_positions], row_labels, row_reasons),
        failure_share=failure_share,
        threshold=suite.threshold,
        tripped=failure_share > suite.threshold,
    )


def _check_columns(frame: pd.DataFrame, suite: Suite) -> None:
    missing = sorted(suite.columns - set(frame.columns))
    if missing:
        raise ConfigurationError(f"data-quality suite {suite.name!r} needs columns the batch lacks: {missing}")
    clashing = sorted({FAILED_EXPECTATION_COLUMN, REASON_COLUMN} & set(frame.columns))
    if clashing:
        raise ConfigurationError(f"batch for suite {suite.name!r} already has the gate's output columns {clashing}")


def _blame_matrix(frame: pd.DataFrame, suite: Suite) -> tuple[np.ndarray, list[str], list[str]]:
    """One boolean row per failed expectation, True where that expectation blames a frame row."""
    # Only the columns the suite reads (GX fingerprints the whole frame), on a positional index so the
    # indexes GX reports are positions even when the caller's index is duplicated or not an integer.
    view = frame[[column for column in frame.columns if column in suite.columns]].reset_index(drop=True)
    with VALIDATION_LOCK:
        batch = frame_batch_definition().get_batch(batch_parameters={"dataframe": view})
        # COMPLETE is the cheapest level listing every failing index; the query string GX would also
        # build from that list is never read.
        outcome = batch.validate(
            suite.gx_suite, result_format={"result_format": "COMPLETE", "return_unexpected_index_query": False}
        )
    failures = sorted(
        (result for result in outcome.results if not result.success),
        key=lambda result: suite.position(result.expectation_config.id),
    )
    blame = np.zeros((len(failures), len(frame)), dtype=bool)
    labels: list[str] = []
    reasons: list[str] = []
    for row, result in enumerate(failures):
        config = result.expectation_config
        reason = str(config.meta.get("reason") or config.type)
        error = _evaluation_error(result)
        positions = result.result.get("unexpected_index_list")
        if error is None and positions:
            blame[row, positions] = True
        else:
            blame[row, :] = True
            if error is not None:
                reason = f"{reason} (could not be evaluated: {error})"
        labels.append(_describe(config.type, config.kwargs))
        reasons.append(reason)
    return blame, labels, reasons


def _evaluation_error(result: ExpectationValidationResult) -> str | None:
    """GX reports a crashed metric either flat or keyed by metric id; either way, its message or None."""
    info: dict[str, Any] = result.exception_info or {}
    candidates = [info, *(value for value in info.values() if isinstance(value, dict))]
    for candidate in candidates:
        if candidate.get("raised_exception"):
            return str(candidate.get("exception_message") or "unknown error")
    return None


def _describe(expectation_type: str, kwargs: dict[str, Any]) -> str:
    columns = [kwargs[key] for key in ("column", "column_A", "column_B") if key in kwargs]
    columns += list(kwargs.get("column_list", []))
    return f"{expectation_type}({', '.join(map(str, columns))})" if columns else expectation_type


def _label_rows(blame: np.ndarray, labels: list[str], reasons: list[str]) -> tuple[list[str], list[str]]:
    """The "; "-joined rules and reasons of each failed row, given its column of the blame matrix."""
    if blame.shape[1] == 0:
        return [], []
    # Rows failing the same set of rules share one label: build each distinct set's text once.
    patterns, pattern_of_row = np.unique(blame.T, axis=0, return_inverse=True)
    pattern_labels = ["; ".join(labels[i] for i in np.flatnonzero(p)) for p in patterns]
    pattern_reasons = ["; ".join(dict.fromkeys(reasons[i] for i in np.flatnonzero(p))) for p in patterns]
    rows = pattern_of_row.reshape(-1)
    return [pattern_labels[p] for p in rows], [pattern_reasons[p] for p in rows]


def _with_failures(rows: pd.DataFrame, labels: list[str], reasons: list[str]) -> pd.DataFrame:
    # Plain arrays, not Series: nothing to align, so a duplicated caller index stays harmless.
    return rows.assign(
        **{
            FAILED_EXPECTATION_COLUMN: np.array(labels, dtype=object),
            REASON_COLUMN: np.array(reasons, dtype=object),
        }
    )
