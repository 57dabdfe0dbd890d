"""The ERP sink client: idempotent order delivery, 200 and 201 both success, errors classified."""

from __future__ import annotations

import json

import httpx
import pytest

from connectors.erp import ErpClient, map_erp_error
from connectors.http import (
    AuthError,
    ConfigurationError,
    ConflictError,
    PermanentApiError,
    RateLimitError,
    RetryPolicy,
    TransientApiError,
)
from tests.support.doubles import RecordingSleep


def _client(transport: httpx.MockTransport, sleep: RecordingSleep | None = None) -> ErpClient:
    return ErpClient.create(
        "http://sandbox/erp",
        "erp-token",
        transport,
        sleep=sleep or RecordingSleep(),
        rand=lambda: 0.0,
        retry_policy=RetryPolicy(max_attempts=3),
    )


PAYLOAD = {"order_id": "BC1001", "lines": [{"sku": "NAT-1", "quantity": 2, "price": "12.50"}]}


async def test_send_order_posts_with_idempotency_key_and_bearer_token() -> None:
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(201, json={"erp_order_id": "ERP-77", "status": "received"})

    receipt = await _client(httpx.MockTransport(handler)).send_order(PAYLOAD, "bc-order-1001")

    request = seen[0]
    assert (request.method, request.url.path) == ("POST", "/erp/orders")
    assert request.headers["Idempotency-Key"] == "bc-order-1001"
    assert request.headers["Authorization"] == "Bearer erp-token"
    assert json.loads(request.content) == PAYLOAD
    assert (receipt.status_code, receipt.duplicate, receipt.erp_order_id) == (201, False, "ERP-77")


async def test_a_200_answer_means_the_erp_already_had_the_order() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"erp_order_id": "ERP-77"}))

    receipt = await _client(transport).send_order(PAYLOAD, "bc-order-1001")

    assert (receipt.status_code, receipt.duplicate, receipt.idempotency_key) == (200, True, "bc-order-1001")


async def test_a_503_is_retried_with_the_same_idempotency_key() -> None:
    keys: list[str] = []
    answers = iter([httpx.Response(503), httpx.Response(201, json={"erp_order_id": "ERP-78"})])

    def handler(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers["Idempotency-Key"])
        return next(answers)

    sleep = RecordingSleep()
    receipt = await _client(httpx.MockTransport(handler), sleep).send_order(PAYLOAD, "bc-order-1002")

    assert keys == ["bc-order-1002", "bc-order-1002"]
    assert sleep.waits == [0.5]
    assert receipt.erp_order_id == "ERP-78"


async def test_a_garbled_receipt_is_asked_for_again_with_the_same_idempotency_key() -> None:
    keys: list[str] = []
    answers = iter(
        [
            httpx.Response(201, content=b'{"erp_order_id": "ERP-', headers={"Content-Type": "application/json"}),
            httpx.Response(200, json={"erp_order_id": "ERP-79"}),
        ]
    )

    def handler(request: httpx.Request) -> httpx.Response:
        keys.append(request.headers["Idempotency-Key"])
        return next(answers)

    sleep = RecordingSleep()
    receipt = await _client(httpx.MockTransport(handler), sleep).send_order(PAYLOAD, "bc-order-1003")

    assert keys == ["bc-order-1003", "bc-order-1003"]
    assert sleep.waits == [0.5]
    assert (receipt.erp_order_id, receipt.duplicate) == ("ERP-79", True)


async def test_a_422_is_permanent_after_one_call() -> None:
    calls: list[int] = []

    def handler(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        return httpx.Response(422, json={"message": "lines must not be empty"})

    with pytest.raises(PermanentApiError, match="lines must not be empty"):
        await _client(httpx.MockTransport(handler)).send_order({"order_id": "X", "lines": []}, "k")
    assert calls == [1]


@pytest.mark.parametrize(
    ("status", "headers", "expected"),
    [
        (401, {}, AuthError),
        (403, {}, AuthError),
        (409, {}, ConflictError),
        (429, {"Retry-After": "4"}, RateLimitError),
        (500, {}, TransientApiError),
        (400, {}, PermanentApiError),
    ],
)
def test_erp_error_answers_map_to_the_taxonomy(status: int, headers: dict[str, str], expected: type[Exception]) -> None:
    response = httpx.Response(status, headers=headers, request=httpx.Request("POST", "http://erp/orders"))

    error = map_erp_error(response, "send_order")

    assert type(error) is expected
    assert (error.system, error.status) == ("erp", status)
    if isinstance(error, RateLimitError):
        assert error.retry_after == 4.0


def test_create_refuses_missing_configuration() -> None:
    with pytest.raises(ConfigurationError):
        ErpClient.create("http://erp", "")
