"""Connection settings read from the environment, validated once at start-up.

Business mappings (carriers, zones, thresholds) live in the versioned config file (`bridge.config`); this
module only says where the systems are and how to authenticate. Nothing is read at import time: call
`load_settings()` where a run starts, so a missing value fails that run before any call, naming the variable.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from common.errors import ConfigurationError
from connectors.http.fields import check_http_url
from connectors.mirakl.auth import CREDENTIAL_FIELDS, credential_problem
from connectors.mirakl.roles import Role

__all__ = [
    "BridgeSettings",
    "RunSettings",
    "check_database_url",
    "load_run_settings",
    "load_settings",
    "mirakl_role_values",
]

ENV_PREFIX = "BCMIRAKL_"
_S = TypeVar("_S", bound="RunSettings")


class RunSettings(BaseSettings):
    """What a run needs besides credentials: the state database, the config file, where artifacts go.

    Under deployments the credentials come from Prefect Blocks (`bridge.blocks`), so a worker's environment
    holds only these.
    """

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    database_url: str | None = Field(default=None, description="state store URL; SQLite file when unset")
    config_file: Path | None = Field(default=None, description="business configuration YAML; packaged default")
    artifacts_dir: Path = Field(default=Path(".bcmirakl/artifacts"), description="local copies of run artifacts")
    bc_location_id: int | None = Field(
        default=None, description="inventory location the bridge writes stock to; the default location (1) when unset"
    )
    bc_concurrency_limit: str | None = Field(
        default=None, description="Prefect global concurrency limit every BigCommerce request takes a slot of"
    )

    @field_validator("database_url")
    @classmethod
    def _is_database_url(cls, value: str | None) -> str | None:
        return check_database_url(value)


class BridgeSettings(RunSettings):
    """Where BigCommerce, Mirakl and the ERP are, and the credentials for each, read from the environment."""

    bc_base_url: str = Field(default="https://api.bigcommerce.com", description="BigCommerce API base URL")
    bc_store_hash: str = Field(description="BigCommerce store hash")
    bc_access_token: SecretStr = Field(description="BigCommerce API account access token")
    bc_reserve_share: float = Field(default=0.1, ge=0.0, lt=1.0, description="quota share left for other apps")

    # Mirakl's front and operator roles have separate credentials (connectors.mirakl.roles); each role takes
    # exactly one of an API key, a generated access token or an OAuth client.
    mirakl_base_url: str = Field(description="Mirakl tenant base URL, e.g. https://acme.mirakl.net")
    mirakl_oauth_token_url: str | None = Field(default=None, description="Mirakl OAuth token endpoint (both roles)")
    mirakl_front_api_key: SecretStr | None = Field(default=None, description="Mirakl front API key (raw header)")
    mirakl_front_access_token: SecretStr | None = Field(default=None, description="Mirakl front access token")
    mirakl_front_oauth_client_id: str | None = Field(default=None, description="Mirakl front OAuth client id")
    mirakl_front_oauth_client_secret: SecretStr | None = Field(default=None, description="front OAuth secret")
    mirakl_operator_api_key: SecretStr | None = Field(default=None, description="Mirakl operator API key")
    mirakl_operator_access_token: SecretStr | None = Field(default=None, description="Mirakl operator token")
    mirakl_operator_oauth_client_id: str | None = Field(default=None, description="operator OAuth client id")
    mirakl_operator_oauth_client_secret: SecretStr | None = Field(default=None, description="operator OAuth secret")
    mirakl_chunk_hosts: list[str] = Field(
        default_factory=list,
        description="hosts besides the tenant's that may serve OF54 export chunks (a CDN or custom domain)",
    )

    erp_base_url: str = Field(description="ERP order sink base URL (native lines are POSTed to {base}/orders)")
    erp_token: SecretStr = Field(description="ERP sink bearer token")

    @field_validator("bc_base_url", "mirakl_base_url", "erp_base_url", "mirakl_oauth_token_url")
    @classmethod
    def _is_http_url(cls, value: str | None) -> str | None:
        """A base URL without scheme or host fails here, not after a run's worth of retries on every call."""
        return None if value is None else check_http_url(value)


def check_database_url(value: str | None) -> str | None:
    """The state store URL, or None for the default SQLite file; `ValueError` when SQLAlchemy cannot use it.

    SQLAlchemy's own parser decides, so the message names the variable instead of a driver traceback later.
    """
    if value is None or not value.strip():
        return None
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError

    try:
        make_url(value.strip()).get_dialect()
    except (ArgumentError, NoSuchModuleError):
        raise ValueError(
            "must be a SQLAlchemy database URL of an installed driver, e.g. postgresql+psycopg://user@host/db"
        ) from None
    return value.strip()


def load_settings(**overrides: Any) -> BridgeSettings:
    """Read and validate the environment; a missing or bad value raises `ConfigurationError` naming it.

    `overrides` win over the environment.
    """
    settings = _validated(BridgeSettings, overrides)
    # Both roles are required: Mirakl documents them as separate keys and no stored doc says one key may hold both.
    problems = [
        problem
        for role in Role
        if (
            problem := credential_problem(
                role, mirakl_role_values(settings, role), settings.mirakl_oauth_token_url, _env_name(role)
            )
        )
    ]
    if problems:
        raise ConfigurationError("; ".join(problems))
    return settings


def load_run_settings(**overrides: Any) -> RunSettings:
    """The environment's settings other than credentials (a deployment run reads those from Blocks)."""
    return _validated(RunSettings, overrides)


def _validated(kind: type[_S], overrides: dict[str, Any]) -> _S:
    try:
        return kind(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{ENV_PREFIX}{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigurationError(f"invalid or missing settings: {problems}") from None


def mirakl_role_values(settings: BridgeSettings, role: Role) -> dict[str, str | None]:
    """One role's credential settings, unwrapped, keyed by `CREDENTIAL_FIELDS`."""
    values: dict[str, str | None] = {}
    for field in CREDENTIAL_FIELDS:
        value = getattr(settings, f"mirakl_{role.value}_{field}")
        values[field] = value.get_secret_value() if isinstance(value, SecretStr) else value
    return values


def _env_name(role: Role) -> Callable[[str], str]:
    def name(field: str) -> str:
        if field == "oauth_token_url":
            return f"{ENV_PREFIX}MIRAKL_OAUTH_TOKEN_URL"
        return f"{ENV_PREFIX}MIRAKL_{role.value.upper()}_{field.upper()}"

    return name
