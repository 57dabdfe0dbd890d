"""What every API connector shares: the error taxonomy, the retry loop, the quota limiter, the request path."""

from __future__ import annotations

from common.errors import (
    ApiError,
    AuthError,
    BridgeError,
    ConfigurationError,
    ConflictError,
    DataError,
    MalformedResponseError,
    NotFoundError,
    PaginationLoopError,
    PermanentApiError,
    RateLimitError,
    RecordRejectedError,
    TransientApiError,
    UnreadableResponseError,
)
from connectors.http.client import ApiTransport, ErrorMapper, ResponseReader, decode_json, retry_after_seconds
from connectors.http.pagination import LoopGuard, Paginator
from connectors.http.ratelimit import QuotaLimiter
from connectors.http.records import Page, RejectedRecord, RejectionLog, parse_page
from connectors.http.retry import DEFAULT_RETRY_POLICY, RetryPolicy, backoff_delay, call_with_retry

__all__ = [
    "DEFAULT_RETRY_POLICY",
    "ApiError",
    "ApiTransport",
    "AuthError",
    "BridgeError",
    "ConfigurationError",
    "ConflictError",
    "DataError",
    "ErrorMapper",
    "LoopGuard",
    "MalformedResponseError",
    "NotFoundError",
    "Page",
    "PaginationLoopError",
    "Paginator",
    "PermanentApiError",
    "QuotaLimiter",
    "RateLimitError",
    "RecordRejectedError",
    "RejectedRecord",
    "RejectionLog",
    "ResponseReader",
    "RetryPolicy",
    "TransientApiError",
    "UnreadableResponseError",
    "backoff_delay",
    "call_with_retry",
    "decode_json",
    "parse_page",
    "retry_after_seconds",
]
