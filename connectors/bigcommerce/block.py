"""The Prefect credentials Block for a BigCommerce store: where the token lives, and the one place it is unwrapped.

Tasks receive a ready client from `get_client()`, never the raw token. The sandbox is just another `base_url`.
"""

from __future__ import annotations

from typing import Any

import httpx
from prefect.blocks.core import Block
from pydantic import Field

from connectors.bigcommerce.client import BigCommerceClient
from connectors.bigcommerce.settings import API_BASE_URL
from connectors.http import QuotaLimiter
from connectors.http.fields import HttpUrlText, Token
from connectors.http.ratelimit import SharedGate

__all__ = ["BigCommerceCredentials"]


class BigCommerceCredentials(Block):
    """Connection settings of one BigCommerce store (store-level API account)."""

    _block_type_name = "BigCommerce Credentials"
    _description = "Store hash and API-account token for the BigCommerce REST Management API."

    base_url: HttpUrlText = Field(
        default=API_BASE_URL,
        description="API root: https://api.bigcommerce.com for a real store, or the sandbox URL with its prefix.",
    )
    store_hash: str = Field(
        min_length=1, pattern=r"^[^/\s]+$", description="The store's permanent id, as in /stores/{store_hash}/v3."
    )
    access_token: Token = Field(description="The API account's access token, sent as X-Auth-Token.")
    reserve_share: float = Field(
        default=0.1,
        ge=0.0,
        lt=1.0,
        description="Share of the store's request quota left free for the store's other apps.",
    )

    def get_client(
        self,
        transport: httpx.AsyncBaseTransport | None = None,
        *,
        shared_gate: SharedGate | None = None,
        **kwargs: Any,
    ) -> BigCommerceClient:
        """A client for this store; close it with `aclose()` or use it as an async context manager.

        `shared_gate` is the quota every worker shares (a Prefect rate limit under deployments): each request
        takes a slot of it on top of this client's own limiter. `kwargs` go to the client (`location_id`,
        `sleep`).
        """
        limiter = QuotaLimiter(reserve_share=self.reserve_share, shared_gate=shared_gate)
        return BigCommerceClient.create(
            self.base_url,
            self.store_hash,
            self.access_token.get_secret_value(),
            transport=transport,
            reserve_share=self.reserve_share,
            limiter=limiter,
            **kwargs,
        )
