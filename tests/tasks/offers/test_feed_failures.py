"""A seller feed is judged by its latest OF04 import: FAILED or lines in error fail it, a clean one clears it."""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.mirakl import OfferImport
from tasks.offers.sources import feed_failures


def imp(import_id: int, shop: int, day: int, status: str, errors: int = 0) -> OfferImport:
    return OfferImport(
        import_id=import_id,
        shop_id=shop,
        date_created=datetime(2026, 11, day, tzinfo=UTC),
        status=status,
        lines_in_error=errors,
    )


def test_latest_import_decides_each_sellers_feed() -> None:
    failures = feed_failures(
        [imp(1, 10, 1, "FAILED"), imp(2, 10, 2, "COMPLETE"), imp(3, 11, 2, "COMPLETE", 4), imp(4, 12, 3, "FAILED")]
    )
    assert set(failures) == {11, 12}
    assert "4 lines in error" in failures[11]
    assert "FAILED" in failures[12]
