"""Run reports for analysts: a markdown summary and tables per flow run, and the bridge's own alert events.

Every stream reports through here so that artifacts have stable keys (`<stream>-summary`, `<stream>-<table>`),
carry ids, counts and amounts only, and are also written as local files (handy with the ephemeral Prefect
of the demo, and for operators without UI access). A last guard masks anything shaped like an e-mail
address, in case a caller passes a customer field by mistake.
"""

from __future__ import annotations

import json
import logging
import math
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from bridge.streams import Stream
from connectors.money import round_money
from tasks.alert_text import alert_sentence
from tasks.measures import TABLES, measure
from tasks.summary_markdown import fmt as _fmt
from tasks.summary_markdown import render_summary

__all__ = [
    "Alert",
    "RunReport",
    "Tally",
    "artifact_key",
    "emit_alert",
    "publish_report",
    "redact",
    "run_logger",
    "step_line",
    "step_tally",
]

_log = logging.getLogger("bcmirakl.reporting")
_EMAIL = re.compile(r"[^\s@|,;]+@[^\s@|,;]+\.[A-Za-z]{2,}")
_PARTIAL = "_bcmirakl_partial_tally"


@dataclass
class Alert:
    event: str
    resource_id: str
    payload: dict[str, Any]


@dataclass
class Tally:
    """What one step did, in numbers and rows; a task returns its own and the flow's `RunReport` absorbs it.

    A task that fills a fresh tally per attempt and returns it counts once however often Prefect retries it,
    where adding to a report it was handed counted every failed attempt again.
    """

    counts: dict[str, int | float | str] = field(default_factory=dict)
    quarantined: Counter[str] = field(default_factory=Counter)
    tables: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    alerts: list[Alert] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def add(self, name: str, amount: int = 1) -> None:
        current = self.counts.get(name, 0)
        self.counts[name] = (current if isinstance(current, int | float) else 0) + amount

    def add_money(self, name: str, amount: Decimal, currency: str) -> None:
        """Add to an amount kept as text rounded to the currency's minor unit, the form summaries show money in."""
        total = Decimal(str(self.counts.get(name, "0"))) + amount
        self.counts[name] = str(round_money(total, currency))


@contextmanager
def step_tally() -> Iterator[Tally]:
    """A fresh tally for one attempt of a step; when the step raises, the tally rides on the exception.

    The run's report takes it from there (`RunReport.absorb_failure`), so a failed run's summary and failure
    sentence still count what the step wrote before it broke, as when steps added to the report directly.
    """
    tally = Tally()
    try:
        yield tally
    except Exception as exc:
        with suppress(AttributeError):  # a few builtin exceptions take no attributes: the counts are then lost
            setattr(exc, _PARTIAL, tally)
        raise


@dataclass(kw_only=True)
class RunReport(Tally):
    """What one flow run did; `tables` hold row-level detail (ids and reasons, never PII).

    `state` is "failed" when the summary is published from the run's `finally`: `failure` then says what
    broke, `verdict` is replaced by it, and `attempts` lists the writes of earlier attempts of the same run.
    """

    stream: Stream
    title: str
    calls_baseline: dict[str, int] = field(default_factory=dict)
    budget: list[dict[str, Any]] = field(default_factory=list)
    state: str = "completed"
    failure: str | None = None
    verdict: str | None = None
    currency: str = ""
    attempts: list[dict[str, Any]] = field(default_factory=list)
    trend: list[str] = field(default_factory=list)
    # Artifact keys start with this instead of the stream, for a stream run in several modes whose histories
    # must not mix in the UI (offer sync's delta and full runs).
    artifact_prefix: str | None = None

    def absorb(self, tally: Tally, step: str) -> None:
        """Add a step's returned tally, and log the one line that says what the step read, decided and wrote.

        Numbers add up, and so do money amounts (kept as text, see `Tally.add_money`); other text replaces.
        """
        for name, value in tally.counts.items():
            current = self.counts.get(name)
            if isinstance(value, int | float) and isinstance(current, int | float):
                self.counts[name] = current + value
            elif isinstance(value, str) and isinstance(current, str) and measure(name).unit == "money":
                self.counts[name] = str(Decimal(current) + Decimal(value))
            else:
                self.counts[name] = value
        self.quarantined.update(tally.quarantined)
        for name, rows in tally.tables.items():
            self.tables.setdefault(name, []).extend(rows)
        self.alerts.extend(tally.alerts)
        self.notes.extend(tally.notes)
        step_line(step, tally)

    def absorb_failure(self, exc: BaseException) -> None:
        """Absorb the tally a failed step left on its exception (`step_tally`), if any, once."""
        tally = getattr(exc, _PARTIAL, None)
        if isinstance(tally, Tally):
            self.absorb(tally, "before the failure")
            with suppress(AttributeError):
                delattr(exc, _PARTIAL)

    def record_api_calls(self, current: dict[str, int]) -> None:
        """API calls this run made per system: the runtime's counters minus `calls_baseline` (a runtime may
        serve several runs, as in the demo)."""
        for system, total in current.items():
            self.counts[f"api_calls_{system}"] = total - self.calls_baseline.get(system, 0)

    def writes(self) -> dict[str, int | float | str]:
        """The write measures this run has made so far (what the failure sentence says was already written)."""
        return {name: value for name, value in self.counts.items() if measure(name).kind == "write" and value}

    def to_markdown(self) -> str:
        return redact(render_summary(self))


