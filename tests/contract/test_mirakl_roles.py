"""The role each Mirakl operation is sent with (bridge) and accepted with (sandbox), checked against both specs.

An operation belongs to a spec when one of its paths carries that `operationId` (with the spec's own bearer scheme
in `security`) or, for the path entries lost in the mirror, when its `<CODE>_...` schemas are in
`components.schemas`. The front spec's operations accept the front role, the operator spec's the operator role.
"""

from __future__ import annotations

import functools
import re

import pytest

from connectors.mirakl.roles import OPERATION_ROLES, Role
from sandbox.mirakl.roles import ROUTE_ROLES
from tests.contract.openapi import load_spec

SPECS = {
    Role.FRONT: ("mirakl/mmp-front-openapi.yaml", "Front-Bearer-Token"),
    Role.OPERATOR: ("mirakl/mmp-operator-openapi.json", "Operator-Bearer-Token"),
}
# In neither spec; Mirakl's front SDK calls them with the front key (../shared/api/mirakl.md §3, "S5 only").
SPEC_SILENT = {"OR02": {Role.FRONT}, "OR03": {Role.FRONT}}
_METHODS = {"get", "put", "post", "delete", "patch"}


@functools.cache
def _declared(role: Role) -> dict[str, set[str] | None]:
    """Operation code -> the security schemes of its path, or None when only its component schemas remain."""
    spec = load_spec(SPECS[role][0])
    declared: dict[str, set[str] | None] = {}
    for item in spec["paths"].values():
        for method, operation in item.items():
            if method in _METHODS and "operationId" in operation:
                schemes = {name for requirement in operation.get("security", []) for name in requirement}
                declared[operation["operationId"]] = schemes
    for name in spec.get("components", {}).get("schemas", {}):
        match = re.match(r"([A-Z]+\d+)_", name)
        if match:
            declared.setdefault(match.group(1), None)
    return declared


def _roles_declaring(operation: str) -> set[Role]:
    return {role for role in Role if operation in _declared(role)} or SPEC_SILENT.get(operation, set())


@pytest.mark.parametrize("operation", sorted(OPERATION_ROLES))
def test_the_bridge_sends_each_operation_with_a_role_its_spec_declares(operation: str) -> None:
    allowed = _roles_declaring(operation)
    assert allowed, f"{operation} is in neither Mirakl spec and not listed as spec-silent"
    role = OPERATION_ROLES[operation]
    assert role in allowed
    schemes = _declared(role).get(operation)
    assert schemes is None or SPECS[role][1] in schemes, f"{operation} is not secured with {SPECS[role][1]}"


def test_operations_in_only_one_spec_use_that_specs_role() -> None:
    assert {op for op, role in OPERATION_ROLES.items() if _roles_declaring(op) == {Role.OPERATOR}} == {
        "OF02",
        "OF03",
        "OF04",
        "OR28",
    }
    front_only = {"OR01", "OR02", "OR03", "SH02"}
    assert {op for op in OPERATION_ROLES if _roles_declaring(op) == {Role.FRONT}} == front_only
    assert all(OPERATION_ROLES[op] is Role.FRONT for op in front_only)


@pytest.mark.parametrize(("route", "entry"), sorted(ROUTE_ROLES.items()), ids=lambda value: str(value))
def test_the_sandbox_accepts_exactly_the_roles_the_specs_declare(
    route: tuple[str, str], entry: tuple[str, frozenset[str]]
) -> None:
    operation, allowed = entry
    assert allowed == {role.value for role in _roles_declaring(operation)}, f"{route} ({operation})"


def test_the_bridge_and_the_sandbox_know_the_same_operations() -> None:
    assert set(OPERATION_ROLES) == {operation for operation, _ in ROUTE_ROLES.values()}
