"""Sample BigCommerce payloads on disk and the store the connector tests address."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "bigcommerce"
STORE = "abc123"
BASE = "https://api.bigcommerce.test"


def load_fixture(name: str) -> Any:
    return json.loads((FIXTURES / name).read_text())
