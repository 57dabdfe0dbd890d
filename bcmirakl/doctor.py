"""`bcmirakl doctor`: before the first scheduled run, can the configured credentials make every call the streams make?

One cheap call per system and per Mirakl role: BigCommerce lists its inventory locations (and checks the stock
location), the ERP answers a read with its token, the Mirakl front credential lists reasons (RE01) and is offered
an empty order (OR01, refused as invalid when the role may create orders, refused as forbidden when it may not,
never created), and the operator credential reads one page of offer imports (OF04). OR01 and OF04 are each
declared by one spec only, so a swapped or wrong-role key fails one of them. Then every Mirakl operation the
bridge uses is reported as callable or not, from the result of its role's checks (`connectors.mirakl.roles`).
Only statuses and messages are shown, never a credential.

The doctor runs without the state store, so its two Mirakl reads are outside the shared call budgets: RE01 has no
documented maximum (SH21, once a day, would take the shipment sync's read of the day), and OF04's once a minute
may cost the next offer sync one 429, waited out as Mirakl's `Retry-After` asks.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from bridge.runtime import Runtime
from common.errors import ApiError, AuthError, ConfigurationError
from connectors.mirakl.roles import OPERATION_ROLES, Role

__all__ = ["Check", "DoctorReport", "render_doctor", "run_doctor"]


@dataclass(frozen=True)
class Check:
    system: str
    call: str
    ok: bool
    detail: str


@dataclass
class DoctorReport:
    checks: list[Check] = field(default_factory=list)
    operations: dict[str, tuple[Role, bool]] = field(default_factory=dict)  # Mirakl code -> (role, callable)

    @property
    def ok(self) -> bool:
        return all(check.ok for check in self.checks)


async def run_doctor(rt: Runtime) -> DoctorReport:
    """Run every check (none stops the others) and derive which Mirakl operations the credentials can call."""
    report = DoctorReport()

    async def first_page_of_imports() -> None:
        async for _ in rt.mirakl.iter_offer_imports():
            break

    async def location() -> str:
        return f"stock location {await rt.bigcommerce.default_location_id()}"

    checks: list[tuple[str, str, Callable[[], Awaitable[object]], Role | None]] = [
        ("bigcommerce", "GET /v3/inventory/locations", location, None),
        ("erp", "GET /orders", rt.erp.check_access, None),
        ("mirakl front", "RE01 list reasons", rt.mirakl.list_reasons, Role.FRONT),
        ("mirakl front", "OR01 dry probe (an empty order)", rt.mirakl.probe_order_creation, Role.FRONT),
        ("mirakl operator", "OF04 offer imports, one page", first_page_of_imports, Role.OPERATOR),
    ]
    role_ok = {role: True for role in Role}
    for system, call, probe, role in checks:
        check = await _run(system, call, probe)
        report.checks.append(check)
        if role is not None:
            role_ok[role] = role_ok[role] and check.ok
    report.operations = {op: (role, role_ok[role]) for op, role in sorted(OPERATION_ROLES.items())}
    return report


async def _run(system: str, call: str, probe: Callable[[], Awaitable[object]]) -> Check:
    try:
        result = await probe()
    except AuthError as exc:
        return Check(system, call, False, f"credential refused (HTTP {exc.status}): {exc}")
    except (ApiError, ConfigurationError) as exc:
        return Check(system, call, False, str(exc))
    return Check(system, call, True, result if isinstance(result, str) else "ok")


def render_doctor(report: DoctorReport) -> str:
    lines = ["Checks"]
    system_width = max(len(check.system) for check in report.checks)
    call_width = max(len(check.call) for check in report.checks)
    for check in report.checks:
        detail = "" if check.detail == "ok" else check.detail
        verdict = "ok" if check.ok else "FAILED"
        lines.append(f"  {check.system:<{system_width}}  {check.call:<{call_width}}  {verdict:<6}  {detail}")
    lines.append("Mirakl operations the streams use")
    for operation, (role, callable_) in report.operations.items():
        verdict = "can call" if callable_ else f"NOT CONFIRMED: the {role.value} credential failed a check"
        lines.append(f"  {operation:<6} {role.value:<9} {verdict}")
    lines.append("all checks passed" if report.ok else "some checks FAILED: fix them before the first scheduled run")
    return "\n".join(line.rstrip() for line in lines) + "\n"
