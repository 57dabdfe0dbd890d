"""`bcmirakl status` shows the carrier list shipment sync checks codes against: version, age, stale since."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bcmirakl.cli import main
from bcmirakl.status import collect_status, render_status
from connectors.state import (
    claim_stale_alert,
    create_state_engine,
    record_carrier_list,
    record_carrier_list_failure,
    session_factory,
    upgrade,
)

NOW = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
READ_AT = NOW - timedelta(hours=30)
STALE_AT = NOW - timedelta(hours=6)


@pytest.fixture
def stale_store(tmp_path: Path) -> str:
    """SH21 read twice (two different lists), then refreshes failing for six hours, alerted once."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    upgrade(url)
    engine = create_state_engine(url)
    with session_factory(engine)() as session:
        record_carrier_list(session, "SH21", {"UPS": "UPS"}, READ_AT - timedelta(days=1))
        record_carrier_list(session, "SH21", {"UPS": "UPS", "FEDEX": "FedEx", "DHL": "DHL"}, READ_AT)
        record_carrier_list_failure(session, "SH21", "ServerError: 503", STALE_AT)
        record_carrier_list_failure(session, "SH21", "ServerError: 503", NOW - timedelta(minutes=5))
        claim_stale_alert(session, "SH21", STALE_AT, timedelta(hours=24))
        session.commit()
    engine.dispose()
    return url


def _carrier_line(text: str) -> list[str]:
    section = text.split("carrier list (what shipment sync checks carrier codes against):")[1]
    return next(line for line in section.splitlines() if line.startswith("SH21")).split()


def test_status_shows_a_stale_carrier_list_with_version_codes_and_since_when(stale_store: str) -> None:
    engine = create_state_engine(stale_store)
    try:
        with session_factory(engine)() as session:
            report = collect_status(session, [], now=NOW)
    finally:
        engine.dispose()
    [kept] = report.carrier_lists
    assert (kept.version, kept.codes, kept.fetched_at, kept.stale_since) == (2, 3, READ_AT, STALE_AT)
    assert kept.stale_alerted_at == STALE_AT
    assert _carrier_line(render_status(report)) == [
        "SH21",
        "stale:",
        "last",
        "good",
        "list",
        "in",
        "use",
        "2",
        "3",
        READ_AT.isoformat(timespec="seconds"),
        STALE_AT.isoformat(timespec="seconds"),
        STALE_AT.isoformat(timespec="seconds"),
    ]


def test_status_command_says_when_no_carrier_list_was_ever_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'empty.db'}"
    upgrade(url)
    engine = create_state_engine(url)
    with session_factory(engine)() as session:
        record_carrier_list_failure(session, "SH21", "ServerError: 503", NOW)
        session.commit()
    engine.dispose()
    monkeypatch.setenv("BCMIRAKL_DATABASE_URL", url)
    assert main(["status"]) == 0
    line = _carrier_line(capsys.readouterr().out)
    assert line[1:5] == ["never", "read:", "tracking", "held"]
    assert line[5:8] == ["0", "0", "-"]  # version 0, no code, never fetched
