"""A seller feed is judged by its latest OF04 import: FAILED, or lines in error at or above the configured share,
fail it; fewer lines in error make it partial (Mirakl kept the good lines); a later clean import clears it."""

from __future__ import annotations

from datetime import UTC, datetime

from connectors.mirakl import OfferImport
from tasks.offers.sources import judge_feeds


def imp(import_id: int, shop: int, day: int, status: str, errors: int = 0, read: int = 10) -> OfferImport:
    return OfferImport(
        import_id=import_id,
        shop_id=shop,
        date_created=datetime(2026, 11, day, tzinfo=UTC),
        status=status,
        lines_read=read,
        lines_in_error=errors,
    )


def test_latest_import_decides_each_sellers_feed_and_lines_in_error_below_the_share_are_partial() -> None:
    imports = [
        imp(1, 10, 1, "FAILED"),
        imp(2, 10, 2, "COMPLETE"),
        imp(3, 11, 2, "COMPLETE", errors=4),
        imp(4, 12, 3, "FAILED"),
        imp(5, 13, 3, "COMPLETE", errors=10),
    ]
    failed, partial = judge_feeds(imports, failure_share=1.0)
    assert set(failed) == {12, 13}
    assert "FAILED" in failed[12]
    assert "10 of 10 lines in error" in failed[13]
    assert {shop: item.import_id for shop, item in partial.items()} == {11: 3}


def test_a_lower_failure_share_turns_a_partial_import_into_a_failed_feed() -> None:
    failed, partial = judge_feeds([imp(3, 11, 2, "COMPLETE", errors=4)], failure_share=0.4)
    assert list(failed) == [11] and partial == {}
    assert "40%" in failed[11]
