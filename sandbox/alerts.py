"""A webhook receiver standing in for the team's chat or paging tool, so alert automations can be tested.

Prefect's generic webhook notification POSTs a JSON body here; the receiver keeps every body in arrival order
and lists them back, which is how the end-to-end check and operators trying the sandbox see alerts arrive.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

__all__ = ["create_alerts_app"]


def create_alerts_app() -> FastAPI:
    app = FastAPI(title="alert receiver sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    received: list[dict[str, Any]] = []
    app.state.store = received

    @app.post("/hook")
    async def receive(request: Request) -> Response:
        try:
            body = await request.json()
        except ValueError:
            body = {"text": (await request.body()).decode("utf-8", "replace")}
        received.append({"received_at": datetime.now(UTC).isoformat(), "body": body})
        return JSONResponse({"status": "received"}, status_code=202)

    @app.get("/hook")
    async def listing() -> Response:
        return JSONResponse({"alerts": received, "total": len(received)})

    return app
