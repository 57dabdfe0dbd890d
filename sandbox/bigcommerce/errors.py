"""BigCommerce's error bodies, one exception to raise them from any route, and the app's exception handlers.

v2 answers a JSON array of `{status, message, details?}`; v3 answers `{status, title, type, errors?}` (served as
`application/problem+json` by the Inventory API); a few endpoints document their own envelope (`batch_errors` on
variant batches, `{"data": [...]}` on refunds), which routes pass in as `body` (bigcommerce.md §7.5).
"""

from __future__ import annotations

import json
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from sandbox.bigcommerce.settings import ERROR_TYPE

__all__ = ["ApiError", "api_version", "error_response", "install_error_handlers"]

PROBLEM_JSON = "application/problem+json"


class ApiError(Exception):
    """Raised by routes; rendered in the shape of the API generation (`version` is "v2" or "v3")."""

    def __init__(
        self,
        version: str,
        status: int,
        title: str,
        *,
        errors: dict[str, Any] | None = None,
        detail: str | None = None,
        details: dict[str, Any] | None = None,
        body: Any = None,
        problem_json: bool = False,
    ) -> None:
        super().__init__(title)
        self.version = version
        self.status = status
        self.title = title
        self.errors = errors
        self.detail = detail
        self.details = details
        self.body = body
        self.problem_json = problem_json

    def response(self) -> Response:
        if self.body is not None:
            content = self.body
        elif self.version == "v2":
            entry: dict[str, Any] = {"status": self.status, "message": self.title}
            if self.details:
                entry["details"] = self.details
            content = [entry]
        else:
            content = {"status": self.status, "title": self.title, "type": ERROR_TYPE}
            if self.errors is not None:
                content["errors"] = self.errors
            if self.detail is not None:
                content["detail"] = self.detail
        media_type = PROBLEM_JSON if self.problem_json else "application/json"
        return Response(json.dumps(content, default=str), status_code=self.status, media_type=media_type)


def api_version(path: str) -> str:
    return "v2" if "/v2/" in path else "v3"


def error_response(path: str, status: int, headers: dict[str, str] | None = None) -> Response:
    """A bodied error for `status` with the reason phrase as message, shaped for the path's API generation."""
    try:
        title = HTTPStatus(status).phrase
    except ValueError:
        title = "Error"
    error = ApiError(api_version(path), status, title, problem_json="/v3/inventory/" in path)
    response = error.response()
    response.headers.update(headers or {})
    return response


def install_error_handlers(app: FastAPI) -> None:
    """Route-not-found, wrong method and unparsable path parameters also answer in BigCommerce's shapes."""

    async def on_api_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, ApiError)
        return exc.response()

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error_response(request.url.path, exc.status_code)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        version = api_version(request.url.path)
        if version == "v2":
            return ApiError(version, 404, "The requested resource was not found.").response()
        return ApiError(version, 404, "The requested resource was not found.", errors={}).response()

    app.add_exception_handler(ApiError, on_api_error)
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
