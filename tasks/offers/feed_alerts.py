"""One alert per failed seller feed, not one per run: a failure is an open case until a good import arrives.

Offer sync runs every two minutes and the drift monitor every fifteen; both see a failed feed on every run. An
operator wants to hear about it once, see it as an open case in `bcmirakl status` while it lasts, and hear again
only if the feed fails anew after recovering. The case key is the shop, so a second failed import of a shop
whose case is still open raises nothing new.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from connectors.state import open_exception, open_exceptions, resolve_exception
from tasks.reporting import RunReport, emit_alert

__all__ = ["CASE_KIND", "CASE_STREAM", "alert_feed_failures"]

CASE_STREAM = "offer-sync"
CASE_KIND = "feed_failed"


def alert_feed_failures(sessions: sessionmaker[Session], report: RunReport, failed_feeds: dict[int, str]) -> None:
    """Open a case and alert for each newly failed feed; close the cases of shops whose feed recovered."""
    newly_failed: list[tuple[int, str]] = []
    with sessions() as session:
        for shop_id, reason in sorted(failed_feeds.items()):
            if open_exception(
                session, CASE_STREAM, f"shop:{shop_id}", CASE_KIND, {"shop_id": shop_id, "reason": reason}
            ):
                newly_failed.append((shop_id, reason))
        for case in open_exceptions(session, CASE_STREAM):
            if case.kind == CASE_KIND and int(case.key.split(":", 1)[1]) not in failed_feeds:
                resolve_exception(session, CASE_STREAM, case.key, CASE_KIND)
                report.notes.append(f"feed of shop {case.key.split(':', 1)[1]} recovered")
        session.commit()
    for shop_id, reason in newly_failed:
        emit_alert(report, "bcmirakl.feed.failed", f"bcmirakl.shop.{shop_id}", {"shop_id": shop_id, "reason": reason})
