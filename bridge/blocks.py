"""Credential Blocks: where a run's clients come from, checked whole before the run makes any call.

Every run builds its BigCommerce, Mirakl and ERP clients from three typed credentials Blocks' `get_client()`.
Under deployments (`BCMIRAKL_CREDENTIAL_BLOCKS=<prefix>`) they are loaded from the Prefect server, so workers
carry no tokens and an operator rotates one in the UI; the demo and tests build the same Blocks, unsaved, from
the `BCMIRAKL_*` environment. A Block that is missing, or that the UI saved with an empty token, a field of the
wrong type or a URL that is not one, fails the run at its start with a message naming the Block and the field.

Block names, for prefix `bcmirakl`: `bcmirakl-bigcommerce` (BigCommerce Credentials), `bcmirakl-mirakl`
(Mirakl Credentials), `bcmirakl-erp` (ERP Credentials) and, when the state store is not the default SQLite
file, `bcmirakl-database-url` (Secret).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import ValidationError

from bridge.settings import ENV_PREFIX, BridgeSettings, check_database_url
from common.errors import ConfigurationError
from connectors.mirakl.auth import CREDENTIAL_FIELDS
from connectors.mirakl.roles import Role

if TYPE_CHECKING:
    from prefect.blocks.core import Block

    from connectors.bigcommerce.block import BigCommerceCredentials
    from connectors.erp_block import ErpCredentials
    from connectors.mirakl.block import MiraklCredentials

__all__ = [
    "CREDENTIAL_BLOCKS_ENV",
    "Credentials",
    "block_names",
    "credential_blocks_prefix",
    "credentials_from_settings",
    "load_credentials",
    "load_database_url",
    "save_credential_blocks",
]

CREDENTIAL_BLOCKS_ENV = f"{ENV_PREFIX}CREDENTIAL_BLOCKS"
# The Mirakl Block's per-role fields; the settings carry the same names behind a `mirakl_` prefix.
_MIRAKL_ROLE_FIELDS = tuple(f"{role.value}_{field}" for role in Role for field in CREDENTIAL_FIELDS)
_B = TypeVar("_B", bound="Block")


@dataclass(frozen=True)
class Credentials:
    """The three systems' credentials Blocks a runtime builds its clients from."""

    bigcommerce: BigCommerceCredentials
    mirakl: MiraklCredentials
    erp: ErpCredentials


def block_names(prefix: str) -> dict[str, str]:
    return {
        "bigcommerce": f"{prefix}-bigcommerce",
        "mirakl": f"{prefix}-mirakl",
        "erp": f"{prefix}-erp",
        "database_url": f"{prefix}-database-url",
    }


def credential_blocks_prefix() -> str | None:
    """The Block name prefix runs read credentials from (`BCMIRAKL_CREDENTIAL_BLOCKS`); None: the environment."""
    return os.environ.get(CREDENTIAL_BLOCKS_ENV) or None


def credentials_from_settings(settings: BridgeSettings) -> Credentials:
    """The Blocks the `BCMIRAKL_*` environment describes, unsaved (the demo, tests, `bootstrap`'s source)."""
    from connectors.bigcommerce.block import BigCommerceCredentials
    from connectors.erp_block import ErpCredentials
    from connectors.mirakl.block import MiraklCredentials

    return Credentials(
        bigcommerce=BigCommerceCredentials(
            base_url=settings.bc_base_url,
            store_hash=settings.bc_store_hash,
            access_token=settings.bc_access_token,
            reserve_share=settings.bc_reserve_share,
        ),
        mirakl=MiraklCredentials(
            base_url=settings.mirakl_base_url,
            oauth_token_url=settings.mirakl_oauth_token_url,
            chunk_hosts=settings.mirakl_chunk_hosts,
            **{name: getattr(settings, f"mirakl_{name}") for name in _MIRAKL_ROLE_FIELDS},
        ),
        erp=ErpCredentials(base_url=settings.erp_base_url, token=settings.erp_token),
    )


async def load_credentials(prefix: str) -> Credentials:
    """The three credentials Blocks named by `prefix`, each validated; `ConfigurationError` names what is wrong.

    Every Block is checked before the first problem is reported, so one run start lists every fix to make.
    """
    from connectors.bigcommerce.block import BigCommerceCredentials
    from connectors.erp_block import ErpCredentials
    from connectors.mirakl.block import MiraklCredentials

    names = block_names(prefix)
    problems: list[str] = []
    bigcommerce = await _load_checked(BigCommerceCredentials, names["bigcommerce"], problems)
    mirakl = await _load_checked(MiraklCredentials, names["mirakl"], problems)
    erp = await _load_checked(ErpCredentials, names["erp"], problems)
    if bigcommerce is None or mirakl is None or erp is None:
        raise ConfigurationError("; ".join(problems))
    return Credentials(bigcommerce=bigcommerce, mirakl=mirakl, erp=erp)


async def load_database_url(prefix: str) -> str | None:
    """The state store URL kept in the `<prefix>-database-url` Secret; None when there is none (SQLite file)."""
    from prefect.blocks.system import Secret

    name = block_names(prefix)["database_url"]
    try:
        secret = await Secret.aload(name)
    except ValueError:  # Prefect's "Unable to find block document": the default store is meant
        return None
    value = secret.get()
    if not isinstance(value, str):
        raise ConfigurationError(
            f"Block {name} (Secret): value must be a database URL text, got {type(value).__name__}"
        )
    try:
        return check_database_url(value)
    except ValueError as exc:
        raise ConfigurationError(f"Block {name} (Secret): value {exc}") from None


async def save_credential_blocks(credentials: Credentials, prefix: str, database_url: str | None) -> list[str]:
    """Save (or overwrite) the credential Blocks; returns the names written."""
    from prefect.blocks.system import Secret

    names = block_names(prefix)
    await credentials.bigcommerce.asave(names["bigcommerce"], overwrite=True)
    await credentials.mirakl.asave(names["mirakl"], overwrite=True)
    await credentials.erp.asave(names["erp"], overwrite=True)
    written = [names["bigcommerce"], names["mirakl"], names["erp"]]
    if database_url:
        await Secret(value=database_url).asave(names["database_url"], overwrite=True)
        written.append(names["database_url"])
    return written


async def _load_checked(block_type: type[_B], name: str, problems: list[str]) -> _B | None:
    """The Block, or None with what is wrong appended to `problems` (missing, or each invalid field)."""
    label = f"Block {name} ({block_type.get_block_type_name()})"
    try:
        return await block_type.aload(name)
    except ValueError:
        problems.append(
            f"{label} does not exist on the Prefect server: run `bcmirakl bootstrap` with the BCMIRAKL_* "
            "credentials in the environment, or create it under Blocks in the UI"
        )
    except RuntimeError as exc:  # Prefect wraps the pydantic error of a saved document that fails the schema
        if not isinstance(exc.__cause__, ValidationError):
            raise
        problems.extend(f"{label}: {_field_problem(error)}" for error in exc.__cause__.errors(include_url=False))
    return None


def _field_problem(error: Any) -> str:
    field = ".".join(str(part) for part in error["loc"]) or "value"
    message = str(error["msg"]).removeprefix("Value error, ")
    if error["type"] == "missing":
        return f"field {field} is missing"
    return f"field {field} {message}" if message.startswith("must") else f"field {field}: {message}"
