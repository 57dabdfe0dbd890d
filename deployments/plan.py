"""What a Prefect server must hold before `prefect deploy --all`, computed without touching the server.

Kept pure (no Prefect calls) so the sizing of the shared BigCommerce quota, the schedule Variables and the
reading of `prefect.yaml` are tested in milliseconds; `deployments.bootstrap` applies the result.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

__all__ = [
    "PREFECT_YAML",
    "SCHEDULE_DEFAULTS",
    "DeploymentSpec",
    "PoolSpec",
    "QuotaGate",
    "legacy_variable_names",
    "load_deployments",
    "load_pool",
    "quota_gate",
    "schedule_variables",
    "variable_name",
]

PREFECT_YAML = Path(__file__).resolve().parent.parent / "prefect.yaml"

# The schedules the issue asks for, as Prefect Variables read by prefect.yaml at deploy time. Each can be set
# from the environment as BCMIRAKL_SCHEDULE_<NAME upper-cased>, or edited in the UI and redeployed. They are
# cron expressions because prefect.yaml is validated before Variables are resolved, and only a string field
# can hold the placeholder (an `interval` must already be a number).
SCHEDULE_DEFAULTS: dict[str, str] = {
    "offer_sync_delta_cron": "*/2 * * * *",
    "offer_sync_full_cron": "0 2 * * *",
    "order_routing_cron": "* * * * *",
    "acceptance_guard_cron": "* * * * *",
    "shipment_sync_cron": "*/5 * * * *",
    "refund_mirror_cron": "*/5 * * * *",
    "commission_reconciliation_cron": "30 5 * * *",
    "drift_monitor_cron": "*/15 * * * *",
    "timezone": "UTC",
}
# Variable names lead with what differs (the UI's list cuts names short: `bcmirakl_schedule_offer_sy…` told
# nothing apart) and end with the bridge's name, so they stay recognisable on a shared server.
VARIABLE_SUFFIX = "_bcmirakl"
# Names before that change; bootstrap moves an operator's value from the old name to the new one.
LEGACY_VARIABLE_PREFIX = "bcmirakl_schedule_"
ENV_PREFIX = "BCMIRAKL_SCHEDULE_"


def variable_name(key: str) -> str:
    """The Prefect Variable holding schedule setting `key` (a `SCHEDULE_DEFAULTS` key)."""
    return key + VARIABLE_SUFFIX


def legacy_variable_names() -> dict[str, str]:
    """New Variable name -> the name the same setting had before."""
    return {variable_name(key): LEGACY_VARIABLE_PREFIX + key for key in SCHEDULE_DEFAULTS}


@dataclass(frozen=True)
class QuotaGate:
    """A Prefect rate limit (`rate_limit(name)`) that no set of workers can push past the store's quota."""

    name: str
    limit: int
    slot_decay_per_second: float


@dataclass(frozen=True)
class DeploymentSpec:
    name: str
    entrypoint: str
    work_queue: str
    parameters: dict[str, Any] = field(default_factory=dict)

    @property
    def flow_file(self) -> str:
        return self.entrypoint.split(":")[0]


@dataclass(frozen=True)
class PoolSpec:
    name: str
    quota_limit: str
    credential_blocks: str


def quota_gate(name: str, quota: int, window_s: float, reserve_share: float) -> QuotaGate:
    """Size the shared limit from the store's quota per window, after the reserve kept for other apps.

    A Prefect rate limit admits at most `limit + decay * t` slots in any `t` seconds, so a burst (`limit`)
    of a tenth of the usable quota plus a decay of the rest per window never exceeds the usable quota in
    any window: 150 per 30 s with a 10 % reserve gives 135 usable, a burst of 14 and 121/30 = 4.03 slots/s.
    """
    if quota < 1 or window_s <= 0 or not 0.0 <= reserve_share < 1.0:
        raise ValueError("quota >= 1, window > 0 and reserve share in [0, 1) are required")
    usable = max(1, quota - math.ceil(quota * reserve_share))
    burst = max(1, math.ceil(usable * 0.1))
    decay = max(usable - burst, 1) / window_s
    return QuotaGate(name=name, limit=burst, slot_decay_per_second=round(decay, 4))


def schedule_variables(environ: Mapping[str, str] | None = None) -> tuple[dict[str, str], set[str]]:
    """Variable values for the schedules, and the names whose value came from the environment.

    Environment values overwrite what the server holds; defaults only fill Variables that do not exist yet,
    so a schedule an operator changed in the UI survives a second bootstrap.
    """
    env = os.environ if environ is None else environ
    values: dict[str, str] = {}
    explicit: set[str] = set()
    for key, default in SCHEDULE_DEFAULTS.items():
        name = variable_name(key)
        raw = env.get(ENV_PREFIX + key.upper())
        if raw is not None and key.endswith("_cron") and len(raw.split()) != 5:
            raise ValueError(f"{ENV_PREFIX}{key.upper()} must be a five-field cron expression, got {raw!r}")
        values[name] = raw if raw is not None else default
        if raw is not None:
            explicit.add(name)
    return values, explicit


def load_deployments(path: Path = PREFECT_YAML) -> list[DeploymentSpec]:
    """The deployments declared in prefect.yaml, in file order."""
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [
        DeploymentSpec(
            name=entry["name"],
            entrypoint=entry["entrypoint"],
            work_queue=entry["work_pool"]["work_queue_name"],
            parameters=dict(entry.get("parameters") or {}),
        )
        for entry in document["deployments"]
    ]


def load_pool(path: Path = PREFECT_YAML) -> PoolSpec:
    """The work pool prefect.yaml deploys to, and the names its runs expect bootstrap to have created."""
    pool = yaml.safe_load(path.read_text(encoding="utf-8"))["definitions"]["work_pool"]
    env = pool.get("job_variables", {}).get("env", {})
    return PoolSpec(
        name=pool["name"],
        quota_limit=env["BCMIRAKL_BC_CONCURRENCY_LIMIT"],
        credential_blocks=env["BCMIRAKL_CREDENTIAL_BLOCKS"],
    )
