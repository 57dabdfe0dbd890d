"""Connection settings read from the environment, validated once at start-up.

Business mappings (carriers, zones, thresholds) live in the versioned config file (`bcmirakl.config`); this
module only says where the systems are and how to authenticate. Nothing is read at import time: call
`load_settings()` where a run starts, so a missing value fails that run before any call, naming the variable.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from connectors.http.errors import ConfigurationError

__all__ = ["BridgeSettings", "load_settings"]

ENV_PREFIX = "BCMIRAKL_"


class BridgeSettings(BaseSettings):
    """Where BigCommerce, Mirakl, the ERP and the state database are, and the credentials for each."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="ignore")

    database_url: str | None = Field(default=None, description="state store URL; SQLite file when unset")
    config_file: Path | None = Field(default=None, description="business configuration YAML; packaged default")
    artifacts_dir: Path = Field(default=Path(".bcmirakl/artifacts"), description="local copies of run artifacts")

    bc_base_url: str = Field(default="https://api.bigcommerce.com", description="BigCommerce API base URL")
    bc_store_hash: str = Field(description="BigCommerce store hash")
    bc_access_token: SecretStr = Field(description="BigCommerce API account access token")
    bc_reserve_share: float = Field(default=0.1, ge=0.0, lt=1.0, description="quota share left for other apps")
    bc_concurrency_limit: str | None = Field(
        default=None, description="Prefect global concurrency limit every BigCommerce request takes a slot of"
    )

    mirakl_base_url: str = Field(description="Mirakl tenant base URL, e.g. https://acme.mirakl.net")
    mirakl_api_key: SecretStr | None = Field(default=None, description="Mirakl front API key (raw header)")
    mirakl_oauth_token_url: str | None = Field(default=None, description="Mirakl OAuth token endpoint")
    mirakl_oauth_client_id: str | None = Field(default=None, description="Mirakl OAuth client id")
    mirakl_oauth_client_secret: SecretStr | None = Field(default=None, description="Mirakl OAuth client secret")

    erp_base_url: str = Field(description="ERP order sink base URL (native lines are POSTed to {base}/orders)")
    erp_token: SecretStr = Field(description="ERP sink bearer token")


def load_settings(**overrides: Any) -> BridgeSettings:
    """Read and validate the environment; a missing or bad value raises `ConfigurationError` naming it.

    `overrides` (values read from credential Blocks under deployments) win over the environment.
    """
    try:
        settings = BridgeSettings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(
            f"{ENV_PREFIX}{'_'.join(str(p) for p in err['loc']).upper()}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigurationError(f"invalid or missing settings: {problems}") from None
    oauth = (settings.mirakl_oauth_token_url, settings.mirakl_oauth_client_id, settings.mirakl_oauth_client_secret)
    if settings.mirakl_api_key is None and not all(oauth):
        raise ConfigurationError(
            f"Mirakl credentials missing: set {ENV_PREFIX}MIRAKL_API_KEY, or all of "
            f"{ENV_PREFIX}MIRAKL_OAUTH_TOKEN_URL, {ENV_PREFIX}MIRAKL_OAUTH_CLIENT_ID and "
            f"{ENV_PREFIX}MIRAKL_OAUTH_CLIENT_SECRET"
        )
    return settings
