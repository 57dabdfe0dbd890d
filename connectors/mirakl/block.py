"""Mirakl connection settings as a Prefect credentials Block, so tasks receive a ready client, never a secret.

The sandbox is just another `base_url`. Mirakl's front and operator roles have separate credentials
(`connectors.mirakl.roles`); each role needs exactly one complete way to authenticate, checked when the block
is loaded, before any call.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
from prefect.blocks.core import Block
from pydantic import Field, SecretStr, field_validator, model_validator

from connectors.http.fields import HttpUrlText, check_token
from connectors.mirakl.auth import CREDENTIAL_FIELDS, credential_problem, role_credential_auth
from connectors.mirakl.client import MiraklClient
from connectors.mirakl.roles import Role

__all__ = ["MiraklCredentials"]

_SECRET_FIELDS = ("api_key", "access_token", "oauth_client_secret")


class MiraklCredentials(Block):
    """Where the Mirakl tenant is and the front and operator credentials (API key, access token or OAuth each)."""

    _block_type_name = "Mirakl Credentials"
    _description = "Base URL and front/operator credentials of a Mirakl tenant (or the bridge's Mirakl sandbox)."

    base_url: HttpUrlText = Field(
        description="Tenant root, e.g. https://acme.mirakl.net, or http://localhost:8000/mirakl for the sandbox."
    )
    oauth_token_url: HttpUrlText | None = Field(
        default=None, description="OAuth 2 token endpoint of both roles, e.g. https://auth.mirakl.net/oauth/token."
    )
    front_api_key: SecretStr | None = Field(default=None, description="Front API key, sent raw in Authorization.")
    front_access_token: SecretStr | None = Field(default=None, description="Front generated access token (Bearer).")
    front_oauth_client_id: str | None = Field(default=None, description="Front OAuth 2 client id.")
    front_oauth_client_secret: SecretStr | None = Field(default=None, description="Front OAuth 2 client secret.")
    operator_api_key: SecretStr | None = Field(default=None, description="Operator API key, sent raw.")
    operator_access_token: SecretStr | None = Field(default=None, description="Operator access token (Bearer).")
    operator_oauth_client_id: str | None = Field(default=None, description="Operator OAuth 2 client id.")
    operator_oauth_client_secret: SecretStr | None = Field(default=None, description="Operator OAuth 2 secret.")
    chunk_hosts: list[str] = Field(
        default_factory=list, description="Hosts besides the tenant's that may serve OF54 export chunks."
    )

    # A validator, not the `Token` type: Prefect finds secret fields by their `SecretStr` annotation, and does not
    # look inside `Annotated` within an optional type, so such a field would be saved masked.
    @field_validator(*(f"{role.value}_{field}" for role in Role for field in _SECRET_FIELDS))
    @classmethod
    def _secret_not_empty(cls, value: SecretStr | None) -> SecretStr | None:
        return None if value is None else check_token(value)

    @model_validator(mode="after")
    def _each_role_has_one_complete_credential(self) -> MiraklCredentials:
        problems = [
            problem
            for role in Role
            if (problem := credential_problem(role, self.role_values(role), self.oauth_token_url, _field_name(role)))
        ]
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def role_values(self, role: Role) -> dict[str, str | None]:
        """One role's credential fields, unwrapped, keyed by `CREDENTIAL_FIELDS`."""
        values: dict[str, str | None] = {}
        for field in CREDENTIAL_FIELDS:
            value = getattr(self, f"{role.value}_{field}")
            values[field] = value.get_secret_value() if isinstance(value, SecretStr) else value
        return values

    def get_client(self, transport: httpx.AsyncBaseTransport | None = None, **kwargs: Any) -> MiraklClient:
        """A ready client; `transport` lets tests route it to the in-process sandbox.

        `kwargs` go to the client: `gate` (the call budgets every worker shares through the state store) and
        `sleep` (the clock every Mirakl wait uses).
        """
        return MiraklClient.create(
            self.base_url,
            front=role_credential_auth(oauth_token_url=self.oauth_token_url, **self.role_values(Role.FRONT)),
            operator=role_credential_auth(oauth_token_url=self.oauth_token_url, **self.role_values(Role.OPERATOR)),
            chunk_hosts=self.chunk_hosts,
            transport=transport,
            **kwargs,
        )


def _field_name(role: Role) -> Callable[[str], str]:
    def name(field: str) -> str:
        return field if field == "oauth_token_url" else f"{role.value}_{field}"

    return name
