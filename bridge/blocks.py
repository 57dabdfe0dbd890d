"""Credential Blocks as the source of connection settings under deployments.

`bcmirakl bootstrap` saves the credentials it finds in the environment as Prefect Blocks; a deployment run
then needs only `BCMIRAKL_CREDENTIAL_BLOCKS=<prefix>` and reads the secrets from the server, so workers carry
no tokens in their environment and an operator rotates a token in the UI. The Blocks only feed
`BridgeSettings`: validation, and the one place each secret is unwrapped, stay where they were.

Block names, for prefix `bcmirakl`: `bcmirakl-bigcommerce` (BigCommerce Credentials), `bcmirakl-mirakl`
(Mirakl Credentials), `bcmirakl-erp` (Secret holding the ERP base URL and token) and, when the state store is
not the default SQLite file, `bcmirakl-database-url` (Secret).
"""

from __future__ import annotations

import os
from typing import Any

from bridge.settings import ENV_PREFIX, BridgeSettings
from connectors.mirakl.auth import CREDENTIAL_FIELDS
from connectors.mirakl.roles import Role

__all__ = ["CREDENTIAL_BLOCKS_ENV", "block_names", "credential_overrides", "save_credential_blocks"]

CREDENTIAL_BLOCKS_ENV = f"{ENV_PREFIX}CREDENTIAL_BLOCKS"
# The Mirakl Block's per-role fields; the settings carry the same names behind a `mirakl_` prefix.
_MIRAKL_ROLE_FIELDS = tuple(f"{role.value}_{field}" for role in Role for field in CREDENTIAL_FIELDS)


def block_names(prefix: str) -> dict[str, str]:
    return {
        "bigcommerce": f"{prefix}-bigcommerce",
        "mirakl": f"{prefix}-mirakl",
        "erp": f"{prefix}-erp",
        "database_url": f"{prefix}-database-url",
    }


async def credential_overrides(prefix: str | None = None) -> dict[str, Any]:
    """Settings read from the credential Blocks named by `prefix` (default: `BCMIRAKL_CREDENTIAL_BLOCKS`).

    Empty when no prefix is configured, so the demo and tests keep using the environment.
    """
    prefix = prefix or os.environ.get(CREDENTIAL_BLOCKS_ENV)
    if not prefix:
        return {}
    from prefect.blocks.system import Secret

    from connectors.bigcommerce.block import BigCommerceCredentials
    from connectors.mirakl.block import MiraklCredentials

    names = block_names(prefix)
    bigcommerce = await BigCommerceCredentials.aload(names["bigcommerce"])
    mirakl = await MiraklCredentials.aload(names["mirakl"])
    erp = (await Secret.aload(names["erp"])).get()
    values: dict[str, Any] = {
        "bc_base_url": bigcommerce.base_url,
        "bc_store_hash": bigcommerce.store_hash,
        "bc_access_token": bigcommerce.access_token,
        "bc_reserve_share": bigcommerce.reserve_share,
        "mirakl_base_url": mirakl.base_url,
        "mirakl_oauth_token_url": mirakl.oauth_token_url,
        "mirakl_chunk_hosts": mirakl.chunk_hosts,
        **{f"mirakl_{name}": getattr(mirakl, name) for name in _MIRAKL_ROLE_FIELDS},
        "erp_base_url": erp["base_url"],
        "erp_token": erp["token"],
    }
    database = await _optional_secret(Secret, names["database_url"])
    if database:
        values["database_url"] = database
    return values


async def save_credential_blocks(settings: BridgeSettings, prefix: str) -> list[str]:
    """Save (or overwrite) the credential Blocks for `settings`; returns the names written."""
    from prefect.blocks.system import Secret

    from connectors.bigcommerce.block import BigCommerceCredentials
    from connectors.mirakl.block import MiraklCredentials

    names = block_names(prefix)
    await BigCommerceCredentials(
        base_url=settings.bc_base_url,
        store_hash=settings.bc_store_hash,
        access_token=settings.bc_access_token,
        reserve_share=settings.bc_reserve_share,
    ).asave(names["bigcommerce"], overwrite=True)
    await MiraklCredentials(
        base_url=settings.mirakl_base_url,
        oauth_token_url=settings.mirakl_oauth_token_url,
        chunk_hosts=settings.mirakl_chunk_hosts,
        **{name: getattr(settings, f"mirakl_{name}") for name in _MIRAKL_ROLE_FIELDS},
    ).asave(names["mirakl"], overwrite=True)
    erp = {"base_url": settings.erp_base_url, "token": settings.erp_token.get_secret_value()}
    await Secret(value=erp).asave(names["erp"], overwrite=True)
    written = [names["bigcommerce"], names["mirakl"], names["erp"]]
    if settings.database_url:
        await Secret(value=settings.database_url).asave(names["database_url"], overwrite=True)
        written.append(names["database_url"])
    return written


async def _optional_secret(secret_type: Any, name: str) -> Any:
    from prefect.exceptions import ObjectNotFound

    try:
        return (await secret_type.aload(name)).get()
    except (ObjectNotFound, ValueError):
        return None
