"""Runs are named and described for the person reading the UI: stream, mode or period, time; every parameter
says what leaving it empty means."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest

from bridge.runtime import Runtime, use_runtime
from flows.registry import STREAMS, load_flow
from flows.run_names import render_run_name

pytestmark = pytest.mark.flow

AT = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)


def test_a_name_shows_the_parameters_given_and_says_what_an_empty_one_means() -> None:
    template = "commission-reconciliation {scope} {start}..{end}"
    empty = {"start": "yesterday", "end": "same day"}
    given = {"scope": "cycle", "start": date(2026, 11, 1), "end": "2026-11-30"}

    assert (
        render_run_name(template, given, empty, AT)
        == "commission-reconciliation cycle 2026-11-01..2026-11-30 2026-12-01 02:00Z"
    )
    assert render_run_name(template, {"scope": "daily"}, empty, AT) == (
        "commission-reconciliation daily yesterday..same day 2026-12-01 02:00Z"
    )


@pytest.mark.parametrize("stream", sorted(STREAMS))
def test_every_stream_names_its_runs_and_describes_each_parameter_with_what_empty_means(stream: str) -> None:
    from prefect.utilities.callables import parameter_schema

    flow = load_flow(stream)
    assert callable(flow.flow_run_name), f"{stream} runs would get a random name"
    schema = parameter_schema(flow.fn)
    for name, prop in schema.properties.items():
        assert prop.get("description"), f"{stream}.{name} has no description in the UI's run form"
        if prop.get("default", "absent") is None:
            assert "empty" in prop["description"].lower(), f"{stream}.{name}: what does leaving it empty do?"


async def test_a_run_started_in_prefect_carries_its_template_name(runtime: Runtime) -> None:
    from prefect import get_client

    with use_runtime(runtime):
        state = await load_flow("smoke")(return_state=True)
    async with get_client() as client:
        run = await client.read_flow_run(state.state_details.flow_run_id)

    assert re.fullmatch(r"smoke \d{4}-\d\d-\d\d \d\d:\d\dZ", run.name), run.name
