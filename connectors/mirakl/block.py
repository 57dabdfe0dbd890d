"""Mirakl connection settings as a Prefect credentials Block, so tasks receive a ready client, never a secret.

The sandbox is just another `base_url`. Exactly one way to authenticate must be configured; a half-filled
OAuth setup fails when the block is loaded, before any call.
"""

from __future__ import annotations

import httpx
from prefect.blocks.core import Block
from pydantic import Field, SecretStr, model_validator

from connectors.http import ConfigurationError
from connectors.mirakl.auth import OAuthClientCredentials
from connectors.mirakl.client import MiraklClient

__all__ = ["MiraklCredentials"]


class MiraklCredentials(Block):
    """Where the Mirakl tenant is and how to authenticate: a front API key or OAuth client credentials."""

    _block_type_name = "Mirakl Credentials"
    _description = "Base URL and credentials of a Mirakl tenant (or the bridge's Mirakl sandbox)."

    base_url: str = Field(
        description="Tenant root, e.g. https://acme.mirakl.net, or http://localhost:8000/mirakl for the sandbox."
    )
    api_key: SecretStr | None = Field(default=None, description="Front API key, sent raw in Authorization.")
    oauth_token_url: str | None = Field(
        default=None, description="OAuth 2 token endpoint, e.g. https://auth.mirakl.net/oauth/token."
    )
    oauth_client_id: str | None = Field(default=None, description="OAuth 2 client id.")
    oauth_client_secret: SecretStr | None = Field(default=None, description="OAuth 2 client secret.")

    @model_validator(mode="after")
    def _one_complete_auth_method(self) -> MiraklCredentials:
        oauth_parts = (self.oauth_token_url, self.oauth_client_id, self.oauth_client_secret)
        has_oauth = all(part is not None for part in oauth_parts)
        if any(part is not None for part in oauth_parts) and not has_oauth:
            raise ValueError("Mirakl OAuth needs all of oauth_token_url, oauth_client_id and oauth_client_secret")
        if (self.api_key is None) == (not has_oauth):
            raise ValueError("configure exactly one Mirakl authentication: api_key, or the OAuth trio")
        return self

    def get_client(self, transport: httpx.AsyncBaseTransport | None = None) -> MiraklClient:
        """A ready client; `transport` lets tests route it to the in-process sandbox."""
        if self.api_key is not None:
            return MiraklClient.create(self.base_url, api_key=self.api_key.get_secret_value(), transport=transport)
        if self.oauth_token_url and self.oauth_client_id and self.oauth_client_secret:
            oauth = OAuthClientCredentials(
                self.oauth_token_url, self.oauth_client_id, self.oauth_client_secret.get_secret_value()
            )
            return MiraklClient.create(self.base_url, oauth=oauth, transport=transport)
        raise ConfigurationError("Mirakl credentials carry neither an API key nor OAuth client credentials")
