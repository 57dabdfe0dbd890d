"""The handbook names what the code emits: reconciliation classes here, table columns in the flow tests."""

from __future__ import annotations

from tasks.reconciliation.reconcile import CLASSES
from tests.handbook import handbook_classes, handbook_columns


def test_the_handbook_explains_exactly_the_reconciliation_classes_the_code_assigns() -> None:
    assert handbook_classes() == set(CLASSES)


def test_the_handbook_lists_columns_for_the_tables_operators_act_on() -> None:
    for key in ("drift-monitor-sellers", "offer-sync-delta-changes", "offer-sync-delta-sellers-failed"):
        assert len(handbook_columns(key)) >= 3, key
