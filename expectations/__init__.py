"""Data-quality gates: the YAML suites and the one function every outgoing batch passes before a push.

Importing this package does not import Great Expectations; the first gate or suite load does.
"""

from __future__ import annotations

from expectations.gate import (
    FAILED_EXPECTATION_COLUMN,
    REASON_COLUMN,
    CircuitBreakerTripped,
    GateResult,
    Verdict,
    run_gate,
)
from expectations.suites.loader import SUITES_DIR, Suite, load_suite

__all__ = [
    "FAILED_EXPECTATION_COLUMN",
    "REASON_COLUMN",
    "SUITES_DIR",
    "CircuitBreakerTripped",
    "GateResult",
    "Suite",
    "Verdict",
    "load_suite",
    "run_gate",
]
