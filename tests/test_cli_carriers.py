"""`bcmirakl carriers`: operations add a carrier mapping without a release, and held shipments go out again."""

from __future__ import annotations

from pathlib import Path

import pytest

from bcmirakl.cli import main
from bridge.streams import Stream
from connectors.state import (
    OutboxItem,
    claim_batch,
    create_state_engine,
    enqueue,
    list_carrier_overrides,
    mark_quarantined,
    session_factory,
    upgrade,
)
from connectors.state.db import schema_revision
from tasks.shipments.outbound import KIND


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    upgrade(url)  # the CLI reads a store at the code's schema, never migrates it (`bcmirakl db upgrade` does)
    monkeypatch.setenv("BCMIRAKL_DATABASE_URL", url)
    return url


def test_setting_an_override_saves_it_and_requeues_shipments_held_for_a_carrier(
    store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    engine = create_state_engine(store)
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions() as session:
        enqueue(session, Stream.SHIPMENT_SYNC, KIND, "ship:100-A", {"mirakl_order_id": "100-A"})
        enqueue(session, "offer_sync", "variant", "v:1", {"id": 1})
        held = claim_batch(session, Stream.SHIPMENT_SYNC, KIND, 10, "test")
        mark_quarantined(session, [item.id for item in held], "carrier 'gls' is not mapped")
        session.commit()

    assert main(["carriers", "set", "GLS", "--tracking-carrier", "gls", "--alias", "gls-de"]) == 0
    assert "1 held shipment update(s) requeued" in capsys.readouterr().out

    with sessions() as session:
        (override,) = list_carrier_overrides(session)
        assert (override.mirakl_code, override.tracking_carrier, override.aliases) == ("GLS", "gls", ["gls-de"])
        statuses = {item.idempotency_key: item.status for item in session.query(OutboxItem)}
    assert statuses == {"ship:100-A": "pending", "v:1": "pending"}
    engine.dispose()

    assert main(["carriers", "list"]) == 0
    listing = capsys.readouterr().out
    assert any(line.startswith("GLS") and "override" in line for line in listing.splitlines())


def test_an_override_needs_a_bigcommerce_name(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["carriers", "set", "GLS"]) == 2
    assert "give at least one BigCommerce name" in capsys.readouterr().out


def test_removing_an_unknown_override_says_so(store: str, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["carriers", "remove", "NOPE"]) == 1
    assert "not found" in capsys.readouterr().out


def test_setting_an_override_on_a_store_behind_the_code_writes_nothing_and_names_db_upgrade(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    upgrade(url, "0011_gates")  # one migration behind: the carrier list has no stale episode columns yet
    monkeypatch.setenv("BCMIRAKL_DATABASE_URL", url)

    assert main(["carriers", "set", "GLS", "--tracking-carrier", "gls"]) == 2
    err = capsys.readouterr().err
    assert "is at revision 0011_gates" in err and "run `bcmirakl db upgrade`" in err
    engine = create_state_engine(url)
    try:
        with session_factory(engine)() as session:
            assert list_carrier_overrides(session) == []  # nothing written, and the schema left as it was
        assert schema_revision(engine) == "0011_gates"
    finally:
        engine.dispose()
