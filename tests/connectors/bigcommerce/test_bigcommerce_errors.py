"""The one error-mapping function: every BigCommerce error shape lands in the right taxonomy class and message."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from connectors.bigcommerce import BatchRejectedError, map_bigcommerce_error
from connectors.http import (
    AuthError,
    ConflictError,
    NotFoundError,
    PermanentApiError,
    RateLimitError,
    TransientApiError,
)
from tests.connectors.bigcommerce.bc_doubles import load_fixture

V3_422 = {
    "status": 422,
    "title": "JSON data is missing or invalid",
    "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
    "errors": {"name": "error.expected.jsstring"},
}
PROBLEM_422 = {
    "status": 422,
    "title": "[Item with variant_id 106 is tracked by product, please update stock by product id]",
    "type": "https://developer.bigcommerce.com/api-docs/getting-started/api-status-codes",
    "errors": {},
}


def _response(status: int, body: Any = None, *, headers: dict[str, str] | None = None, raw: bytes | None = None):
    content_type = "application/problem+json" if body is PROBLEM_422 else "application/json"
    if raw is not None:
        return httpx.Response(status, content=raw, headers=headers)
    if body is None:
        return httpx.Response(status, headers=headers)
    return httpx.Response(status, json=body, headers={"content-type": content_type, **(headers or {})})


@pytest.mark.parametrize(
    ("status", "body", "headers", "expected", "message"),
    [
        pytest.param(
            400,
            [{"status": 400, "message": "The field 'item_total' cannot be written to."}],
            None,
            PermanentApiError,
            "The field 'item_total' cannot be written to.",
            id="v2-array",
        ),
        pytest.param(
            413,
            [{"status": 413, "message": "Limit too big", "details": {"max_limit": 250}}],
            None,
            PermanentApiError,
            "Limit too big",
            id="v2-array-with-details",
        ),
        pytest.param(
            422,
            V3_422,
            None,
            PermanentApiError,
            "JSON data is missing or invalid (name: error.expected.jsstring)",
            id="v3-object",
        ),
        pytest.param(
            422,
            PROBLEM_422,
            None,
            PermanentApiError,
            "[Item with variant_id 106 is tracked by product, please update stock by product id]",
            id="problem+json",
        ),
        pytest.param(
            400,
            {"status": 400, "title": "Input is invalid", "type": "/x", "detail": "Syntax error"},
            None,
            PermanentApiError,
            "Input is invalid: Syntax error",
            id="v3-detail",
        ),
        pytest.param(
            422,
            load_fixture("variants_batch_422.json"),
            None,
            BatchRejectedError,
            "Invalid price (price: must be greater than or equal to 0)",
            id="batch-errors",
        ),
        pytest.param(
            422,
            load_fixture("metafields_partial_422.json"),
            None,
            BatchRejectedError,
            "Bulk operation has failed (1: Metafield with the same key already exists)",
            id="metafield-partial-success",
        ),
        pytest.param(
            422,
            {"data": [{"status": 422, "title": "Unable to provide store credit for a guest customer.", "type": "/x"}]},
            None,
            PermanentApiError,
            "Unable to provide store credit for a guest customer.",
            id="refund-data-array",
        ),
        pytest.param(
            429,
            {"status": 429, "title": "Too many requests"},
            {"X-Rate-Limit-Time-Reset-Ms": "4500", "X-Rate-Limit-Requests-Left": "0"},
            RateLimitError,
            "Too many requests",
            id="429-with-reset",
        ),
        pytest.param(429, None, None, RateLimitError, "Too Many Requests", id="429-header-less"),
        pytest.param(408, None, None, TransientApiError, "Request Timeout", id="408-server-timeout"),
        pytest.param(401, {"status": 401, "title": "Unauthorized"}, None, AuthError, "Unauthorized", id="401"),
        pytest.param(
            403,
            [{"status": 403, "message": "You don't have a required scope to access the endpoint"}],
            None,
            AuthError,
            "You don't have a required scope to access the endpoint",
            id="403-v2",
        ),
        pytest.param(
            404,
            {"status": 404, "title": "The requested resource was not found.", "instance": "/x"},
            None,
            NotFoundError,
            "The requested resource was not found.",
            id="404",
        ),
        pytest.param(
            409,
            {"status": 409, "title": "Duplicate", "errors": {"sku": "already used"}},
            None,
            ConflictError,
            "Duplicate (sku: already used)",
            id="409",
        ),
        pytest.param(
            503,
            {"data": [{"order_id": 1, "status": 503, "error": "Tax service gone away"}], "meta": {}},
            None,
            TransientApiError,
            "Tax service gone away",
            id="503-refund-shape",
        ),
        pytest.param(500, None, None, TransientApiError, "Internal Server Error", id="500-empty"),
        pytest.param(
            507,
            {"status": 507, "title": "Plan limit reached"},
            None,
            PermanentApiError,
            "Plan limit reached",
            id="507-plan-limit-is-permanent",
        ),
    ],
)
def test_error_response_maps_to_taxonomy_class_and_api_message(status, body, headers, expected, message):
    error = map_bigcommerce_error(_response(status, body, headers=headers), "update_variants")

    assert type(error) is expected
    assert error.api_message == message
    assert (error.system, error.operation, error.status) == ("bigcommerce", "update_variants", status)


def test_429_retry_after_prefers_reset_ms_then_x_retry_after_then_none():
    with_reset = map_bigcommerce_error(_response(429, headers={"X-Rate-Limit-Time-Reset-Ms": "4500"}), "op")
    with_retry_after = map_bigcommerce_error(_response(429, headers={"X-Retry-After": "7"}), "op")
    header_less = map_bigcommerce_error(_response(429), "op")

    assert [with_reset.retry_after, with_retry_after.retry_after, header_less.retry_after] == [4.5, 7.0, None]


def test_non_json_error_body_falls_back_to_reason_phrase():
    error = map_bigcommerce_error(_response(502, raw=b"<html>bad gateway</html>"), "get_order")

    assert isinstance(error, TransientApiError)
    assert error.api_message == "Bad Gateway"


def test_batch_errors_expose_item_keys_from_errors_and_instance():
    error = map_bigcommerce_error(_response(422, load_fixture("variants_batch_422.json")), "update_variants")

    assert isinstance(error, BatchRejectedError)
    assert [(e.keys, e.message) for e in error.item_errors] == [
        (("price", "/catalog/variants/502"), "Invalid price (price: must be greater than or equal to 0)")
    ]


def test_partial_success_keeps_records_saved_anyway():
    error = map_bigcommerce_error(_response(422, load_fixture("metafields_partial_422.json")), "op")

    assert [record["id"] for record in error.accepted] == [9001]
    assert [(e.keys, e.message) for e in error.item_errors] == [
        (("1",), "Bulk operation has failed: Metafield with the same key already exists")
    ]


def test_long_messages_are_truncated_and_request_id_kept():
    body = [{"status": 400, "message": "x" * 2000}]
    error = map_bigcommerce_error(_response(400, body, headers={"X-Request-Id": "req-7"}), "op")

    assert len(error.api_message) == 500
    assert error.api_message.endswith("...")
    assert error.request_id == "req-7"
