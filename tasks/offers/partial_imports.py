"""Partial seller imports: reported per seller with Mirakl's error report summarised, never treated as failed feeds.

An OF01/OF24 import with some lines in error is routine: Mirakl applies the lines in success and leaves the
offers of the lines in error as they were, so the seller's good offers stay on sale and only the lines in
error need the seller's attention. Each seller's latest partial import is an open case (`feed_partial`, shown
by `bcmirakl status`) whose detail holds the summary of its OF03 error report, so the report is downloaded
once per import, not on every two-minute run; the case closes when a later import is clean or fails outright.
Summaries carry line counts, line numbers and Mirakl's error messages: the seller's data, no customer data.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from prefect import task
from prefect.cache_policies import NO_CACHE

from bridge.runtime import Runtime
from bridge.streams import Stream
from common.errors import ApiError
from connectors.mirakl import ImportErrorReport, OfferImport
from connectors.state import open_cs_case, resolve_cs_case, unresolved_cs_cases
from tasks.reporting import Tally

__all__ = ["CASE_KIND", "PartialImport", "describe_partial_imports", "partial_imports_tally", "summarise_report"]

CASE_KIND = "feed_partial"
TOP_MESSAGES = 5
SAMPLE_LINES = 10
_log = logging.getLogger("bcmirakl.offers")


@dataclass
class PartialImport:
    """One seller's latest partial import, with what its error report says."""

    shop_id: int
    import_id: int
    lines_read: int
    lines_in_error: int
    report_path: str
    messages: dict[str, int] = field(default_factory=dict)
    error_lines: list[str] = field(default_factory=list)
    report_note: str | None = None

    def detail(self) -> dict[str, Any]:
        return {
            "shop_id": self.shop_id,
            "import_id": self.import_id,
            "lines_read": self.lines_read,
            "lines_in_error": self.lines_in_error,
            "report_path": self.report_path,
            "messages": self.messages,
            "error_lines": self.error_lines,
            "report_note": self.report_note,
        }


def summarise_report(report: ImportErrorReport) -> tuple[dict[str, int], list[str], str | None]:
    """The most frequent error messages with their counts, the first line numbers, and a note when unread."""
    if report.lines is None:
        return {}, [], f"error report is {report.media_type or 'not CSV'}: open it in the Mirakl back-office"
    messages = Counter(line.get("error-message", "").strip() or "(no message)" for line in report.lines)
    lines = [line.get("error-line", "") for line in report.lines[:SAMPLE_LINES]]
    return dict(messages.most_common(TOP_MESSAGES)), [line for line in lines if line], None


@task(cache_policy=NO_CACHE)
async def describe_partial_imports(rt: Runtime, partial: dict[int, OfferImport]) -> list[PartialImport]:
    """Each seller's latest partial import with its error report summarised (downloaded once per import)."""
    with rt.sessions() as session:
        known = {
            case.key: dict(case.detail or {})
            for case in unresolved_cs_cases(session, Stream.OFFER_SYNC)
            if case.kind == CASE_KIND
        }
    described: list[PartialImport] = []
    for shop_id, item in sorted(partial.items()):
        key = f"shop:{shop_id}"
        previous = known.get(key)
        if previous and previous.get("import_id") == item.import_id:
            described.append(_from_detail(previous))
            continue
        described.append(await _describe(rt, shop_id, item))
    with rt.sessions() as session:
        for entry in described:
            key = f"shop:{entry.shop_id}"
            if known.get(key, {}).get("import_id") != entry.import_id:
                resolve_cs_case(session, Stream.OFFER_SYNC, key, CASE_KIND)  # a newer partial import replaces it
                open_cs_case(session, Stream.OFFER_SYNC, key, CASE_KIND, entry.detail())
        for key in set(known) - {f"shop:{entry.shop_id}" for entry in described}:
            resolve_cs_case(session, Stream.OFFER_SYNC, key, CASE_KIND)
        session.commit()
    return described


async def _describe(rt: Runtime, shop_id: int, item: OfferImport) -> PartialImport:
    entry = PartialImport(
        shop_id, item.import_id, item.lines_read, item.lines_in_error, f"/api/offers/imports/{item.import_id}"
    )
    if not item.has_error_report:
        entry.report_note = "Mirakl has no error report for this import"
        return entry
    try:
        report = await rt.mirakl.get_offer_import_error_report(item.import_id)
    except ApiError as exc:
        # The report is a convenience for the seller's fix; its absence must not stop the offer sync.
        _log.warning("OF03 for import %s unavailable: %s", item.import_id, exc)
        entry.report_path += "/error_report"
        entry.report_note = f"error report unavailable ({type(exc).__name__}); retried with the next import"
        return entry
    entry.report_path = report.path
    entry.messages, entry.error_lines, entry.report_note = summarise_report(report)
    return entry


def _from_detail(detail: dict[str, Any]) -> PartialImport:
    return PartialImport(
        shop_id=int(detail["shop_id"]),
        import_id=int(detail["import_id"]),
        lines_read=int(detail["lines_read"]),
        lines_in_error=int(detail["lines_in_error"]),
        report_path=str(detail["report_path"]),
        messages={str(k): int(v) for k, v in (detail.get("messages") or {}).items()},
        error_lines=[str(line) for line in detail.get("error_lines") or []],
        report_note=detail.get("report_note"),
    )


def partial_imports_tally(partials: list[PartialImport]) -> Tally:
    """A `partial-imports` table (one row per seller) and a note each: the seller's other offers stay on sale."""
    tally = Tally(counts={"sellers_partial": len(partials)})
    tally.tables["partial-imports"] = [
        {
            "shop_id": p.shop_id,
            "import_id": p.import_id,
            "lines_read": p.lines_read,
            "lines_in_error": p.lines_in_error,
            "error_share": round(p.lines_in_error / p.lines_read, 3) if p.lines_read else 1.0,
            "top_errors": "; ".join(f"{message} (x{count})" for message, count in p.messages.items()),
            "error_lines": ",".join(p.error_lines),
            "error_report": p.report_path,
            "note": p.report_note or "",
        }
        for p in partials
    ]
    for p in partials:
        tally.notes.append(
            f"shop {p.shop_id}: import {p.import_id} is partial ({p.lines_in_error} of {p.lines_read} lines in "
            f"error); its other offers stay on sale, the lines in error are listed in {p.report_path}"
        )
    return tally
