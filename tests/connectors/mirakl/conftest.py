"""Fixtures for the Mirakl connector tests: a recording sleep and a client over a fake server."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx
import pytest

from connectors.http import RetryPolicy
from connectors.mirakl import ApiKeyAuth, MiraklClient
from connectors.mirakl.auth import RoleAuth
from connectors.mirakl.roles import Role
from tests.connectors.mirakl.mirakl_fakes import API_KEY, BASE_URL, OPERATOR_KEY
from tests.support.doubles import RecordingSleep


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def make_client(sleep: RecordingSleep) -> Callable[..., MiraklClient]:
    """Build a client whose server is `handler`; jitter is zero so waits are exact."""

    def build(
        handler: Callable[[httpx.Request], httpx.Response],
        *,
        base_url: str = BASE_URL,
        policy: RetryPolicy | None = None,
        **kw: Any,
    ) -> MiraklClient:
        auth = RoleAuth({Role.FRONT: ApiKeyAuth(API_KEY), Role.OPERATOR: ApiKeyAuth(OPERATOR_KEY)})
        http = httpx.AsyncClient(base_url=base_url, transport=httpx.MockTransport(handler), auth=auth)
        return MiraklClient(http, sleep=sleep, rand=lambda: 0.0, retry_policy=policy or RetryPolicy(), **kw)

    return build
