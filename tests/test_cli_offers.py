"""`bcmirakl offers` and the other state-store commands read a store at the code's schema and never migrate it."""

from __future__ import annotations

from pathlib import Path

import pytest

from bcmirakl.cli import main
from connectors.state import create_state_engine, upgrade
from connectors.state.db import schema_revision


@pytest.fixture
def old_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    """A state store one migration behind the code, named by BCMIRAKL_DATABASE_URL."""
    url = f"sqlite:///{tmp_path / 'state.db'}"
    upgrade(url, "0001")
    monkeypatch.setenv("BCMIRAKL_DATABASE_URL", url)
    return url


def _revision(url: str) -> str | None:
    engine = create_state_engine(url)
    try:
        return schema_revision(engine)
    finally:
        engine.dispose()


@pytest.mark.parametrize(
    "argv",
    [["status"], ["offers", "held"], ["offers", "requeue", "--all"], ["report", "--days", "1"], ["carriers", "list"]],
    ids=" ".join,
)
def test_a_store_behind_the_code_stops_the_command_naming_db_upgrade_and_is_left_unmigrated(
    argv: list[str], old_store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("configuration error: state store ")
    assert "is at revision 0001" in err
    assert "run `bcmirakl db upgrade` with the same BCMIRAKL_DATABASE_URL" in err
    assert len(err.splitlines()) == 1  # one sentence, no traceback
    assert _revision(old_store) == "0001"


def test_after_db_upgrade_says_what_it_applied_the_offers_command_runs(
    old_store: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["db", "upgrade"]) == 0
    said = capsys.readouterr().out
    assert "migrated 0001 -> " in said and "applied 0002" in said

    assert main(["offers", "held"]) == 0
    assert "0 held offer push(es)" in capsys.readouterr().out
    assert main(["db", "upgrade"]) == 0
    assert "nothing to migrate" in capsys.readouterr().out
