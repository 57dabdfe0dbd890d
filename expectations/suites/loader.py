"""Reads a YAML data-quality suite and refuses any that Great Expectations would load only in part.

GX drops an expectation whose type it does not know (a typo, a custom class not imported) with nothing
but a log line, so a misspelt rule would silently weaken a gate: the loader compares the number of
expectations GX built with the number in the file. Suites are cached per process, and the folder is a
parameter so tests can load their own files.

A suite file holds::

    name: offers                      # must equal the file name
    meta: {threshold: 0.5, description: ...}
    expectations:
      - type: expect_column_values_to_be_between
        kwargs: {column: price, min_value: 0, strict_min: true}
        meta: {reason: price must be > 0}

Every failing expectation blocks its rows, so GX's `severity` is not accepted: a rule that should not
block does not belong in a gate.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from common.errors import ConfigurationError

if TYPE_CHECKING:
    from great_expectations import ExpectationSuite

__all__ = ["SUITES_DIR", "Suite", "load_suite"]

SUITES_DIR = Path(__file__).resolve().parent

_NAME = re.compile(r"[a-z][a-z0-9_]*")
_EXPECTATION_KEYS = frozenset({"type", "kwargs", "meta"})
_COLUMN_KWARGS = ("column", "column_A", "column_B")


@dataclass(frozen=True)
class Suite:
    """A loaded suite: GX's object plus what the gate needs before and after validating."""

    name: str
    threshold: float
    description: str
    columns: frozenset[str]
    gx_suite: ExpectationSuite

    def position(self, expectation_id: str | None) -> int:
        """Where an expectation sits in the file, so reports list failures in the order they were written."""
        return [expectation.id for expectation in self.gx_suite.expectations].index(expectation_id)


@functools.cache
def load_suite(name: str, directory: Path = SUITES_DIR) -> Suite:
    """Load `<directory>/<name>.yaml`; raise ConfigurationError if it is unknown, malformed or only partly loadable."""
    path = directory / f"{name}.yaml"
    if not _NAME.fullmatch(name) or not path.is_file():
        raise ConfigurationError(f"unknown data-quality suite {name!r} (no {name}.yaml in {directory})")
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"data-quality suite {name!r}: invalid YAML: {exc}") from exc
    threshold, description, entries = _check_shape(name, raw)
    return Suite(
        name=name,
        threshold=threshold,
        description=description,
        columns=frozenset(column for entry in entries for column in _columns_read(entry["kwargs"])),
        gx_suite=_build_gx_suite(name, entries),
    )


def _check_shape(name: str, raw: Any) -> tuple[float, str, list[dict[str, Any]]]:
    def fail(problem: str) -> ConfigurationError:
        return ConfigurationError(f"data-quality suite {name!r}: {problem}")

    if not isinstance(raw, dict):
        raise fail("the file must hold a mapping")
    if raw.get("name") != name:
        raise fail(f"its name field is {raw.get('name')!r}, not the file name")
    meta = raw.get("meta")
    if not isinstance(meta, dict):
        raise fail("meta (with threshold) is missing")
    threshold = meta.get("threshold")
    if isinstance(threshold, bool) or not isinstance(threshold, int | float) or not 0 <= threshold <= 1:
        raise fail(f"meta.threshold must be a failure share between 0 and 1, got {threshold!r}")
    entries = raw.get("expectations")
    if not isinstance(entries, list) or not entries:
        raise fail("expectations must be a non-empty list")
    for position, entry in enumerate(entries):
        if not isinstance(entry, dict) or set(entry) - _EXPECTATION_KEYS or "type" not in entry:
            raise fail(f"expectation #{position} must have a type and only {sorted(_EXPECTATION_KEYS)}")
        if not isinstance(entry.get("kwargs", {}), dict) or not isinstance(entry.get("meta", {}), dict):
            raise fail(f"expectation #{position} ({entry['type']}): kwargs and meta must be mappings")
    return float(threshold), str(meta.get("description", "")), entries


def _columns_read(kwargs: dict[str, Any]) -> list[str]:
    columns = [kwargs[key] for key in _COLUMN_KWARGS if key in kwargs]
    return columns + list(kwargs.get("column_list", []))


def _build_gx_suite(name: str, entries: list[dict[str, Any]]) -> ExpectationSuite:
    import great_expectations as gx

    suite = gx.ExpectationSuite(
        name=name,
        expectations=[
            {
                # GX leaves ids empty outside a stored context; the position lets results be matched back.
                "id": f"{name}#{position}",
                "type": entry["type"],
                "kwargs": entry.get("kwargs", {}),
                "meta": entry.get("meta", {}),
            }
            for position, entry in enumerate(entries)
        ],
    )
    if len(suite.expectations) != len(entries):
        built = {expectation.expectation_type for expectation in suite.expectations}
        dropped = [entry["type"] for entry in entries if entry["type"] not in built]
        raise ConfigurationError(
            f"data-quality suite {name!r}: GX built {len(suite.expectations)} of {len(entries)} expectations;"
            f" unknown or invalid: {dropped or 'see the GX log'}"
        )
    return suite
