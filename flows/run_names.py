"""Flow-run names a person can read in the UI's run list: stream, mode or period, and when the run was due.

Prefect's default names ("brave-otter") say nothing; a list of forty of them cannot be searched for last
night's full offer sync. Each flow passes `run_name(template, **when_empty)` as its `flow_run_name`: the
template names parameters in braces, `when_empty` says what an unset parameter means in words ("cursor",
"yesterday"), and the run's scheduled time (UTC) ends the name.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime
from typing import Any

__all__ = ["render_run_name", "run_name"]


def run_name(template: str, **when_empty: str) -> Callable[[], str]:
    """A `flow_run_name` callable, rendering `template` with the run's parameters and scheduled time."""

    def name() -> str:
        from prefect.runtime import flow_run

        when = flow_run.scheduled_start_time
        return render_run_name(template, flow_run.parameters, when_empty, when)

    return name


def render_run_name(
    template: str, parameters: Mapping[str, Any], when_empty: Mapping[str, str], when: datetime | None
) -> str:
    """`template` filled from `parameters` (unset ones by `when_empty`), then the time, e.g. `... 2026-12-01 02:00Z`."""
    values = {key: _text(parameters.get(key)) or when_empty.get(key, "default") for key in _fields(template)}
    moment = (when or datetime.now(UTC)).astimezone(UTC)
    return f"{template.format(**values)} {moment:%Y-%m-%d %H:%MZ}"


def _fields(template: str) -> list[str]:
    from string import Formatter

    return [name for _, name, _, _ in Formatter().parse(template) if name]


def _text(value: Any) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        return f"{value.astimezone(UTC):%Y-%m-%d %H:%MZ}" if value.tzinfo else f"{value:%Y-%m-%d %H:%M}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)
