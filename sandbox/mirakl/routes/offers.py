"""Offer APIs: exports OF51 (CSV), OF52/OF53/OF54 (async, CSV or JSON) and seller import reports OF02/OF04."""

from __future__ import annotations

import csv
import io
from datetime import datetime
from typing import Any

from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import Response

from sandbox.mirakl.bodies import ExportRequest
from sandbox.mirakl.catalog import CSV_COLUMNS, MODELS, MiraklOffer
from sandbox.mirakl.errors import MiraklError, read_body
from sandbox.mirakl.formats import MiraklJSONResponse, iso, parse_date, to_millis
from sandbox.mirakl.routes.params import date_param, seek_page, store_of

__all__ = ["router"]

router = APIRouter()

IMPORT_STATUSES = {"WAITING_SYNCHRONIZATION_PRODUCT", "WAITING", "RUNNING", "COMPLETE", "FAILED"}


def _csv(rows: list[dict[str, str]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, delimiter=";", restval="", lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue()


def _models_param(request: Request) -> frozenset[str] | None:
    """OF51 `models`: "A comma separated list of platform models to filter with"."""
    raw = request.query_params.get("models")
    if not raw:
        return None
    models = frozenset(value.strip() for value in raw.split(",") if value.strip())
    unknown = sorted(models - MODELS)
    if unknown:
        raise MiraklError(400, f"Error with field models. {unknown[0]} is not a valid platform model.")
    return models


@router.get("/api/offers/export")
async def export_offers_csv(request: Request) -> Response:
    """OF51: a delta since `last_request_date` (deleted and inactive included), else every active offer."""
    store = store_of(request)
    since = date_param(request, "last_request_date")
    include_inactive = request.query_params.get("include_inactive_offers", "false").lower() == "true"
    if since is not None and "include_inactive_offers" in request.query_params:
        raise MiraklError(400, "include_inactive_offers cannot be used with last_request_date")
    offers = store.catalog.select(since, include_inactive, _models_param(request))
    return Response(_csv([store.catalog.to_csv_row(o) for o in offers]), media_type="text/csv; charset=utf-8")


@router.post("/api/offers/export/async")
async def start_offer_export(request: Request) -> Response:
    """OF52: snapshot the requested offers now; chunks become downloadable once OF53 says COMPLETED."""
    store = store_of(request)
    body = await read_body(request, ExportRequest)
    since = to_millis(body.last_request_date) if body.last_request_date else None
    models = frozenset(body.models) if body.models else None
    offers: list[MiraklOffer] = store.catalog.select(since, body.include_inactive_offers, models)
    per_chunk = body.items_per_chunk or store.settings.items_per_chunk
    tracking_id = store.start_export(body.model_dump(mode="json"), offers, body.export_type, per_chunk)
    return MiraklJSONResponse({"tracking_id": tracking_id})


@router.get("/api/offers/export/async/status/{tracking_id}")
async def poll_offer_export(tracking_id: str, request: Request) -> Response:
    """OF53: PENDING on the first poll, COMPLETED with one absolute URL per chunk afterwards."""
    store = store_of(request)
    export = store.exports.get(tracking_id)
    if export is None:
        raise MiraklError(404, f"Export with tracking id {tracking_id} not found")
    export.polls += 1
    if export.polls > 1:
        export.status = "COMPLETED"
    body: dict[str, Any] = {"status": export.status, "last_updated": iso(export.created)}
    if export.status == "COMPLETED":
        base = (store.settings.chunk_base_url or store.settings.base_url).rstrip("/")
        body["urls"] = [f"{base}/api/offers/export/async/file/{tracking_id}/{n}" for n in range(export.chunk_count)]
    return MiraklJSONResponse(body)


@router.get("/api/offers/export/async/file/{tracking_id}/{chunk}")
async def download_offer_chunk(tracking_id: str, chunk: int, request: Request) -> Response:
    """OF54: one chunk, a JSON array of offers or a CSV file, per the export type."""
    export = store_of(request).exports.get(tracking_id)
    if export is None or export.status != "COMPLETED" or not 0 <= chunk < export.chunk_count:
        raise MiraklError(404, f"Export file {tracking_id}/{chunk} not found")
    rows = export.chunk(chunk)
    if export.export_type == "application/json":
        return MiraklJSONResponse(rows)
    return Response(_csv(rows), media_type="text/csv; charset=utf-8")


@router.get("/api/offers/imports/{import_id}")
async def get_offer_import(import_id: int, request: Request) -> Response:
    """OF02."""
    offer_import = store_of(request).imports.imports.get(import_id)
    if offer_import is None:
        raise MiraklError(404, f"Import with id {import_id} not found")
    return MiraklJSONResponse(offer_import.to_json(with_shop=False))


@router.get("/api/offers/imports/{import_id}/error_report")
async def get_offer_import_error_report(import_id: int, request: Request) -> Response:
    """OF03: the import's error report; the emulated sellers send CSV files, so the report is CSV.

    mmp-operator-openapi.json, OF03 200: content `application/octet-stream`, "a CSV, XLSX or XML file, depending on
    the file format provided by the seller". The spec does not say what an import without a report answers: the
    emulator answers 404, as for an unknown import.
    """
    offer_import = store_of(request).imports.imports.get(import_id)
    if offer_import is None or not offer_import.has_error_report:
        raise MiraklError(404, f"Error report for import {import_id} not found")
    return Response(offer_import.error_report_csv().encode("utf-8"), media_type="application/octet-stream")


def _import_filters(request: Request) -> dict[str, Any]:
    status = request.query_params.get("status")
    if status and status not in IMPORT_STATUSES:
        raise MiraklError(400, f"Error with field status. {status} is not a valid import status.")
    start, end = date_param(request, "start_date"), date_param(request, "end_date")
    shop_id = request.query_params.get("shop_id")
    return {
        "shop_id": int(shop_id) if shop_id and shop_id.isdigit() else None,
        "status": status,
        "mode": request.query_params.get("mode"),
        "origins": request.query_params.getlist("origins"),
        "start": iso(start),
        "end": iso(end),
    }


@router.get("/api/offers/imports")
async def list_offer_imports(request: Request) -> Response:
    """OF04: every shop's imports, newest first, seek-paged."""
    book = store_of(request).imports

    def accept_for(filters: dict[str, Any]) -> Any:
        start = parse_date(filters["start"]) if filters["start"] else None
        end = parse_date(filters["end"]) if filters["end"] else None

        def accept(key: tuple[int, int]) -> bool:
            item = book.imports[key[1]]
            created: datetime = item.date_created
            return (
                (filters["shop_id"] is None or item.shop_id == filters["shop_id"])
                and (not filters["status"] or item.status == filters["status"])
                and (not filters["mode"] or item.mode == filters["mode"])
                and (not filters["origins"] or item.origin in filters["origins"])
                and (start is None or created >= start)
                and (end is None or created <= end)
            )

        return accept

    body = seek_page(
        request,
        read_filters=_import_filters,
        keys_for=lambda _filters: book.keys,
        accept_for=accept_for,
        render=lambda key: book.imports[key[1]].to_json(with_shop=True),
        max_limit=100,
        descending=True,
    )
    return MiraklJSONResponse(body)
