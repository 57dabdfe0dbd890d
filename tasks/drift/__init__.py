"""Drift monitor tasks: read both sides and measure how far BigCommerce has drifted from Mirakl."""

from __future__ import annotations

from tasks.drift.collect import read_owned_variants
from tasks.drift.measure import DriftFindings, measure_drift

__all__ = ["DriftFindings", "measure_drift", "read_owned_variants"]
