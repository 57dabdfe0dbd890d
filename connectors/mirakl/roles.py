"""The one table of which Mirakl credential each operation is sent with: operation -> role.

Mirakl documents the front (storefront) role and the operator (back-office) role as separate API trees with
separate keys: every operation of `mmp-front-openapi.yaml` declares `security: [{Front-Bearer-Token: []},
{OAuth-2: []}]` and every operation of `mmp-operator-openapi.json` `security: [{Operator-Bearer-Token: []},
{OAuth-2: []}]`. So:
- operations only in the operator spec (OF02, OF03, OF04, OR28) need the operator credential;
- OR01 and SH02 are only in the front spec (their path entries were lost in the mirror; `OR01_Request`,
  `SH02_Response_200`, ... are in the front spec's components alone) and need the front one;
- operations in both are sent with the front credential, the bridge's own role ("the operator's storefront
  back-end", `../shared/api/mirakl.md` §1.1), so the operator credential serves only what needs it;
- OR02/OR03 are in neither spec; Mirakl's front SDK calls them with the front key (mirakl.md §3, "S5 only").

`tests/contract/test_mirakl_roles.py` checks every entry against both spec files.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Final

from connectors.http import ConfigurationError

__all__ = ["OPERATION_ROLES", "ROLE_HEADER", "Role", "role_for"]


class Role(StrEnum):
    FRONT = "front"
    OPERATOR = "operator"


# Internal marker the client sets per request and `RoleAuth` removes before sending: it never leaves the process.
ROLE_HEADER: Final = "X-Bcmirakl-Mirakl-Role"

OPERATION_ROLES: Final[dict[str, Role]] = {
    "OF51": Role.FRONT,  # both specs
    "OF52": Role.FRONT,  # both specs
    "OF53": Role.FRONT,  # both specs
    "OF54": Role.FRONT,  # both specs; the same role that started the export (OF52)
    "OF02": Role.OPERATOR,  # operator spec only
    "OF03": Role.OPERATOR,  # operator spec only
    "OF04": Role.OPERATOR,  # operator spec only
    "S20": Role.FRONT,  # S20 schemas in both specs
    "OR01": Role.FRONT,  # front spec only
    "OR02": Role.FRONT,  # neither spec; front SDK
    "OR03": Role.FRONT,  # neither spec; front SDK
    "OR11": Role.FRONT,  # both specs
    "OR21": Role.FRONT,  # both specs
    "OR23": Role.FRONT,  # both specs
    "OR24": Role.FRONT,  # both specs
    "OR28": Role.OPERATOR,  # operator spec only
    "OR29": Role.FRONT,  # both specs
    "OR30": Role.FRONT,  # both specs
    "PA01": Role.FRONT,  # PA01 schemas in both specs
    "PA02": Role.FRONT,  # PA02 schemas in both specs
    "PA11": Role.FRONT,  # PA11 schemas in both specs
    "PA12": Role.FRONT,  # PA12 schemas in both specs
    "SH02": Role.FRONT,  # front spec only (SH02_Response_200)
    "SH21": Role.FRONT,  # both specs
    "RE01": Role.FRONT,  # both specs
    "TL02": Role.FRONT,  # TL02 schemas in both specs
    "IV01": Role.FRONT,  # both specs
    "SBC11": Role.FRONT,  # both specs
}


def role_for(operation: str) -> Role:
    """The role `operation` is sent with; an operation missing from the table is a bridge defect, said loudly."""
    try:
        return OPERATION_ROLES[operation]
    except KeyError:
        raise ConfigurationError(f"Mirakl operation {operation} has no role in OPERATION_ROLES") from None
