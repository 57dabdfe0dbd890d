"""The Prefect credentials Block for the ERP order sink: base URL and bearer token, typed like the others.

It replaces a raw JSON `Secret`, which the UI shows as "Value: None" and lets an operator overwrite with a
plain string that broke every run. Tasks receive a ready client from `get_client()`, never the token.
"""

from __future__ import annotations

from typing import Any

import httpx
from prefect.blocks.core import Block
from pydantic import Field

from connectors.erp import ErpClient
from connectors.http.fields import HttpUrlText, Token

__all__ = ["ErpCredentials"]


class ErpCredentials(Block):
    """Where the ERP's order intake is, and the bearer token it expects."""

    _block_type_name = "ERP Credentials"
    _description = "Base URL and bearer token of the ERP order sink that receives the store's native order lines."

    base_url: HttpUrlText = Field(
        description="Order intake root; native lines are POSTed to {base_url}/orders. The sandbox's is .../erp."
    )
    token: Token = Field(description="Bearer token the ERP expects in Authorization.")

    def get_client(self, transport: httpx.AsyncBaseTransport | None = None, **kwargs: Any) -> ErpClient:
        """A ready client; `kwargs` go to `ErpClient` (`retry_policy`, `sleep`)."""
        return ErpClient.create(self.base_url, self.token.get_secret_value(), transport=transport, **kwargs)
