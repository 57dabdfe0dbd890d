"""One table proves how every Mirakl error answer is classified."""

from __future__ import annotations

import httpx
import pytest

from connectors.http import (
    ApiError,
    AuthError,
    ConflictError,
    NotFoundError,
    PermanentApiError,
    RateLimitError,
    TransientApiError,
)
from connectors.mirakl import map_mirakl_error


def _response(status: int, body: object = None, headers: dict[str, str] | None = None) -> httpx.Response:
    request = httpx.Request("PUT", "https://acme.mirakl.net/api/orders/X-A/ship")
    if body is None:
        return httpx.Response(status, headers=headers, request=request)
    if isinstance(body, str):
        return httpx.Response(status, text=body, headers=headers, request=request)
    return httpx.Response(status, json=body, headers=headers, request=request)


@pytest.mark.parametrize(
    ("status", "body", "headers", "expected", "message"),
    [
        (
            429,
            {"message": "Too many requests", "status": 429},
            {"Retry-After": "7"},
            RateLimitError,
            "Too many requests",
        ),
        (401, {"message": "Unauthorized", "status": 401}, None, AuthError, "Unauthorized"),
        (403, {"message": "Forbidden for this role", "status": 403}, None, AuthError, "Forbidden for this role"),
        (404, {"message": "Order not found", "status": 404}, None, NotFoundError, "Order not found"),
        (
            400,
            {"message": "Order X-A cannot be shipped. Current status is SHIPPED", "status": 400},
            None,
            ConflictError,
            "Order X-A cannot be shipped. Current status is SHIPPED",
        ),
        (409, {"message": "Duplicate", "status": 409}, None, ConflictError, "Duplicate"),
        (
            400,
            {"message": "Error with field offers.price", "status": 400},
            None,
            PermanentApiError,
            "Error with field offers.price",
        ),
        (
            400,
            {"errors": [{"message": "commercial_id is invalid", "field": "commercial_id"}]},
            None,
            PermanentApiError,
            "commercial_id is invalid",
        ),
        (422, "<html>nope</html>", None, PermanentApiError, "Unprocessable Entity"),
        (500, {"message": "Internal error", "status": 500}, None, TransientApiError, "Internal error"),
        (502, None, None, TransientApiError, "Bad Gateway"),
        (503, "Service Unavailable", None, TransientApiError, "Service Unavailable"),
        (408, None, None, TransientApiError, "Request Timeout"),
    ],
)
def test_mirakl_error_answer_maps_to_the_taxonomy(
    status: int, body: object, headers: dict[str, str] | None, expected: type[ApiError], message: str
) -> None:
    error = map_mirakl_error(_response(status, body, headers), "OR24")

    assert type(error) is expected
    assert error.api_message == message
    assert (error.system, error.operation, error.status) == ("mirakl", "OR24", status)


def test_rate_limit_error_carries_retry_after_seconds() -> None:
    error = map_mirakl_error(_response(429, {"message": "slow down"}, {"Retry-After": "12"}), "OR11")

    assert isinstance(error, RateLimitError)
    assert error.retry_after == 12.0


def test_rate_limit_without_retry_after_leaves_the_wait_to_backoff() -> None:
    error = map_mirakl_error(_response(429), "OR11")

    assert isinstance(error, RateLimitError)
    assert error.retry_after is None


def test_error_message_is_truncated_and_request_id_kept() -> None:
    error = map_mirakl_error(_response(400, {"message": "x" * 1000}, {"X-Request-Id": "req-42"}), "OR01")

    assert len(error.api_message) == 300
    assert error.request_id == "req-42"
