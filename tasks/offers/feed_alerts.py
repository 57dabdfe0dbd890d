"""One alert per failed seller feed, not one per run: a failure is an open case until a good import arrives.

Offer sync runs every two minutes and the drift monitor every fifteen; both see a failed feed on every run. An
operator wants to hear about it once, see it as an open case in `bcmirakl status` while it lasts, and hear again
only if the feed fails anew after recovering. The case key is the shop, so a second failed import of a shop
whose case is still open raises nothing new.
"""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from bridge.streams import Stream
from connectors.state import open_cs_case, resolve_cs_case, unresolved_cs_cases
from tasks.reporting import RunReport, emit_alert

__all__ = ["CASE_KIND", "alert_feed_failures"]

CASE_KIND = "feed_failed"


def alert_feed_failures(sessions: sessionmaker[Session], report: RunReport, failed_feeds: dict[int, str]) -> None:
    """Open a case and alert for each newly failed feed; close the cases of shops whose feed recovered."""
    newly_failed: list[tuple[int, str]] = []
    with sessions() as session:
        for shop_id, reason in sorted(failed_feeds.items()):
            if open_cs_case(
                session, Stream.OFFER_SYNC, f"shop:{shop_id}", CASE_KIND, {"shop_id": shop_id, "reason": reason}
            ):
                newly_failed.append((shop_id, reason))
        for case in unresolved_cs_cases(session, Stream.OFFER_SYNC):
            if case.kind == CASE_KIND and int(case.key.split(":", 1)[1]) not in failed_feeds:
                resolve_cs_case(session, Stream.OFFER_SYNC, case.key, CASE_KIND)
                report.notes.append(f"feed of shop {case.key.split(':', 1)[1]} recovered")
        session.commit()
    for shop_id, reason in newly_failed:
        emit_alert(report, "bcmirakl.feed.failed", f"bcmirakl.shop.{shop_id}", {"shop_id": shop_id, "reason": reason})
