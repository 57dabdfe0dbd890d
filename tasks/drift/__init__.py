"""Drift monitor tasks: read both sides, measure how far BigCommerce has drifted from Mirakl, report it."""

from __future__ import annotations

from tasks.drift.collect import OwnedVariants, read_owned_variants
from tasks.drift.health import Drift, alert_breaches, find_drift, owned_variant_ids
from tasks.drift.measure import DriftFindings, measure_drift

__all__ = [
    "Drift",
    "DriftFindings",
    "OwnedVariants",
    "alert_breaches",
    "find_drift",
    "measure_drift",
    "owned_variant_ids",
    "read_owned_variants",
]
