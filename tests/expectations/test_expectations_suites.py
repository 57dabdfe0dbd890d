"""The suite loader accepts the shipped suites whole and refuses any file GX would load only in part."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from common.errors import ConfigurationError
from expectations import SUITES_DIR, load_suite

SHIPPED = {"offers": 0.5, "orders_out": 0.5, "refunds_out": 0.5, "reconciliation": 0.0}

VALID_ENTRY = "  - type: expect_column_values_to_not_be_null\n    kwargs: {column: x}\n    meta: {reason: x missing}\n"


def suite_text(name: str = "probe", meta: str = "{threshold: 0.2}", entries: str = VALID_ENTRY) -> str:
    return f"name: {name}\nmeta: {meta}\nexpectations:\n{entries}"


def test_suites_folder_holds_exactly_the_shipped_suites() -> None:
    assert {path.stem for path in SUITES_DIR.glob("*.yaml")} == set(SHIPPED)


@pytest.mark.parametrize(("name", "threshold"), sorted(SHIPPED.items()))
def test_shipped_suite_loads_every_expectation_with_a_reason(name: str, threshold: float) -> None:
    raw = yaml.safe_load((SUITES_DIR / f"{name}.yaml").read_text(encoding="utf-8"))

    suite = load_suite(name)

    assert suite.name == name
    assert suite.threshold == threshold
    assert suite.description
    assert len(suite.gx_suite.expectations) == len(raw["expectations"])
    assert all(expectation.meta.get("reason") for expectation in suite.gx_suite.expectations)


def test_offers_suite_reads_the_caller_computed_flags() -> None:
    assert load_suite("offers").columns == {
        "shop_id",
        "product_sku",
        "price",
        "price_below_ceiling",
        "quantity",
        "currency_ok",
        "shop_active",
        "price_change_ok",
    }


def test_loaded_suite_is_cached_per_process() -> None:
    assert load_suite("offers") is load_suite("offers")


def test_suite_from_injected_folder_loads(suites_dir: Callable[[str, str], Path]) -> None:
    folder = suites_dir("probe", suite_text())

    suite = load_suite("probe", folder)

    assert (suite.threshold, suite.columns) == (0.2, frozenset({"x"}))


def test_unknown_expectation_type_is_refused_not_dropped(suites_dir: Callable[[str, str], Path]) -> None:
    typo = "  - type: expect_column_values_to_not_be_nul\n    kwargs: {column: y}\n"
    folder = suites_dir("probe", suite_text(entries=VALID_ENTRY + typo))

    with pytest.raises(ConfigurationError, match=r"built 1 of 2 .*expect_column_values_to_not_be_nul"):
        load_suite("probe", folder)


@pytest.mark.parametrize("name", ["nope", "../suites/offers", "Offers", ""])
def test_unknown_or_unsafe_suite_name_is_refused(name: str) -> None:
    with pytest.raises(ConfigurationError, match="unknown data-quality suite"):
        load_suite(name)


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        (suite_text(name="other"), "not the file name"),
        (suite_text(meta="{description: no threshold}"), "meta.threshold"),
        (suite_text(meta="{threshold: 1.5}"), "meta.threshold"),
        (suite_text(meta="{threshold: high}"), "meta.threshold"),
        (suite_text(meta="{threshold: true}"), "meta.threshold"),
        ("name: probe\nexpectations: []\n", "meta"),
        (suite_text(entries="  []\n"), "non-empty list"),
        (suite_text(entries=VALID_ENTRY + "    severity: warning\n"), "only"),
        (suite_text(entries="  - kwargs: {column: x}\n"), "must have a type"),
        (suite_text(entries="  - type: expect_column_values_to_not_be_null\n    kwargs: [x]\n"), "mappings"),
        ("name: [probe\n", "invalid YAML"),
        ("- just a list\n", "mapping"),
    ],
)
def test_malformed_suite_file_is_a_configuration_error(
    suites_dir: Callable[[str, str], Path], text: str, problem: str
) -> None:
    folder = suites_dir("probe", text)

    with pytest.raises(ConfigurationError, match=problem):
        load_suite("probe", folder)