def step_line(step: str, tally: Tally) -> str:
    """One log line per step: its counts and quarantine total, ids and numbers only."""
    parts = [f"{name}={_fmt(value)}" for name, value in tally.counts.items()]
    if tally.quarantined:
        parts.append(f"quarantined={sum(tally.quarantined.values())}")
    line = redact(f"{step}: " + (", ".join(parts) or "nothing to do"))
    run_logger().info(line)
    return line


def run_logger() -> logging.Logger | logging.LoggerAdapter[logging.Logger]:
    """The Prefect run logger inside a run (its lines reach the UI's Logs tab), the module logger outside."""
    from prefect.exceptions import MissingContextError
    from prefect.logging import get_run_logger

    try:
        return get_run_logger()
    except MissingContextError:
        return _log


def artifact_key(name: str) -> str:
    """Prefect artifact keys allow lowercase letters, digits and dashes only."""
    return re.sub(r"[^a-z0-9-]+", "-", name.lower()).strip("-")


def redact(text: str) -> str:
    """Mask e-mail-shaped strings: artifacts and logs must never carry customer contact data."""
    return _EMAIL.sub("[redacted]", text)


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None  # JSON has no NaN; a missing number is null
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _clean_table(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: redact(str(v)) if isinstance(v, str) else _jsonable(v) for k, v in row.items()} for row in rows]


async def publish_report(report: RunReport, artifacts_dir: Path, *, in_prefect: bool = True) -> dict[str, Path]:
    """Publish the summary and tables as Prefect artifacts and local files; returns the local paths."""
    artifacts_dir.mkdir(parents=True, exist_ok=True)
    markdown = report.to_markdown()
    paths: dict[str, Path] = {}
    prefix = artifact_key(report.artifact_prefix or report.stream)
    summary_key = f"{prefix}-summary"
    summary_path = artifacts_dir / f"{summary_key}.md"
    summary_path.write_text(markdown, encoding="utf-8")
    paths[summary_key] = summary_path
    tables = {name: _clean_table(rows) for name, rows in report.tables.items()}
    for name, rows in tables.items():
        key = artifact_key(f"{prefix}-{name}")
        path = artifacts_dir / f"{key}.json"
        path.write_text(json.dumps(rows, indent=1, default=str), encoding="utf-8")
        paths[key] = path
    if in_prefect:
        from prefect.artifacts import acreate_markdown_artifact, acreate_table_artifact

        await acreate_markdown_artifact(markdown, key=summary_key, description=f"{report.title} ({report.state})")
        for name, rows in tables.items():
            if rows:
                await acreate_table_artifact(
                    rows[:500], key=artifact_key(f"{prefix}-{name}"), description=TABLES.get(name, name)
                )
    return paths


def emit_alert(report: Tally, event: str, resource_id: str, payload: dict[str, Any]) -> Alert:
    """Emit a Prefect event for automations to alert on, and record it in the run's report."""
    from prefect.events import emit_event

    clean = {k: _jsonable(v) for k, v in payload.items()}
    # `summary` is what the alert says in words (tasks.alert_text); the rest stays for filters and the Events page.
    summary = redact(alert_sentence(event, resource_id, clean))
    emit_event(event, resource={"prefect.resource.id": resource_id}, payload={"summary": summary, **clean})
    alert = Alert(event, resource_id, clean)
    report.alerts.append(alert)
    _log.warning("alert %s: %s", event, summary)
    return alert
