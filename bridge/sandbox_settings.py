"""The bridge wired to the sandbox: its URLs and credentials, written once for tests, benchmarks, demo and e2e.

The sandbox serves BigCommerce, Mirakl and the ERP under one base URL and accepts fixed credentials; every
place that points the bridge at it (in-process through `ASGITransport`, or over loopback HTTP) needs the same
wiring, as settings or, for a process started with its own environment, as `BCMIRAKL_*` variables.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bridge.settings import ENV_PREFIX, BridgeSettings

__all__ = [
    "SANDBOX_BC_ACCESS_TOKEN",
    "SANDBOX_ERP_TOKEN",
    "SANDBOX_MIRAKL_API_KEY",
    "SANDBOX_MIRAKL_OPERATOR_API_KEY",
    "sandbox_environment",
    "sandbox_settings",
]

# The sandbox accepts these and nothing else (its own defaults, kept apart on purpose: it imports no bridge code).
SANDBOX_BC_ACCESS_TOKEN = "sandbox-token"
SANDBOX_MIRAKL_API_KEY = "sandbox-mirakl-key"  # the front role's key
SANDBOX_MIRAKL_OPERATOR_API_KEY = "sandbox-mirakl-operator-key"
SANDBOX_ERP_TOKEN = "sandbox-erp-token"


def sandbox_settings(base_url: str, workdir: Path, database_url: str | None = None, **extra: Any) -> BridgeSettings:
    """Settings for the sandbox at `base_url`, with state and artifacts under `workdir`.

    Args:
        base_url: where the combined sandbox app is reached (`Sandbox.base_url`).
        workdir: holds the SQLite state file (`state.db`, unless `database_url` is given) and `artifacts/`.
        database_url: another state store, e.g. PostgreSQL.
        extra: further settings fields (`bc_reserve_share`, `bc_concurrency_limit`, ...).
    """
    return BridgeSettings(**_wiring(base_url, workdir, database_url), **extra)


def sandbox_environment(base_url: str, workdir: Path, database_url: str | None = None) -> dict[str, str]:
    """The same wiring as `BCMIRAKL_*` environment variables, for `load_settings()` in this or a child process."""
    return {
        f"{ENV_PREFIX}{name.upper()}": str(value) for name, value in _wiring(base_url, workdir, database_url).items()
    }


def _wiring(base_url: str, workdir: Path, database_url: str | None) -> dict[str, Any]:
    return {
        "database_url": database_url or f"sqlite:///{workdir / 'state.db'}",
        "artifacts_dir": workdir / "artifacts",
        "bc_base_url": f"{base_url}/bigcommerce",
        "bc_store_hash": "sandbox",
        "bc_access_token": SANDBOX_BC_ACCESS_TOKEN,
        "mirakl_base_url": f"{base_url}/mirakl",
        "mirakl_front_api_key": SANDBOX_MIRAKL_API_KEY,
        "mirakl_operator_api_key": SANDBOX_MIRAKL_OPERATOR_API_KEY,
        "erp_base_url": f"{base_url}/erp",
        "erp_token": SANDBOX_ERP_TOKEN,
    }
