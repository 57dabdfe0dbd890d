"""prefect.yaml and the bootstrap plan: every stream deployed, never overlapping, on the shared quota."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import pytest
import yaml

from deployments.plan import (
    PREFECT_YAML,
    SCHEDULE_DEFAULTS,
    load_deployments,
    load_pool,
    quota_gate,
    schedule_variables,
)
from flows.registry import STREAMS

DOCUMENT = yaml.safe_load(PREFECT_YAML.read_text(encoding="utf-8"))
ENTRIES = {entry["name"]: entry for entry in DOCUMENT["deployments"]}
EXPECTED_SCHEDULES = {
    "offer-sync-delta": "offer_sync_delta_cron",
    "offer-sync-full": "offer_sync_full_cron",
    "order-routing": "order_routing_cron",
    "acceptance-guard": "acceptance_guard_cron",
    "shipment-sync": "shipment_sync_cron",
    "refund-mirror": "refund_mirror_cron",
    "commission-reconciliation": "commission_reconciliation_cron",
    "drift-monitor": "drift_monitor_cron",
}


def test_every_registered_stream_has_a_deployment_with_its_entrypoint() -> None:
    deployed = {spec.entrypoint.replace("/", ".").replace(".py:", ":") for spec in load_deployments()}
    missing = {name for name, spec in STREAMS.items() if spec.entrypoint not in deployed}
    assert missing == set()


@pytest.mark.parametrize("spec", load_deployments(), ids=lambda spec: spec.name)
def test_a_deployment_whose_flow_exists_points_at_a_real_flow(spec) -> None:  # type: ignore[no-untyped-def]
    if not (Path(PREFECT_YAML).parent / spec.flow_file).exists():
        pytest.skip(f"{spec.flow_file} has not landed yet")
    module, attr = spec.entrypoint.replace("/", ".").replace(".py:", ":").split(":")
    assert hasattr(importlib.import_module(module), attr)


def test_schedules_match_the_issue_and_read_their_variable() -> None:
    assert SCHEDULE_DEFAULTS["offer_sync_delta_cron"] == "*/2 * * * *"
    assert SCHEDULE_DEFAULTS["offer_sync_full_cron"] == "0 2 * * *"
    assert SCHEDULE_DEFAULTS["order_routing_cron"] == SCHEDULE_DEFAULTS["acceptance_guard_cron"] == "* * * * *"
    assert SCHEDULE_DEFAULTS["shipment_sync_cron"] == SCHEDULE_DEFAULTS["refund_mirror_cron"] == "*/5 * * * *"
    assert SCHEDULE_DEFAULTS["drift_monitor_cron"] == "*/15 * * * *"
    assert len(SCHEDULE_DEFAULTS["commission_reconciliation_cron"].split()) == 5  # daily
    for name, key in EXPECTED_SCHEDULES.items():
        (schedule,) = ENTRIES[name]["schedules"]
        assert schedule["cron"] == f"{{{{ prefect.variables.{key}_bcmirakl }}}}"
        assert schedule["timezone"] == "{{ prefect.variables.timezone_bcmirakl }}"
    assert "schedules" not in ENTRIES["smoke"]


def test_no_deployment_can_overlap_itself_and_each_stream_has_a_single_slot_queue() -> None:
    for name, entry in ENTRIES.items():
        assert entry["concurrency_limit"]["limit"] == 1, name
        assert "bcmirakl" in entry["tags"], name
        assert entry["work_pool"]["name"] == load_pool().name
    queues = {spec.name: spec.work_queue for spec in load_deployments()}
    # Delta and full offer syncs share one queue, so the nightly full run never overlaps a delta run.
    assert queues["offer-sync-delta"] == queues["offer-sync-full"] == "offer-sync"
    assert ENTRIES["offer-sync-delta"]["parameters"] == {"mode": "delta"}
    assert ENTRIES["offer-sync-full"]["parameters"] == {"mode": "full"}


def test_runs_read_credentials_from_blocks_and_take_the_shared_quota() -> None:
    pool = load_pool()
    assert pool.name == "bcmirakl-process"
    assert pool.quota_limit == "bigcommerce-api"
    assert pool.credential_blocks == "bcmirakl"


@pytest.mark.parametrize(
    ("quota", "window", "reserve"), [(150, 30.0, 0.1), (450, 30.0, 0.1), (60, 30.0, 0.0), (1000, 60.0, 0.25)]
)
def test_quota_gate_never_admits_more_than_the_usable_quota_in_any_window(
    quota: int, window: float, reserve: float
) -> None:
    gate = quota_gate("bigcommerce-api", quota, window, reserve)
    usable = quota - int(-(-quota * reserve // 1))
    # A rate limit admits at most its burst plus decay * t slots in t seconds.
    assert gate.limit + gate.slot_decay_per_second * window <= usable + 1e-6
    assert gate.slot_decay_per_second * window >= usable * 0.85


def test_quota_gate_for_a_standard_store() -> None:
    gate = quota_gate("bigcommerce-api", 150, 30.0, 0.1)
    assert (gate.name, gate.limit, gate.slot_decay_per_second) == ("bigcommerce-api", 14, 4.0333)


def test_schedule_variables_take_defaults_and_environment_overrides() -> None:
    values, explicit = schedule_variables({"BCMIRAKL_SCHEDULE_DRIFT_MONITOR_CRON": "*/30 * * * *"})
    assert values["drift_monitor_cron_bcmirakl"] == "*/30 * * * *"
    assert values["order_routing_cron_bcmirakl"] == "* * * * *"
    assert values["timezone_bcmirakl"] == "UTC"
    assert explicit == {"drift_monitor_cron_bcmirakl"}
    assert all(re.fullmatch(r"[a-z0-9_]+", name) for name in values)


def test_a_malformed_schedule_in_the_environment_is_refused_naming_the_variable() -> None:
    with pytest.raises(ValueError, match="BCMIRAKL_SCHEDULE_ORDER_ROUTING_CRON"):
        schedule_variables({"BCMIRAKL_SCHEDULE_ORDER_ROUTING_CRON": "every minute"})


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_every_deployment_says_in_the_ui_when_it_runs_and_where_its_results_are(name: str) -> None:
    description = ENTRIES[name].get("description", "")
    assert re.match(r"(Every|Nightly|Daily|By hand)", description), f"{name}: when does it run?"
    assert "summary" in description or "artifacts" in description, f"{name}: where are its results?"
