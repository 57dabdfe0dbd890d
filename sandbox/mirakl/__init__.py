"""An in-memory Mirakl tenant (front and operator APIs) for the demo, the tests and the benchmarks.

Written from Mirakl's public specs and notes (shared/api/mirakl.md), never from the bridge's client: real
paths, payload shapes, both pagination schemes, error bodies and the order state machine, seeded from the
shared sandbox world. `/_sandbox/...` endpoints play the sellers' side and the passing of time.
"""

from __future__ import annotations

from sandbox.mirakl.app import create_mirakl_app
from sandbox.mirakl.settings import MiraklSandboxSettings
from sandbox.mirakl.store import MiraklStore

__all__ = ["MiraklSandboxSettings", "MiraklStore", "create_mirakl_app"]
