"""The carrier list's version and stale episodes: what lets the shipment sync alert a stale SH21 list once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from connectors.state import claim_stale_alert, get_carrier_list, record_carrier_list, record_carrier_list_failure

T0 = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
REMINDER = timedelta(hours=24)
MINUTE = timedelta(minutes=1)


def _fail(session: Session, at: datetime) -> None:
    record_carrier_list_failure(session, "SH21", "ServerError: 503", at)
    session.commit()


def test_a_list_is_a_new_version_only_when_its_codes_change(session: Session) -> None:
    record_carrier_list(session, "SH21", {"UPS": "UPS"}, T0)
    record_carrier_list(session, "SH21", {"UPS": "UPS"}, T0 + timedelta(days=1))
    same = get_carrier_list(session, "SH21")
    assert same is not None and same.version == 1 and same.fetched_at == T0 + timedelta(days=1)
    record_carrier_list(session, "SH21", {"UPS": "UPS", "FEDEX": "FedEx"}, T0 + timedelta(days=2))
    changed = get_carrier_list(session, "SH21")
    assert changed is not None and changed.version == 2


def test_a_stale_episode_starts_at_the_first_failure_and_is_claimed_once_then_after_the_reminder(
    session: Session,
) -> None:
    record_carrier_list(session, "SH21", {"UPS": "UPS"}, T0)
    assert not claim_stale_alert(session, "SH21", T0, REMINDER)  # fresh: nothing to alert
    _fail(session, T0 + timedelta(days=1))
    _fail(session, T0 + timedelta(days=1, minutes=5))
    kept = get_carrier_list(session, "SH21")
    assert kept is not None and kept.stale_since == T0 + timedelta(days=1) and kept.carriers == {"UPS": "UPS"}

    first_alert = T0 + timedelta(days=1)
    assert claim_stale_alert(session, "SH21", first_alert, REMINDER)
    assert not claim_stale_alert(session, "SH21", first_alert + 5 * MINUTE, REMINDER)
    assert not claim_stale_alert(session, "SH21", first_alert + REMINDER - MINUTE, REMINDER)
    assert claim_stale_alert(session, "SH21", first_alert + REMINDER, REMINDER)


def test_a_good_read_closes_the_episode_so_the_next_failure_is_alerted_at_once(session: Session) -> None:
    _fail(session, T0)  # no list yet: an empty placeholder, stale from the start
    assert claim_stale_alert(session, "SH21", T0, REMINDER)
    record_carrier_list(session, "SH21", {"UPS": "UPS"}, T0 + timedelta(hours=2))
    fresh = get_carrier_list(session, "SH21")
    assert fresh is not None and fresh.version == 1
    assert (fresh.stale_since, fresh.stale_alerted_at, fresh.refresh_error) == (None, None, None)

    _fail(session, T0 + timedelta(days=1))
    assert claim_stale_alert(session, "SH21", T0 + timedelta(days=1), REMINDER)
    again = get_carrier_list(session, "SH21")
    assert again is not None and again.stale_since == T0 + timedelta(days=1)
