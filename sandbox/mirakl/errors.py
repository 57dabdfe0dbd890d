"""Mirakl's error contract: every 4xx/5xx is `{"message": ..., "status": n}`, and bad input is a 400.

FastAPI's own defaults (422 with `detail`, `{"detail": "Not Found"}`) would teach a client the wrong shapes, so
every error path, including validation failures, unknown routes and injected faults, goes through here.
"""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import Request
from starlette.responses import Response

from sandbox.mirakl.formats import MiraklJSONResponse

__all__ = ["MiraklError", "error_response", "install_error_handlers", "read_body", "render_fault"]

ModelT = TypeVar("ModelT", bound=BaseModel)

FAULT_RETRY_AFTER_SECONDS = 2


class MiraklError(Exception):
    """Raised by the emulator's domain code; rendered as Mirakl's error body."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def error_response(status: int, message: str, headers: dict[str, str] | None = None) -> Response:
    return MiraklJSONResponse({"message": message, "status": status}, status_code=status, headers=headers)


def render_fault(request: Request, status: int) -> Response:
    """Injected faults look like Mirakl's own: the usual body, and `Retry-After` (seconds) on a 429."""
    if status == 429:
        return error_response(429, "Too Many Requests", {"Retry-After": str(FAULT_RETRY_AFTER_SECONDS)})
    return error_response(status, "Internal Server Error" if status >= 500 else "Request rejected")


def _field_message(errors: list[Any]) -> str:
    first = errors[0]
    location = ".".join(str(part) for part in first.get("loc", ()) if part not in ("body", "query", "path"))
    return f"Error with field {location}. {first.get('msg', 'Invalid value')}."


async def read_body(request: Request, model: type[ModelT]) -> ModelT:
    """Parse a JSON body into `model` (numbers straight into Decimal), or raise Mirakl's 400."""
    raw = await request.body()
    if not raw:
        raise MiraklError(400, "The request body is empty")
    try:
        return model.model_validate_json(raw)
    except ValidationError as exc:
        if any(err["type"] == "json_invalid" for err in exc.errors()):
            raise MiraklError(400, "The request body is not valid JSON") from exc
        raise MiraklError(400, _field_message(exc.errors())) from exc


def install_error_handlers(app: FastAPI) -> None:
    async def on_mirakl_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, MiraklError)
        return error_response(exc.status, exc.message)

    async def on_validation_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        return error_response(400, _field_message(list(exc.errors())))

    async def on_http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        return error_response(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    app.add_exception_handler(MiraklError, on_mirakl_error)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    app.add_exception_handler(StarletteHTTPException, on_http_error)
