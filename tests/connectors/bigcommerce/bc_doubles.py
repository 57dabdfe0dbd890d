"""Test doubles for the BigCommerce connector: sample payloads on disk, a fake clock, a scripted server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bigcommerce"
STORE = "abc123"
BASE = "https://api.bigcommerce.test"


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())


class FakeClock:
    """A monotonic clock that only moves when the code under test sleeps; every wait is recorded."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.waits: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds
