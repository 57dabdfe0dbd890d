"""A failed seller feed alerts once per failure episode, stays an open case, and closes when the feed recovers."""

from __future__ import annotations

from bridge.runtime import Runtime
from bridge.streams import Stream
from connectors.state import unresolved_cs_cases
from tasks.offers.feed_alerts import CASE_KIND, alert_feed_failures
from tasks.reporting import RunReport


def feed_alerts(report: RunReport) -> list[int]:
    return [a.payload["shop_id"] for a in report.alerts if a.event == "bcmirakl.feed.failed"]


async def test_a_feed_that_keeps_failing_alerts_once_and_again_only_after_recovering(runtime: Runtime) -> None:
    first, second, recovered, again = (RunReport(stream=Stream.OFFER_SYNC, title=str(n)) for n in range(4))
    alert_feed_failures(runtime.sessions, first, {2001: "import 3002 FAILED", 2002: "import 3003 has 7 lines in error"})
    alert_feed_failures(
        runtime.sessions, second, {2001: "import 3010 FAILED", 2002: "import 3003 has 7 lines in error"}
    )
    assert feed_alerts(first) == [2001, 2002]
    assert feed_alerts(second) == []
    with runtime.sessions() as session:
        assert sorted(c.key for c in unresolved_cs_cases(session) if c.kind == CASE_KIND) == ["shop:2001", "shop:2002"]

    alert_feed_failures(runtime.sessions, recovered, {2002: "import 3003 has 7 lines in error"})
    assert feed_alerts(recovered) == []
    assert "feed of shop 2001 recovered" in recovered.notes
    alert_feed_failures(runtime.sessions, again, {2001: "import 3020 FAILED", 2002: "import 3003 has 7 lines in error"})
    assert feed_alerts(again) == [2001]
