"""Fakes shared by the Mirakl connector tests: a recording sleep, fixture loading, constants."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "mirakl"
BASE_URL = "https://acme.mirakl.net"
API_KEY = "test-front-key"


class RecordingSleep:
    """Stands in for asyncio.sleep: returns at once and remembers every requested wait."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    async def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)


def load_fixture(name: str) -> Any:
    text = (FIXTURES / name).read_text(encoding="utf-8")
    return json.loads(text) if name.endswith(".json") else text
