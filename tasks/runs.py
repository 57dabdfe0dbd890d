"""The frame of every flow run: its report is published whatever happens, and a failure is told in one sentence.

`flow_frame` is the frame every flow opens: the runtime, the run's report (with the API-call baseline), the
settlement of the stream's writes interrupted by a dead run (`tasks.interrupted`, for the streams that have
any), and, on the way out, success or failure, the API calls the run made. Inside it, `reported_run` wraps the
flow's body. On success it settles rejected records, publishes the summary (with the run's Mirakl calls against
budget) and marks the stream's last success (`connectors.state.mark_success`, a table apart from the read
cursors), which `bcmirakl status` shows for streams that keep no read cursor. On failure it logs the failure
sentence before Prefect's traceback and still publishes the summary, marked failed, with the writes made before
the failure. Each attempt is kept as a run record, so a run retried from the UI (same flow-run id) lists every
earlier attempt's writes, and the per-day trends are read back from the same records.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from prefect.runtime import flow_run

from bridge.runtime import Runtime, runtime_scope
from bridge.streams import Stream
from common.collector import run_pace
from connectors.state import attempts_of, mark_success, record_run_attempt
from tasks.budget_report import mirakl_budget_rows
from tasks.failures import failure_sentence, tell_failure
from tasks.interrupted import SETTLERS, settle_interrupted_writes
from tasks.measures import measure, stream_key
from tasks.rejections import settle_rejections
from tasks.reporting import RunReport, publish_report, redact, run_logger
from tasks.summary_markdown import verdict_of
from tasks.trends import TREND_STREAMS, load_trends, trend_markdown

__all__ = ["TREND_DAYS", "flow_frame", "reported_run"]

TREND_DAYS = 14  # days of trend the drift and reconciliation summaries chart


@asynccontextmanager
async def flow_frame(
    stream: Stream, title: str, *, artifact_prefix: str | None = None
) -> AsyncIterator[tuple[Runtime, RunReport]]:
    """Open a run of `stream`: yields the runtime and the report the flow fills, published at the end.

    The stream's interrupted writes are settled first (only streams listed in `SETTLERS` have any), so the body
    decides on a ledger with no row left `started` by a dead run. The API calls are recorded in a `finally`,
    inside `reported_run`, so a failed run's summary carries the calls it made before failing. The collector runs
    at a batch job's pace meanwhile (`common.collector`).
    """
    with run_pace():
        async with _frame(stream, title, artifact_prefix) as framed:
            yield framed


@asynccontextmanager
async def _frame(stream: Stream, title: str, artifact_prefix: str | None) -> AsyncIterator[tuple[Runtime, RunReport]]:
    async with runtime_scope() as rt:
        report = RunReport(stream=stream, title=title, calls_baseline=rt.api_calls(), artifact_prefix=artifact_prefix)
        async with reported_run(rt, report):
            try:
                if stream in SETTLERS:
                    report.absorb(await settle_interrupted_writes(rt, stream), "settle_interrupted_writes")
                yield rt, report
            finally:
                report.record_api_calls(rt.api_calls())


@asynccontextmanager
async def reported_run(rt: Runtime, report: RunReport) -> AsyncIterator[RunReport]:
    """Run the body with `report`; publish it at the end, marked failed (and the failure told) if it raised."""
    started = datetime.now(UTC)
    run_id = _flow_run_id()
    report.currency = report.currency or rt.config.currency
    if run_id:
        report.attempts = _earlier_attempts(rt, run_id)
    try:
        yield report
    except Exception as exc:
        report.state = "failed"
        report.absorb_failure(exc)  # what the failed step wrote before it broke
        report.failure = failure_sentence(exc, report.stream, report.writes(), report.currency)
        tell_failure(exc, report.stream, report.writes(), report.currency)
        try:
            await _finish(rt, report, run_id, started)
        except Exception as publish_error:  # the run's own error matters more than its summary's
            run_logger().warning("the failed run's summary could not be published: %r", publish_error)
        raise
    await _finish(rt, report, run_id, started)


async def _finish(rt: Runtime, report: RunReport, run_id: str | None, started: datetime) -> None:
    """Quarantine the records the run's page readers set aside, keep the attempt's record (the trend charts of
    the drift and reconciliation summaries include it), publish the report, then, after a success only,
    record that the stream completed now."""
    settle_rejections(rt, report, run_id)
    report.budget = mirakl_budget_rows(rt)
    waited = sum(row["waited_s"] for row in report.budget)
    if waited:
        report.counts["mirakl_budget_wait_s"] = round(waited, 1)
    measures = {name: value for name, value in report.counts.items() if isinstance(value, int | float | str)}
    with rt.sessions() as session:
        record_run_attempt(
            session,
            stream=report.stream,
            flow_run_id=run_id,
            state=report.state,
            started_at=started,
            measures=measures,
            quarantined=dict(report.quarantined),
        )
        session.commit()
    if stream_key(report.stream) in TREND_STREAMS:
        with rt.sessions() as session:
            report.trend = trend_markdown(load_trends(session, TREND_DAYS), report.currency)
    await publish_report(report, rt.artifacts_dir)
    if report.state == "completed":
        run_logger().info(redact(verdict_of(report)))  # the Logs tab's last word: what the run did
        with rt.sessions() as session:
            mark_success(session, report.stream, datetime.now(UTC))
            session.commit()


def _earlier_attempts(rt: Runtime, run_id: str) -> list[dict[str, object]]:
    with rt.sessions() as session:
        records = attempts_of(session, run_id)
        return [
            {
                "attempt": record.attempt,
                "state": record.state,
                "writes": {k: v for k, v in record.measures.items() if measure(k).kind == "write" and v},
            }
            for record in records
        ]


def _flow_run_id() -> str | None:
    return str(flow_run.get_id() or "") or None
