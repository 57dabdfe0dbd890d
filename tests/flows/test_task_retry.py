"""Task-level retries repeat transient API failures only, in async tasks too."""

from __future__ import annotations

import pytest
from prefect import flow, task

from common.errors import PermanentApiError, TransientApiError
from tasks.retry import TASK_RETRY

FAST_RETRY = {**TASK_RETRY, "retry_delay_seconds": 0, "retry_jitter_factor": None}


async def test_async_task_retries_transient_errors_until_success() -> None:
    attempts: list[int] = []

    @task(**FAST_RETRY)
    async def flaky() -> str:
        attempts.append(1)
        if len(attempts) < 3:
            raise TransientApiError("503", system="mirakl", operation="OR11", status=503)
        return "ok"

    @flow
    async def run() -> str:
        return await flaky()

    assert await run() == "ok"
    assert len(attempts) == 3


async def test_async_task_never_retries_a_permanent_error() -> None:
    attempts: list[int] = []

    @task(**FAST_RETRY)
    async def refused() -> None:
        attempts.append(1)
        raise PermanentApiError("422", system="bigcommerce", operation="update_variants", status=422)

    @flow
    async def run() -> None:
        await refused()

    with pytest.raises(PermanentApiError):
        await run()
    assert len(attempts) == 1
