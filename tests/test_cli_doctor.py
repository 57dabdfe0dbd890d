"""`bcmirakl doctor` against the in-process sandbox: good keys pass, swapped Mirakl keys are named per operation."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import SecretStr

from bcmirakl.doctor import render_doctor, run_doctor
from bridge.runtime import build_runtime
from bridge.sandbox_settings import SANDBOX_MIRAKL_API_KEY, SANDBOX_MIRAKL_OPERATOR_API_KEY, sandbox_settings
from connectors.mirakl.roles import Role
from sandbox.app import create_sandbox


async def _doctor(tmp_path: Path, **secrets: str) -> Any:
    """Doctor on a fresh sandbox, with some of the sandbox wiring's secrets replaced."""
    sandbox = create_sandbox()
    settings = sandbox_settings(sandbox.base_url, tmp_path)
    settings = settings.model_copy(update={name: SecretStr(value) for name, value in secrets.items()})
    transport = httpx.ASGITransport(app=sandbox.app)
    runtime = build_runtime(settings, transport=transport, migrate=False, hold_budgets=False)
    try:
        return await run_doctor(runtime)
    finally:
        await runtime.aclose()


async def test_good_keys_pass_every_check_and_every_operation(tmp_path: Path) -> None:
    report = await _doctor(tmp_path)

    assert report.ok, render_doctor(report)
    assert [check.system for check in report.checks] == [
        "bigcommerce",
        "erp",
        "mirakl front",
        "mirakl front",
        "mirakl operator",
    ]
    assert all(callable_ for _, callable_ in report.operations.values())
    assert "all checks passed" in render_doctor(report)


async def test_swapped_mirakl_keys_fail_the_role_checks_and_name_the_operations_they_break(tmp_path: Path) -> None:
    report = await _doctor(
        tmp_path,
        mirakl_front_api_key=SANDBOX_MIRAKL_OPERATOR_API_KEY,
        mirakl_operator_api_key=SANDBOX_MIRAKL_API_KEY,
    )

    failed = {check.call: check.detail for check in report.checks if not check.ok}
    assert set(failed) == {"OR01 dry probe (an empty order)", "OF04 offer imports, one page"}
    assert all("HTTP 403" in detail for detail in failed.values())
    assert report.operations["OR28"] == (Role.OPERATOR, False)
    assert report.operations["OR01"] == (Role.FRONT, False)
    rendered = render_doctor(report)
    assert "OR28   operator  NOT CONFIRMED" in rendered and "FAILED" in rendered
    assert SANDBOX_MIRAKL_API_KEY not in rendered and SANDBOX_MIRAKL_OPERATOR_API_KEY not in rendered


@pytest.mark.parametrize(("setting", "system"), [("bc_access_token", "bigcommerce"), ("erp_token", "erp")])
async def test_a_refused_token_fails_its_systems_check_only(tmp_path: Path, setting: str, system: str) -> None:
    report = await _doctor(tmp_path, **{setting: "wrong-token"})

    assert [check.system for check in report.checks if not check.ok] == [system]
    assert all(callable_ for _, callable_ in report.operations.values())
