"""The data-quality suites, one YAML file per outgoing stream, and the loader that reads them."""

from __future__ import annotations

from expectations.suites.loader import SUITES_DIR, Suite, load_suite

__all__ = ["SUITES_DIR", "Suite", "load_suite"]
