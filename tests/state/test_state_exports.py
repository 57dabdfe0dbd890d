"""The package's `__all__` is the whole public API: every name resolves, and no repository function is left out."""

from __future__ import annotations

import importlib

import pytest

import connectors.state

REPOSITORY_MODULES = [
    "carrier_lists",
    "carriers",
    "cases",
    "cursors",
    "ledger",
    "offer_map",
    "order_map",
    "outbox",
    "quarantines",
]


def test_every_exported_name_resolves() -> None:
    missing = [name for name in connectors.state.__all__ if not hasattr(connectors.state, name)]
    assert missing == []


@pytest.mark.parametrize("module_name", REPOSITORY_MODULES)
def test_repository_functions_are_all_exported(module_name: str) -> None:
    module = importlib.import_module(f"connectors.state.{module_name}")
    assert set(module.__all__) - set(connectors.state.__all__) == set()
